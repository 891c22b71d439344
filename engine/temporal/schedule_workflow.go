package temporal

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/timetable"
)

// ScheduledWorkflowName is the workflow a pipeline's Temporal Schedule
// starts at every tick (ScheduledWorkflow).
const ScheduledWorkflowName = "sluice.scheduled"

// scheduledStartKey is the search attribute Temporal sets on a workflow
// a Schedule starts: the tick it was started for.
var scheduledStartKey = sdktemporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// ScheduledInput is the input of ScheduledWorkflow: the pipeline as the
// client validated it, and its schedule, so each tick can work out its
// data interval.
type ScheduledInput struct {
	// Source is the pipeline; its trigger and logical time are set per
	// tick.
	Source   Source `json:"source"`
	Schedule string `json:"schedule"` // the file's schedule: expression
	Timezone string `json:"timezone"` // the file's timezone: (IANA name)
	// CatchupWindow is the Schedule's: a start later than this after its
	// tick cannot be the Schedule's own, so it was a backfill.
	CatchupWindow time.Duration `json:"catchup_window"`
	Options       RunOptions    `json:"options"`
}

// IntervalWorkflowID is the workflow id of the run of one data interval
// of a scheduled pipeline: one per pipeline and logical time, so an
// interval that a tick and a backfill both ask for runs once.
func IntervalWorkflowID(pipeline string, logical time.Time) string {
	return fmt.Sprintf("sluice-%s-interval-%s", pipeline, logical.UTC().Format(time.RFC3339))
}

// ScheduledWorkflow runs one data interval of a scheduled pipeline. The
// Schedule starts it at the interval's end (the tick, in
// TemporalScheduledStartTime); it works out the interval that ended
// there and runs PipelineWorkflow for it as a child whose id names the
// interval (IntervalWorkflowID). An interval whose run already succeeded
// is not run again (the child's id is reused only after a failure): the
// result then has status succeeded and no stages. Cancelling it (an
// overlap policy of cancel_running) cancels the child.
//
// The trigger recorded is schedule, or backfill when the workflow
// started later after its tick than the Schedule's catch-up window
// allows its own starts.
func ScheduledWorkflow(ctx workflow.Context, in ScheduledInput) (RunResult, error) {
	info := workflow.GetInfo(ctx)
	tick, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartKey)
	if !ok {
		tick = info.WorkflowStartTime // started by hand: the interval that ended last
	}
	src, err := intervalSource(in, tick, info.WorkflowStartTime)
	if err != nil {
		return RunResult{Status: engine.StatusFailed}, sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, err)
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            IntervalWorkflowID(src.Pipeline, src.Logical),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
	})
	var res RunResult
	err = workflow.ExecuteChildWorkflow(cctx, WorkflowName, RunInput{Source: src, Options: in.Options}).Get(ctx, &res)
	if sdktemporal.IsWorkflowExecutionAlreadyStartedError(err) {
		// This interval's run already succeeded (or is running).
		return RunResult{Status: engine.StatusSucceeded, Stages: []StageOutcome{}}, nil
	}
	return res, err
}

// intervalSource returns the source of the run for the data interval
// that ends at tick: the newest tick of the schedule at or before it
// (Temporal's calendar may round), and the one before as its logical
// time.
func intervalSource(in ScheduledInput, tick, started time.Time) (Source, error) {
	loc, err := time.LoadLocation(in.Timezone)
	if err != nil {
		return Source{}, fmt.Errorf("schedule of %s: timezone %q: %w", in.Source.Pipeline, in.Timezone, err)
	}
	tt, err := timetable.Parse(in.Schedule, loc)
	if err != nil {
		return Source{}, fmt.Errorf("schedule of %s: %w", in.Source.Pipeline, err)
	}
	end := tt.Prev(tick)
	logical := time.Time{}
	if !end.IsZero() {
		logical = tt.Prev(end.Add(-time.Nanosecond))
	}
	if logical.IsZero() {
		return Source{}, fmt.Errorf("schedule of %s: no interval ends at %s", in.Source.Pipeline, tick.Format(time.RFC3339))
	}
	src := in.Source
	src.Trigger = engine.TriggerSchedule
	if started.Sub(tick) > in.CatchupWindow+time.Minute {
		src.Trigger = engine.TriggerBackfill
	}
	src.Logical, src.IntervalStart, src.IntervalEnd = logical.UTC(), logical.UTC(), end.UTC()
	return src, nil
}
