package temporal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/sluice-ml/sluice/engine"
)

// Runner runs plans on Temporal from the machine that starts them: it
// records the run in the local store and reports it with the same events
// as a local run, while the stages run on workers.
type Runner struct {
	Client    client.Client
	TaskQueue string // "": DefaultTaskQueue
	// Executor decides the stages with the stage cache and records the
	// run (its Recorder, Cache, Artifacts, Events and Version are used as
	// a local run uses them); its stages do not run here.
	Executor *engine.Executor
	Options  RunOptions
	// Poll is how often the workflow's state is read while it runs (0: 250ms).
	Poll time.Duration
	// CancelWait is how long, once the run's context is cancelled, the
	// runner waits for the cancelled workflow to end before recording
	// the run as it stands (0: 30s).
	CancelWait time.Duration
}

// Run starts the workflow of a validated plan, follows it to its end and
// returns the run's record. Cancelling ctx cancels the workflow (its
// running stages are cancelled, no more start) and records the run
// cancelled. The error is non-nil when the run could not be decided or
// recorded, or the workflow not started (the run is then recorded
// failed); the run's own outcome is in Run.Status.
func (r *Runner) Run(ctx context.Context, plan *engine.Plan, opts engine.RunOptions) (*engine.Run, error) {
	if r.Client == nil || r.Executor == nil {
		return nil, errors.New("temporal runner: no client or executor")
	}
	wid := fmt.Sprintf("sluice-%s-%s", plan.Spec.Name, uuid.NewString())
	tr, stages, err := r.Executor.Track(ctx, plan, opts, func(run *engine.Run) {
		run.Engine, run.WorkflowID = engine.EngineTemporal, wid
	})
	if err != nil {
		return nil, err
	}
	q := r.TaskQueue
	if q == "" {
		q = DefaultTaskQueue
	}
	in := RunInput{Source: SourceOf(plan), Stages: NodesOf(stages), Options: r.Options}
	f := newFollower(tr)
	for _, s := range stages {
		f.retries[s.ID] = s.Retries
		if s.Cached {
			f.seen[s.ID] = true
		} else if s.FanOut {
			f.fanOut = append(f.fanOut, s.ID)
		}
	}
	wr, err := r.Client.ExecuteWorkflow(context.WithoutCancel(ctx), client.StartWorkflowOptions{ID: wid, TaskQueue: q}, WorkflowName, in)
	if err != nil {
		err = fmt.Errorf("start workflow on task queue %s: %w", q, err)
		for _, s := range stages {
			if !s.Cached {
				_ = tr.Failed(s.ID, err, 0)
			}
		}
		run, recErr := tr.End(ctx)
		if recErr != nil {
			return run, recErr
		}
		return run, err
	}

	var res RunResult
	var wfErr error
	done := make(chan struct{})
	go func() {
		wfErr = wr.Get(context.WithoutCancel(ctx), &res)
		close(done)
	}()
	poll := r.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var giveUp <-chan time.Time
	ctxDone := ctx.Done()
	ended := false
	for !ended {
		select {
		case <-done:
			ended = true
		case <-ctxDone:
			ctxDone = nil
			wait := r.CancelWait
			if wait <= 0 {
				wait = 30 * time.Second
			}
			giveUp = time.After(wait)
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := r.Client.CancelWorkflow(cctx, wid, ""); err != nil {
				tr.Logf(plan.Stages[0].Spec.ID, "cancel workflow %s: %v", wid, err)
			}
			cancel()
		case <-tick.C:
			f.poll(context.WithoutCancel(ctx), r.Client, wid)
		case <-giveUp:
			ended = true
		}
	}
	cancelled := ctx.Err() != nil
	select {
	case <-done:
		if wfErr != nil && workflowOutcome(wfErr, &res) {
			cancelled = true
		}
	default:
	}
	for _, o := range res.Stages {
		f.apply(o)
	}
	if wfErr != nil && !cancelled && len(res.Stages) == 0 {
		// The workflow failed before any stage ended (it could not plan).
		for _, s := range stages {
			if !f.seen[s.ID] {
				_ = tr.Failed(s.ID, fmt.Errorf("workflow %s: %w", wid, wfErr), 0)
			}
		}
	}
	endCtx := ctx
	if cancelled && ctx.Err() == nil {
		// Cancelled elsewhere (another client, Temporal's own tools).
		c, cancel := context.WithCancel(ctx)
		cancel()
		endCtx = c
	}
	return tr.End(endCtx)
}

// follower feeds what it reads of a running workflow to a Tracker.
type follower struct {
	tr       *engine.Tracker
	seen     map[string]bool           // stages whose outcome is recorded
	attempt  map[string]int            // the attempt last reported started
	printed  map[string]int            // log lines of that attempt already recorded
	failed   map[string]int            // the last attempt whose failure was logged
	lastLine map[string]engine.LogLine // the last line of the attempt recorded
	retries  map[string]int
	progress map[string]engine.Progress
	fanOut   []string // fan-out stages (pollFanOut)
}

// poll reads the stages finished so far (a query) and the running ones'
// attempts, progress and latest log lines (their heartbeats). Errors are
// passing: the next poll, or the workflow's result, puts things right.
func (f *follower) poll(ctx context.Context, c client.Client, wid string) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	desc, err := c.DescribeWorkflowExecution(qctx, wid, "")
	if err == nil {
		dc := converter.GetDefaultDataConverter()
		for _, pa := range desc.GetPendingActivities() {
			id := pa.GetActivityId()
			if f.seen[id] || pa.GetActivityType().GetName() != ActivityStage {
				continue
			}
			attempt := int(pa.GetAttempt())
			if lf := pa.GetLastFailure(); lf != nil && attempt > 1 && f.failed[id] < attempt-1 {
				f.failed[id] = attempt - 1
				var sf StageFailure
				if d := lf.GetApplicationFailureInfo().GetDetails(); d != nil && dc.FromPayloads(d, &sf) == nil {
					if f.attempt[id] != attempt-1 {
						f.printed[id] = 0 // an attempt not followed: all its lines are new
					}
					f.tailLines(id, sf.Logs)
				}
				f.tr.Logf(id, "attempt %d of %d failed: %s; retrying", attempt-1, f.retries[id]+1, lf.GetMessage())
			}
			if pa.GetState() != enumspb.PENDING_ACTIVITY_STATE_STARTED {
				continue
			}
			if f.attempt[id] != attempt {
				f.attempt[id] = attempt
				f.printed[id] = 0
				_ = f.tr.Started(id, attempt)
			}
			if pa.GetHeartbeatDetails() == nil {
				continue
			}
			var hb Heartbeat
			if err := dc.FromPayloads(pa.GetHeartbeatDetails(), &hb); err != nil {
				continue
			}
			f.lines(id, hb.First, hb.Lines)
			if hb.Progress != f.progress[id] {
				f.progress[id] = hb.Progress
				_ = f.tr.Progress(id, hb.Progress)
			}
		}
	}
	f.pollFanOut(qctx, c, wid)
	v, err := c.QueryWorkflow(qctx, wid, "", QueryState)
	if err != nil {
		return
	}
	var outs []StageOutcome
	if v.Get(&outs) != nil {
		return
	}
	for _, o := range outs {
		f.apply(o)
	}
}

// lines records the log lines from index first on that are not recorded yet.
func (f *follower) lines(id string, first int, lines []engine.LogLine) {
	done := f.printed[id]
	for i, l := range lines {
		if first+i < done {
			continue
		}
		f.tr.Log(l)
		f.lastLine[id] = l
		done = first + i + 1
	}
	f.printed[id] = done
}

// newFollower returns a follower feeding tr.
func newFollower(tr *engine.Tracker) *follower {
	return &follower{tr: tr, seen: map[string]bool{}, attempt: map[string]int{}, printed: map[string]int{}, failed: map[string]int{},
		lastLine: map[string]engine.LogLine{}, retries: map[string]int{}, progress: map[string]engine.Progress{}}
}

// tailLines records the last lines of an attempt that are not recorded
// yet: those after the last line already recorded (matched by time and
// text), or all of them if none matches.
func (f *follower) tailLines(id string, lines []engine.LogLine) {
	if f.printed[id] == 0 {
		for _, l := range lines {
			f.tr.Log(l)
			f.lastLine[id] = l
		}
		return
	}
	start := 0
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].Time.Equal(f.lastLine[id].Time) && lines[i].Text == f.lastLine[id].Text {
			start = i + 1
			break
		}
	}
	for _, l := range lines[start:] {
		f.tr.Log(l)
		f.lastLine[id] = l
	}
}

// apply records a stage's outcome once.
func (f *follower) apply(o StageOutcome) {
	if f.seen[o.Stage] {
		return
	}
	f.seen[o.Stage] = true
	took := time.Duration(o.Seconds * float64(time.Second))
	switch o.Status {
	case engine.StatusSucceeded, engine.StatusCached:
		if o.Result == nil {
			_ = f.tr.Failed(o.Stage, errors.New("the workflow reported no result"), took)
			return
		}
		r := o.Result
		if r.Report.Cached == "" {
			if f.attempt[o.Stage] != r.Attempt {
				f.attempt[o.Stage] = r.Attempt
				f.printed[o.Stage] = 0
				_ = f.tr.Started(o.Stage, r.Attempt)
			}
			f.lines(o.Stage, 0, r.Logs)
			if r.Dropped > 0 {
				f.tr.Logf(o.Stage, "(%d more lines were logged on worker %s and not kept)", r.Dropped, r.Worker)
			}
			r.Report.Seconds = o.Seconds
			if r.Progress != (engine.Progress{}) && r.Progress != f.progress[o.Stage] {
				_ = f.tr.Progress(o.Stage, r.Progress)
			}
		}
		_ = f.tr.Succeeded(o.Stage, &r.Report, r.Attempt)
	case engine.StatusSkipped:
		_ = f.tr.Skipped(o.Stage)
	case engine.StatusCancelled:
		if r := o.Result; r != nil && f.attempt[o.Stage] != 0 {
			f.lines(o.Stage, 0, r.Logs) // a fan-out stage's finished units
		}
		if f.attempt[o.Stage] == 0 {
			// Never started: the run's end marks it.
			f.seen[o.Stage] = false
			return
		}
		_ = f.tr.Failed(o.Stage, fmt.Errorf("%w while running", engine.ErrCancelled), took)
	case engine.StatusFailed, engine.StatusInterrupted, engine.StatusPending, engine.StatusRunning:
		// Failed; the workflow reports no other status as an outcome.
		if a := max(o.Attempt, 1); f.attempt[o.Stage] != a {
			f.attempt[o.Stage] = a
			f.printed[o.Stage] = 0
			_ = f.tr.Started(o.Stage, a)
		}
		f.tailLines(o.Stage, o.Logs)
		if r := o.Result; r != nil {
			f.lines(o.Stage, 0, r.Logs) // a fan-out stage's finished units
		}
		_ = f.tr.Failed(o.Stage, errors.New(o.Error), took)
	}
}

// workflowOutcome reads what a sluice.pipeline workflow that ended with
// wfErr left for its followers into res: the stages' outcomes, carried as
// the details of its cancellation or of its failure (none for any other
// error). It reports whether the workflow was cancelled.
func workflowOutcome(wfErr error, res *RunResult) (cancelled bool) {
	var app *sdktemporal.ApplicationError
	var ce *sdktemporal.CanceledError
	switch {
	case errors.As(wfErr, &ce):
		_ = ce.Details(res)
		return true
	case errors.As(wfErr, &app) && app.Type() == ErrTypeFailed:
		_ = app.Details(res)
	default:
		*res = RunResult{}
	}
	return false
}

// pollFanOut reads the progress and the new log lines of the running
// fan-out stages (the query QueryFanOut) and records them as heartbeats
// of an ordinary stage are. A stage that has not started answers with an
// error, and is asked again at the next poll.
func (f *follower) pollFanOut(ctx context.Context, c client.Client, wid string) {
	for _, id := range f.fanOut {
		if f.seen[id] {
			continue
		}
		v, err := c.QueryWorkflow(ctx, wid, "", QueryFanOut+id, f.printed[id])
		if err != nil {
			continue
		}
		var s FanOutState
		if v.Get(&s) != nil {
			continue
		}
		if f.attempt[id] != s.Attempt {
			f.attempt[id] = s.Attempt
			f.printed[id] = 0
			_ = f.tr.Started(id, s.Attempt)
		}
		f.lines(id, s.First, s.Lines)
		if s.Progress != f.progress[id] {
			f.progress[id] = s.Progress
			_ = f.tr.Progress(id, s.Progress)
		}
	}
}
