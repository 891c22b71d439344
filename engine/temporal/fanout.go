package temporal

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-ml/sluice/engine"
)

// A stage whose type has an engine.FanOut (grid_search, random_search,
// cross_validate) does not run as one activity. runFanOut runs it in three
// steps: the activity "sluice.units" lists its units (one per candidate ×
// fold fit); child workflows "sluice.chunk", each holding at most
// maxChunkUnits of them, run them as activities "sluice.unit" (a few
// units each in a large fan-out) on any worker, reporting to the parent at
// most once a second; then the activity "sluice.reduce" ranks the results
// and refits the best, writing the stage's output as the activity
// "sluice.stage" does. The parent's history grows by a few events per
// chunk and report, a child's by a few per activity, so a 500-candidate ×
// 5-fold search (2,500 units, 25 chunks) stays far under Temporal's limits
// on history length and size.
//
// This file is the workflows' side: runFanOut and ChunkWorkflow, and the
// payloads between them. The activities a worker runs are in
// fanout_activity.go, its caches for them in fanout_cache.go, and the
// runs sync follower's reading of a fan-out's progress in runner.go
// (follower.pollFanOut).

// Names of the fan-out's workflow, activities, query and signal.
const (
	ActivityUnits  = "sluice.units"   // Activities.Units
	ActivityUnit   = "sluice.unit"    // Activities.Unit
	ActivityReduce = "sluice.reduce"  // Activities.Stage, with StageTask.Results
	WorkflowChunk  = "sluice.chunk"   // ChunkWorkflow
	QueryFanOut    = "sluice.fanout/" // + a stage's id: FanOutState of the stage, from a line on
	SignalUnits    = "sluice.units/"  // + a stage's id: UnitsDone, from a chunk to its parent
)

// maxChunkUnits bounds the units of one child workflow; minChunks is how
// many chunks a small fan-out is cut into at least (so its progress
// moves in steps smaller than the whole). A large fan-out runs a few
// units per activity, so that it makes about maxActivities activities:
// an activity costs tens of milliseconds of round trips, more than many
// a fit.
const (
	maxChunkUnits = 100
	minChunks     = 8
	maxActivities = 500
)

// maxFanOutLines bounds the log lines a fan-out stage's result carries
// (its units' lines, one per fit for a search, and Reduce's); maxResults
// bounds the bytes of the units' descriptors, and of their results handed
// to Reduce, in one payload (Temporal's limit is 2 MB): about 10,000 units
// of a search.
const (
	maxFanOutLines = 5000
	maxResults     = 1 << 20
)

// UnitsResult is the result of the activity "sluice.units".
type UnitsResult struct {
	Units    []json.RawMessage `json:"units,omitempty"`
	Logs     []engine.LogLine  `json:"logs,omitempty"`
	Progress engine.Progress   `json:"progress"` // how progress is counted, as Units announced it
	Timeout  time.Duration     `json:"timeout,omitempty"`
	// Cached is an earlier result that stands in for the stage (the
	// stage cache across machines): nothing runs.
	Cached *StageResult `json:"cached,omitempty"`
}

// UnitTask is the input of the activity "sluice.unit": a few consecutive
// units of a stage, the first at Index among its units.
type UnitTask struct {
	Task  StageTask         `json:"task"`
	Index int               `json:"index"`
	Units []json.RawMessage `json:"units"`
}

// UnitResult is its result: the units' results and the lines they logged.
type UnitResult struct {
	Results []json.RawMessage `json:"results"`
	Logs    []engine.LogLine  `json:"logs,omitempty"`
}

// ChunkInput is the input of ChunkWorkflow: units First.. of a stage,
// run for the workflow Parent.
type ChunkInput struct {
	Task    StageTask         `json:"task"`
	First   int               `json:"first"`
	Units   []json.RawMessage `json:"units"`
	Timeout time.Duration     `json:"timeout,omitempty"`
	Parent  string            `json:"parent"`
	Batch   int               `json:"batch,omitempty"` // units an activity runs (0: 1)
}

// ChunkResult is its result, also the details of its cancellation: the
// results of the units that finished (nil for the others), and the units
// finished and lines logged that no UnitsDone reported yet.
type ChunkResult struct {
	Results []json.RawMessage `json:"results"`
	Logs    []engine.LogLine  `json:"logs,omitempty"`
	Done    int               `json:"done"`
}

// UnitsDone is the signal SignalUnits+stage a chunk sends its parent, at
// most once a second while it runs: how many more of its units finished,
// and the lines they logged, so the run's progress and leaderboard move
// with the units, not with whole chunks.
type UnitsDone struct {
	Done int              `json:"done"`
	Logs []engine.LogLine `json:"logs,omitempty"`
}

// reportEvery is how often at most a chunk sends UnitsDone.
const reportEvery = time.Second

// FanOutState is what the query QueryFanOut+stage gives while a fan-out
// stage runs: its progress in units, and its log lines from the index
// asked for on (at most queryLines of them; First is that index).
type FanOutState struct {
	Attempt  int              `json:"attempt"`
	Progress engine.Progress  `json:"progress"`
	First    int              `json:"first"`
	Lines    []engine.LogLine `json:"lines,omitempty"`
	Total    int              `json:"total"` // lines so far
}

const queryLines = 1000

// runFanOut runs a fan-out stage (see above) and returns its result as
// the activity "sluice.stage" would, its log being the units' lines in
// the order the workflow learnt of them followed by Reduce's. A unit
// that fails (after its retries) fails the stage and cancels the others.
// Cancelling ctx cancels the running units; the stage then ends with a
// CanceledError whose details are a StageResult with the log of every
// unit that finished. The stage's timeout bounds the whole fan-out.
func runFanOut(ctx workflow.Context, task StageTask) (StageResult, error) {
	st := &fanState{}
	if err := workflow.SetQueryHandler(ctx, QueryFanOut+task.Stage, st.query); err != nil {
		return StageResult{}, err
	}
	var ur UnitsResult
	if err := workflow.ExecuteActivity(fanOutActivity(ctx, task, "units", 0), ActivityUnits, task).Get(ctx, &ur); err != nil {
		return StageResult{}, err
	}
	if ur.Cached != nil {
		return *ur.Cached, nil
	}
	st.started = true
	st.progress = ur.Progress
	if st.progress.Unit == "" {
		st.progress = engine.Progress{Total: int64(len(ur.Units)), Unit: "units"}
	}
	st.add(ur.Logs)

	work, stop := workflow.WithCancel(ctx)
	var timedOut bool
	if ur.Timeout > 0 {
		tctx, stopTimer := workflow.WithCancel(ctx)
		defer stopTimer()
		workflow.Go(tctx, func(gctx workflow.Context) {
			if workflow.NewTimer(gctx, ur.Timeout).Get(gctx, nil) == nil {
				timedOut = true
				stop()
			}
		})
	}
	// The chunks report finished units as they go (SignalUnits); the
	// rest comes with their results.
	units := workflow.GetSignalChannel(ctx, SignalUnits+task.Stage)
	take := func(u UnitsDone) {
		st.progress.Done += int64(u.Done)
		st.add(u.Logs)
	}
	rctx, stopReceiving := workflow.WithCancel(ctx)
	defer stopReceiving()
	workflow.Go(rctx, func(gctx workflow.Context) {
		for {
			var u UnitsDone
			if !units.Receive(gctx, &u) {
				return
			}
			take(u)
		}
	})
	// The chunks' ids start with this workflow's, as it was when the
	// stage started (recorded, so a replay names them the same).
	var wid string
	if err := workflow.SideEffect(ctx, func(ctx workflow.Context) any { return workflow.GetInfo(ctx).WorkflowExecution.ID }).Get(&wid); err != nil {
		return StageResult{}, err
	}
	results := make([]json.RawMessage, len(ur.Units))
	var failure error
	sel := workflow.NewSelector(ctx)
	pending := 0
	size := chunkSize(len(ur.Units))
	for first := 0; first < len(ur.Units); first += size {
		last := min(first+size, len(ur.Units))
		cctx := workflow.WithChildOptions(work, workflow.ChildWorkflowOptions{
			WorkflowID:          fmt.Sprintf("%s/%s/%d-%d", wid, task.Stage, first+1, last),
			WaitForCancellation: true,
		})
		in := ChunkInput{Task: task, First: first, Units: ur.Units[first:last], Timeout: ur.Timeout, Parent: wid, Batch: batchSize(len(ur.Units))}
		pending++
		sel.AddFuture(workflow.ExecuteChildWorkflow(cctx, WorkflowChunk, in), func(f workflow.Future) {
			pending--
			var cr ChunkResult
			err := f.Get(ctx, &cr)
			var ce *sdktemporal.CanceledError
			if errors.As(err, &ce) {
				_ = ce.Details(&cr)
			} else if err != nil && failure == nil {
				failure = err
				stop()
			}
			for i, r := range cr.Results {
				if r != nil && first+i < len(results) {
					results[first+i] = r
				}
			}
			take(UnitsDone{Done: cr.Done, Logs: cr.Logs})
		})
	}
	for pending > 0 {
		sel.Select(ctx)
	}
	stop()
	// A chunk's reports reach this workflow before its end does.
	for {
		var u UnitsDone
		if !units.ReceiveAsync(&u) {
			break
		}
		take(u)
	}
	partial := StageResult{Stage: task.Stage, Attempt: 1, Logs: st.lines, Dropped: st.dropped}
	switch {
	case ctx.Err() != nil:
		return StageResult{}, sdktemporal.NewCanceledError(partial)
	case timedOut:
		return StageResult{}, sdktemporal.NewNonRetryableApplicationError(
			fmt.Sprintf("timed out after %s", ur.Timeout), ErrTypeStage, nil, partial)
	case failure != nil:
		return StageResult{}, sdktemporal.NewNonRetryableApplicationError(stageError(failure), ErrTypeStage, nil, partial)
	}
	n := 0
	for _, r := range results {
		n += len(r)
	}
	if n > maxResults {
		return StageResult{}, sdktemporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the %d units' results take %d bytes, more than the %d a payload may carry to Reduce", len(results), n, maxResults), ErrTypeStage, nil, partial)
	}
	rt := task
	rt.Results = results
	var res StageResult
	if err := workflow.ExecuteActivity(fanOutActivity(ctx, task, "reduce", ur.Timeout), ActivityReduce, rt).Get(ctx, &res); err != nil {
		if ctx.Err() != nil {
			return StageResult{}, sdktemporal.NewCanceledError(partial)
		}
		return StageResult{}, err
	}
	st.add(res.Logs)
	res.Logs, res.Dropped = st.lines, st.dropped+res.Dropped
	if res.Report.Progress == nil && res.Report.Cached == "" {
		p := st.progress // every unit done; Reduce counted nothing more
		res.Report.Progress = &p
	}
	res.Attempt = 1
	return res, nil
}

// chunkSize is how many units each child workflow runs: at most
// maxChunkUnits, and about a minChunks-th of a small fan-out's units.
func chunkSize(n int) int {
	chunks := max(minChunks, (n+maxChunkUnits-1)/maxChunkUnits)
	return min(maxChunkUnits, max(1, (n+chunks-1)/chunks))
}

// batchSize is how many units each activity "sluice.unit" runs.
func batchSize(n int) int { return max(1, (n+maxActivities-1)/maxActivities) }

// fanOutActivity gives a fan-out activity its options: retried as the
// stage's retries say (and a few more times for workers that vanish),
// heartbeating, bounded by the stage's timeout when it has one.
func fanOutActivity(ctx workflow.Context, task StageTask, what string, timeout time.Duration) workflow.Context {
	limit := noTimeout
	if timeout > 0 {
		limit = timeout + timeoutGrace
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ActivityID:          task.Stage + "/" + what,
		StartToCloseTimeout: limit,
		HeartbeatTimeout:    defaultHeartbeatTimeout,
		WaitForCancellation: true,
		RetryPolicy: &sdktemporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        int32(task.Retries + 1 + lostWorkerAttempts),
			NonRetryableErrorTypes: []string{ErrTypeInvalid},
		},
	})
}

// ChunkWorkflow runs some units of a fan-out stage, each as the activity
// "sluice.unit", all at once (the workers' slots bound how many run), and
// reports those that finish to its parent (UnitsDone) at most once a
// second. The first unit to fail cancels the others and fails the chunk.
// Cancelled, it ends with a CanceledError whose details are the
// ChunkResult of the units that finished.
func ChunkWorkflow(ctx workflow.Context, in ChunkInput) (ChunkResult, error) {
	res := ChunkResult{Results: make([]json.RawMessage, len(in.Units))}
	work, stop := workflow.WithCancel(ctx)
	defer stop()
	// Reports go out even once the chunk is cancelled, so what they carry
	// is not lost; the chunk ends only once they are delivered.
	report, _ := workflow.NewDisconnectedContext(ctx)
	sel := workflow.NewSelector(ctx)
	var failure error
	running, waiting := 0, 0
	sent, sentDone := 0, 0
	last := workflow.Now(ctx)
	timer := false
	flush := func() {
		if res.Done == sentDone || running == 0 || ctx.Err() != nil {
			return
		}
		u := UnitsDone{Done: res.Done - sentDone, Logs: res.Logs[sent:]}
		sent, sentDone, last = len(res.Logs), res.Done, workflow.Now(ctx)
		waiting++
		sel.AddFuture(workflow.SignalExternalWorkflow(report, in.Parent, "", SignalUnits+in.Task.Stage, u), func(f workflow.Future) {
			waiting--
			_ = f.Get(report, nil) // a report that does not arrive only delays the count
		})
	}
	b := max(in.Batch, 1)
	running = (len(in.Units) + b - 1) / b
	for i := 0; i < len(in.Units); i += b {
		batch := in.Units[i:min(i+b, len(in.Units))]
		actx := fanOutActivity(work, in.Task, fmt.Sprint(in.First+i+1), in.Timeout)
		sel.AddFuture(workflow.ExecuteActivity(actx, ActivityUnit, UnitTask{Task: in.Task, Index: in.First + i, Units: batch}), func(f workflow.Future) {
			running--
			var r UnitResult
			if err := f.Get(ctx, &r); err != nil {
				if failure == nil && !isCancelled(err) {
					failure = err
					stop()
				}
				return
			}
			copy(res.Results[i:i+len(batch)], r.Results)
			res.Logs = append(res.Logs, r.Logs...)
			res.Done += len(batch)
			if wait := reportEvery - workflow.Now(ctx).Sub(last); wait <= 0 {
				flush()
			} else if !timer && running > 0 {
				timer = true
				waiting++
				sel.AddFuture(workflow.NewTimer(work, wait), func(f workflow.Future) {
					waiting--
					timer = false
					flush()
				})
			}
		})
	}
	for running > 0 || waiting > 0 {
		if running == 0 && timer {
			stop() // every unit is done: the remainder goes with the result
		}
		sel.Select(ctx)
	}
	res.Logs, res.Done = res.Logs[sent:], res.Done-sentDone
	switch {
	case failure != nil:
		return res, failure
	case ctx.Err() != nil:
		return res, sdktemporal.NewCanceledError(res)
	}
	return res, nil
}

// fanState is a running fan-out stage as the workflow knows it.
type fanState struct {
	started  bool
	progress engine.Progress
	lines    []engine.LogLine
	dropped  int
}

func (s *fanState) add(lines []engine.LogLine) {
	for _, l := range lines {
		if len(s.lines) < maxFanOutLines {
			s.lines = append(s.lines, l)
		} else {
			s.dropped++
		}
	}
}

func (s *fanState) query(from int) (FanOutState, error) {
	if !s.started {
		return FanOutState{}, errors.New("the stage has not started")
	}
	from = min(max(from, 0), len(s.lines))
	to := min(from+queryLines, len(s.lines))
	return FanOutState{Attempt: 1, Progress: s.progress, First: from, Lines: s.lines[from:to], Total: len(s.lines)}, nil
}

// startFanOut runs a fan-out stage (runFanOut) in a workflow goroutine of
// its own and returns the future of its result.
func startFanOut(ctx workflow.Context, task StageTask) workflow.Future {
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) { set.Set(runFanOut(ctx, task)) })
	return f
}

// partialResult is what a fan-out stage that failed or was cancelled did
// before it stopped (the log of its finished units), or nil.
func partialResult(err error) *StageResult {
	var p StageResult
	var ce *sdktemporal.CanceledError
	var ae *sdktemporal.ApplicationError
	switch {
	case errors.As(err, &ce) && ce.HasDetails():
		if ce.Details(&p) != nil {
			return nil
		}
	case errors.As(err, &ae) && ae.HasDetails():
		if ae.Details(&p) != nil {
			return nil
		}
	default:
		return nil
	}
	if p.Stage == "" {
		return nil
	}
	return &p
}
