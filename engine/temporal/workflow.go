package temporal

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-ml/sluice/engine"
)

// Error types the activities return (temporal.ApplicationError's type).
const (
	ErrTypeStage   = "StageFailed"    // the stage's own error; retried as its retries say
	ErrTypeInvalid = "InvalidPlan"    // the file does not validate on the worker; never retried
	ErrTypeFailed  = "PipelineFailed" // the workflow's: a stage failed; details: RunResult
)

// lostWorkerAttempts is how many attempts beyond a stage's retries a stage
// gets for workers that died or fell silent under it.
const lostWorkerAttempts = 3

// noTimeout bounds an attempt of a stage without a timeout: a worker that
// dies is noticed by its heartbeat long before.
const noTimeout = 7 * 24 * time.Hour

// timeoutGrace is how much longer Temporal waits for an attempt than the
// stage's timeout, which the worker enforces itself (with a clear
// error): Temporal's timeout is the backstop for a worker that hangs.
const timeoutGrace = 10 * time.Second

// defaultHeartbeatTimeout is RunOptions.HeartbeatTimeout's default.
const defaultHeartbeatTimeout = 30 * time.Second

// PipelineWorkflow runs a pipeline's stages as activities, in the order
// their needs give: a stage starts once its inputs finished, independent
// stages run at once (up to Options.MaxParallel), a failed stage skips its
// dependents while independent branches finish, and cancelling the
// workflow cancels the running stages and starts no more. It returns a
// RunResult; a run with a failed stage ends with an ApplicationError of
// type ErrTypeFailed and a cancelled one with a CanceledError, both with
// the RunResult as details. The query QueryState gives the stages
// finished so far.
//
// It is deterministic (all I/O is in the activities): keep it so, and
// record a new history for the replay test when its commands change.
func PipelineWorkflow(ctx workflow.Context, in RunInput) (RunResult, error) {
	res := RunResult{Status: engine.StatusRunning, Stages: []StageOutcome{}}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() ([]StageOutcome, error) { return res.Stages, nil }); err != nil {
		return res, err
	}
	nodes := in.Stages
	if len(nodes) == 0 {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 10 * time.Minute,
			RetryPolicy:         &sdktemporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{ErrTypeInvalid}},
		})
		if err := workflow.ExecuteActivity(actx, ActivityPlan, in).Get(ctx, &nodes); err != nil {
			res.Status = engine.StatusFailed
			return res, err
		}
	}
	n := len(nodes)
	byID := make(map[string]int, n)
	for i, nd := range nodes {
		byID[nd.ID] = i
	}
	state := make([]engine.Status, n)
	outputs := make([]*engine.ArtifactInfo, n)
	prints := make([]string, n)
	for i, nd := range nodes {
		state[i] = engine.StatusPending
		prints[i] = nd.Fingerprint
		if nd.Cached {
			state[i] = engine.StatusCached
			outputs[i] = nd.Output
		}
	}
	ready := func(i int) (ok, blocked bool) {
		for _, in := range nodes[i].Needs {
			switch state[byID[in]] {
			case engine.StatusSucceeded, engine.StatusCached:
			case engine.StatusFailed, engine.StatusSkipped, engine.StatusCancelled, engine.StatusInterrupted:
				return false, true
			case engine.StatusPending, engine.StatusRunning:
				return false, false
			}
		}
		return true, false
	}
	sel := workflow.NewSelector(ctx)
	running := 0
	for {
		if ctx.Err() == nil {
			for i, nd := range nodes {
				if state[i] != engine.StatusPending {
					continue
				}
				ok, blocked := ready(i)
				if blocked {
					state[i] = engine.StatusSkipped
					res.Stages = append(res.Stages, StageOutcome{Stage: nd.ID, Status: engine.StatusSkipped, Error: "skipped: an input failed"})
					continue
				}
				if !ok || (in.Options.MaxParallel > 0 && running >= in.Options.MaxParallel) {
					continue
				}
				task := StageTask{Source: in.Source, Stage: nd.ID, Fingerprint: nd.Fingerprint, Reusable: nd.Reusable,
					Late: nd.Late, Retries: nd.Retries, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID}
				for _, need := range nd.Needs {
					j := byID[need]
					task.Inputs = append(task.Inputs, *outputs[j])
					task.Upstream = append(task.Upstream, prints[j])
				}
				state[i] = engine.StatusRunning
				running++
				began := workflow.Now(ctx)
				var started workflow.Future
				if nd.FanOut {
					started = startFanOut(ctx, task)
				} else {
					started = startStage(ctx, nd, task, in.Options)
				}
				sel.AddFuture(started, func(f workflow.Future) {
					running--
					var r StageResult
					err := f.Get(ctx, &r)
					out := StageOutcome{Stage: nd.ID, Seconds: workflow.Now(ctx).Sub(began).Seconds()}
					switch {
					case err == nil:
						out.Status, out.Result, out.Attempt = engine.StatusSucceeded, &r, r.Attempt
						if r.Report.Cached != "" {
							out.Status = engine.StatusCached
						}
						if ref, ok := r.Output(); ok {
							outputs[i] = &ref
						}
						if r.Report.Fingerprint != "" {
							prints[i] = r.Report.Fingerprint
						}
					case isCancelled(err):
						out.Status, out.Error = engine.StatusCancelled, "cancelled while running"
						out.Result = partialResult(err)
					default:
						f := stageFailure(err)
						out.Status, out.Error, out.Attempt, out.Logs = engine.StatusFailed, stageError(err), f.Attempt, f.Logs
						out.Result = partialResult(err)
					}
					state[i] = out.Status
					res.Stages = append(res.Stages, out)
				})
			}
		}
		if running == 0 {
			break
		}
		sel.Select(ctx)
	}
	res.Status = engine.StatusSucceeded
	for i, nd := range nodes {
		switch state[i] {
		case engine.StatusFailed:
			res.Status = engine.StatusFailed
		case engine.StatusPending:
			res.Stages = append(res.Stages, StageOutcome{Stage: nd.ID, Status: engine.StatusCancelled, Error: "not started: the run was cancelled"})
		case engine.StatusRunning, engine.StatusSucceeded, engine.StatusCancelled, engine.StatusSkipped, engine.StatusInterrupted, engine.StatusCached:
		}
	}
	switch {
	case res.Status == engine.StatusFailed:
		return res, sdktemporal.NewNonRetryableApplicationError("a stage failed", ErrTypeFailed, nil, res)
	case ctx.Err() != nil:
		res.Status = engine.StatusCancelled
		return res, sdktemporal.NewCanceledError(res)
	}
	return res, nil
}

// startStage starts one stage's activity.
func startStage(ctx workflow.Context, nd StageNode, task StageTask, opts RunOptions) workflow.Future {
	hb := opts.HeartbeatTimeout
	if hb <= 0 {
		hb = defaultHeartbeatTimeout
	}
	backoff := opts.RetryBackoff
	if backoff <= 0 {
		backoff = time.Second
	}
	limit := noTimeout
	if nd.Timeout > 0 {
		limit = nd.Timeout + timeoutGrace
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ActivityID:          nd.ID,
		StartToCloseTimeout: limit,
		HeartbeatTimeout:    hb,
		WaitForCancellation: true,
		RetryPolicy: &sdktemporal.RetryPolicy{
			InitialInterval:        backoff,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        int32(nd.Retries + 1 + lostWorkerAttempts),
			NonRetryableErrorTypes: []string{ErrTypeInvalid},
		},
	})
	return workflow.ExecuteActivity(actx, ActivityStage, task)
}

// isCancelled reports whether an activity's error is its cancellation.
func isCancelled(err error) bool {
	var ce *sdktemporal.CanceledError
	return errors.As(err, &ce)
}

// stageFailure is what a stage's error reports in its details (the zero
// StageFailure if nothing).
func stageFailure(err error) StageFailure {
	var app *sdktemporal.ApplicationError
	var f StageFailure
	if errors.As(err, &app) && app.HasDetails() {
		_ = app.Details(&f)
	}
	return f
}

// stageError is the message of an activity's failure as a stage's error:
// the stage's own message, or what Temporal gave up on.
func stageError(err error) string {
	var app *sdktemporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	var te *sdktemporal.TimeoutError
	if errors.As(err, &te) {
		if te.TimeoutType() == enumspb.TIMEOUT_TYPE_HEARTBEAT {
			return "its worker stopped heartbeating"
		}
		return fmt.Sprintf("timed out (%s)", te.TimeoutType())
	}
	return err.Error()
}
