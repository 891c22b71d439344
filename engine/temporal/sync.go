package temporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/sluice-ml/sluice/engine"
)

// Syncer imports into a local store the runs of sluice pipelines that
// ran on Temporal without this machine following them: intervals of
// Schedules, runs started from other machines. Each workflow of type
// sluice.pipeline becomes one run record, with its stages, metrics,
// logs and artifact references, engine temporal and its workflow id; a
// workflow the store already has a run for (any run with its id) is
// left alone, so syncing again imports nothing twice.
type Syncer struct {
	Client    client.Client
	Namespace string
	// TaskQueue, if set, limits the import to the workflows of that
	// task queue.
	TaskQueue string
	// Registry rebuilds each run's plan from the pipeline text its
	// workflow carries.
	Registry *engine.Registry
	// Executor records the runs: its Recorder (the local store) and
	// Version; its Cache should be nil, nothing is decided here.
	Executor *engine.Executor
	// Known returns the workflow ids the store has runs for.
	Known func(ctx context.Context) (map[string]bool, error)
	// Poll is how often a running workflow is read while it is followed,
	// and how often Follow looks for new workflows (0: 1s).
	Poll time.Duration
	Log  *slog.Logger // nil: discard
}

// ErrStopped reports a workflow whose following Sync stopped (its
// context done) before the workflow ended.
var ErrStopped = errors.New("stopped following a running workflow")

// SyncReport says what a Sync did.
type SyncReport struct {
	Imported []int64 // the local numbers of the runs imported, in order
	Known    int     // workflows the store had a run for before this sync
	Running  int     // workflows still running, not imported (no follow)
	Failed   int     // workflows that could not be imported (logged)
}

// Sync imports every closed sluice.pipeline workflow of the namespace
// that the store lacks, oldest first. With follow, it also imports the
// running ones and follows them, updating their records a few times a
// second (as sluice run does), until they end, and keeps looking for new
// workflows every Poll until ctx is done. A run still going then is
// left running in the store (the workflow itself is untouched): the
// store marks it interrupted at its next open, and the caller should
// move such runs aside so the next sync imports them anew.
func (s *Syncer) Sync(ctx context.Context, follow bool) (SyncReport, error) {
	var rep SyncReport
	if s.Client == nil || s.Executor == nil || s.Registry == nil || s.Known == nil {
		return rep, errors.New("temporal sync: no client, executor, catalog or store")
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	poll := s.Poll
	if poll <= 0 {
		poll = time.Second
	}
	type result struct {
		run *engine.Run
		err error
		wid string
	}
	following := map[string]bool{}
	done := make(chan result)
	pending := 0
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		known, err := s.Known(ctx)
		if err != nil {
			return rep, err
		}
		execs, err := s.list(ctx)
		if err != nil {
			if follow && ctx.Err() != nil {
				break
			}
			return rep, err
		}
		rep.Known, rep.Running = 0, 0
		for _, info := range execs {
			wid := info.GetExecution().GetWorkflowId()
			switch {
			case following[wid]:
				continue // imported (or being imported) by this sync
			case known[wid]:
				rep.Known++
				continue
			case info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && !follow:
				rep.Running++
				continue
			}
			if !follow {
				run, err := s.importRun(ctx, info)
				if err != nil {
					rep.Failed++
					log.Warn("cannot import", "workflow", wid, "error", err)
					continue
				}
				rep.Imported = append(rep.Imported, run.ID)
				log.Info("imported", "workflow", wid, "run", run.ID, "pipeline", run.Pipeline, "status", run.Status)
				continue
			}
			following[wid] = true
			pending++
			go func() {
				run, err := s.importRun(ctx, info)
				done <- result{run, err, wid}
			}()
		}
		if !follow {
			return rep, nil
		}
	wait:
		for {
			select {
			case r := <-done:
				pending--
				if errors.Is(r.err, ErrStopped) {
					continue
				}
				if r.err != nil {
					rep.Failed++
					log.Warn("cannot import", "workflow", r.wid, "error", r.err)
					delete(following, r.wid)
					continue
				}
				rep.Imported = append(rep.Imported, r.run.ID)
				log.Info("imported", "workflow", r.wid, "run", r.run.ID, "pipeline", r.run.Pipeline, "status", r.run.Status)
			case <-tick.C:
				break wait
			case <-ctx.Done():
				break wait
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	for ; pending > 0; pending-- {
		r := <-done
		if errors.Is(r.err, ErrStopped) {
			continue
		}
		if r.err != nil {
			rep.Failed++
			continue
		}
		rep.Imported = append(rep.Imported, r.run.ID)
	}
	return rep, nil
}

// list returns the namespace's sluice.pipeline workflows (of the task
// queue, if set), oldest first.
func (s *Syncer) list(ctx context.Context) ([]*workflowpb.WorkflowExecutionInfo, error) {
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	query := fmt.Sprintf("WorkflowType = '%s'", WorkflowName)
	if s.TaskQueue != "" {
		query += fmt.Sprintf(" AND TaskQueue = '%s'", strings.ReplaceAll(s.TaskQueue, "'", "''"))
	}
	for {
		resp, err := s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     s.Namespace,
			Query:         query,
			PageSize:      1000,
			NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list workflows: %w", err)
		}
		out = append(out, resp.GetExecutions()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b *workflowpb.WorkflowExecutionInfo) int {
		return a.GetStartTime().AsTime().Compare(b.GetStartTime().AsTime())
	})
	return out, nil
}

// input reads the RunInput a workflow was started with.
func (s *Syncer) input(ctx context.Context, wid, rid string) (RunInput, error) {
	var in RunInput
	it := s.Client.GetWorkflowHistory(ctx, wid, rid, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return in, errors.New("empty history")
	}
	ev, err := it.Next()
	if err != nil {
		return in, fmt.Errorf("read history: %w", err)
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return in, errors.New("history does not start with the workflow's start")
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(attrs.GetInput(), &in); err != nil {
		return in, fmt.Errorf("read input: %w", err)
	}
	return in, nil
}

// importRun records one workflow's run: rebuilt from the pipeline text
// it carries, fed with its stages' outcomes (followed while it runs),
// and ended with the workflow's times.
func (s *Syncer) importRun(ctx context.Context, info *workflowpb.WorkflowExecutionInfo) (*engine.Run, error) {
	wid, rid := info.GetExecution().GetWorkflowId(), info.GetExecution().GetRunId()
	in, err := s.input(ctx, wid, rid)
	if err != nil {
		return nil, err
	}
	plan, err := in.Source.Plan(s.Registry)
	if err != nil {
		return nil, fmt.Errorf("rebuild the plan of %s: %w", in.Source.File, err)
	}
	started := info.GetStartTime().AsTime().UTC()
	tr, stages, err := s.Executor.Track(ctx, plan, engine.RunOptions{}, func(r *engine.Run) {
		r.Engine, r.WorkflowID = engine.EngineTemporal, wid
		r.Started = started
	})
	if err != nil {
		return nil, err
	}
	f := newFollower(tr)
	for _, st := range stages {
		f.retries[st.ID] = st.Retries
		if st.FanOut {
			f.fanOut = append(f.fanOut, st.ID)
		}
	}
	// Stages the starting client took from its cache never run in the
	// workflow: they are recorded cached, with the output it named.
	for _, nd := range in.Stages {
		if !nd.Cached {
			continue
		}
		rep := &engine.StageReport{Cached: "cached when the run was started"}
		if nd.Output != nil {
			rep.Kind, rep.Artifacts = nd.Output.Kind, []engine.ArtifactInfo{*nd.Output}
		}
		_ = tr.Succeeded(nd.ID, rep, 0)
		f.seen[nd.ID] = true
	}
	poll := s.Poll
	if poll <= 0 {
		poll = time.Second
	}
	wr := s.Client.GetWorkflow(ctx, wid, rid)
	var res RunResult
	var wfErr error
	wait := make(chan struct{})
	go func() {
		wfErr = wr.Get(ctx, &res)
		close(wait)
	}()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	running := info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	for running {
		select {
		case <-wait:
			running = false
		case <-tick.C:
			f.poll(ctx, s.Client, wid)
		}
	}
	<-wait
	if wfErr != nil && ctx.Err() != nil && errors.Is(wfErr, ctx.Err()) {
		// Stopped following a workflow that still runs: the record is
		// left running, marked interrupted at the store's next open and
		// imported anew by the next sync.
		return nil, ErrStopped
	}
	cancelled := wfErr != nil && workflowOutcome(wfErr, &res)
	for _, o := range res.Stages {
		f.apply(o)
	}
	if wfErr != nil && !cancelled && len(res.Stages) == 0 {
		for _, st := range stages {
			if !f.seen[st.ID] {
				_ = tr.Failed(st.ID, fmt.Errorf("workflow %s: %w", wid, wfErr), 0)
			}
		}
	}
	endCtx := context.WithoutCancel(ctx)
	if cancelled {
		c, cancel := context.WithCancel(endCtx)
		cancel()
		endCtx = c
	}
	run, err := tr.End(endCtx)
	if err != nil {
		return run, err
	}
	return run, s.settleTimes(endCtx, wid, rid, run)
}

// settleTimes gives a run imported after its workflow ended the
// workflow's end time (and its stages times within it) instead of the
// time of the import.
func (s *Syncer) settleTimes(ctx context.Context, wid, rid string, run *engine.Run) error {
	desc, err := s.Client.DescribeWorkflowExecution(context.WithoutCancel(ctx), wid, rid)
	if err != nil || desc.GetWorkflowExecutionInfo().GetCloseTime() == nil {
		return nil // still running (cut short): the import's times stand
	}
	closed := desc.GetWorkflowExecutionInfo().GetCloseTime().AsTime().UTC()
	if !closed.Before(run.Finished) {
		return nil
	}
	run.Finished = closed
	run.Seconds = closed.Sub(run.Started).Seconds()
	for i := range run.Stages {
		st := &run.Stages[i]
		if st.Finished.After(closed) {
			st.Finished = closed
			st.Started = closed.Add(-time.Duration(st.Seconds * float64(time.Second)))
			if st.Started.Before(run.Started) {
				st.Started = run.Started
			}
		}
	}
	if rec := s.Executor.Recorder; rec != nil {
		if err := rec.RecordRun(context.WithoutCancel(ctx), run, &engine.RunDelta{}); err != nil {
			return fmt.Errorf("record run %d: %w", run.ID, err)
		}
	}
	return nil
}
