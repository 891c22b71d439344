package temporal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/timetable"
)

// Catch-up windows of the Schedules, per the file's catchup: (Temporal
// runs a missed tick only while it is younger than the window).
const (
	// catchupNone: Temporal's smallest window; a tick missed by more is
	// skipped.
	catchupNone = 10 * time.Second
	// catchupAll: a year, Temporal's own default.
	catchupAll = 365 * 24 * time.Hour
)

// ScheduleID returns the id of a pipeline's Temporal Schedule.
func ScheduleID(pipeline string) string { return "sluice-" + pipeline }

// ScheduleOptionsOf returns the Temporal Schedule of a validated plan
// whose file has a schedule: (an error if it has none): the file's cron
// expression (presets spelled out) in its timezone, or @every as an
// interval from the Unix epoch as sluice counts it; its overlap: and
// catchup: mapped to an overlap policy and a catch-up window; and as its
// action ScheduledWorkflow on taskQueue ("" : DefaultTaskQueue), which
// runs each interval with the pipeline's text as validated here. now is
// when the catch-up window of catchup: latest is measured (one period
// of the schedule from now).
//
// The mapping: overlap skip → SKIP, queue → BUFFER_ALL, cancel_running →
// CANCEL_OTHER; catchup none → 10 s, latest → one period, all → a year.
func ScheduleOptionsOf(plan *engine.Plan, taskQueue string, opts RunOptions, now time.Time) (client.ScheduleOptions, error) {
	a := plan.Spec.Automation
	if a.Schedule == nil {
		return client.ScheduleOptions{}, fmt.Errorf("%s: no schedule: to put on Temporal", plan.Spec.File)
	}
	if taskQueue == "" {
		taskQueue = DefaultTaskQueue
	}
	loc := a.Location
	if loc == nil {
		loc = time.UTC
	}
	spec, err := scheduleSpec(a.Schedule.String(), loc)
	if err != nil {
		return client.ScheduleOptions{}, fmt.Errorf("%s: %w", plan.Spec.File, err)
	}
	window := catchupWindow(a.Catchup, a.Schedule, now)
	src := SourceOf(plan)
	src.Trigger, src.Logical, src.IntervalStart, src.IntervalEnd, src.TriggerFile = engine.TriggerSchedule, time.Time{}, time.Time{}, time.Time{}, ""
	name := plan.Spec.Name
	return client.ScheduleOptions{
		ID:   ScheduleID(name),
		Spec: spec,
		Action: &client.ScheduleWorkflowAction{
			ID:        "sluice-" + name + "-scheduled",
			Workflow:  ScheduledWorkflowName,
			TaskQueue: taskQueue,
			Args: []any{ScheduledInput{
				Source: src, Schedule: a.Schedule.String(), Timezone: loc.String(),
				CatchupWindow: window, Options: opts,
			}},
		},
		Overlap:       overlapPolicy(a.Overlap),
		CatchupWindow: window,
		Note:          fmt.Sprintf("sluice pipeline %s (%s), schedule %q in %s", name, plan.Spec.File, a.Schedule.String(), loc),
	}, nil
}

// scheduleSpec turns a schedule expression into Temporal's terms.
func scheduleSpec(expr string, loc *time.Location) (client.ScheduleSpec, error) {
	if arg, ok := strings.CutPrefix(expr, "@every"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(arg))
		if err != nil {
			return client.ScheduleSpec{}, fmt.Errorf("schedule %q: %w", expr, err)
		}
		// sluice anchors @every at the Unix epoch, as Temporal's
		// intervals do: both tick at the same instants.
		return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: d}}}, nil
	}
	cron := expr
	if strings.HasPrefix(expr, "@") {
		c, ok := timetable.Presets[expr]
		if !ok {
			return client.ScheduleSpec{}, fmt.Errorf("schedule %q: unknown preset", expr)
		}
		cron = c
	}
	return client.ScheduleSpec{CronExpressions: []string{cron}, TimeZoneName: loc.String()}, nil
}

func overlapPolicy(o engine.Overlap) enumspb.ScheduleOverlapPolicy {
	switch o {
	case engine.OverlapQueue:
		return enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL
	case engine.OverlapCancelRunning:
		return enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER
	case engine.OverlapSkip:
	}
	return enumspb.SCHEDULE_OVERLAP_POLICY_SKIP // skip, the default
}

func catchupWindow(c engine.Catchup, tt *timetable.Timetable, now time.Time) time.Duration {
	switch c {
	case engine.CatchupNone:
		return catchupNone
	case engine.CatchupAll:
		return catchupAll
	case engine.CatchupLatest:
	}
	// latest, the default: one period, so only the newest missed tick is still young
	// enough (the one before is at least a period older).
	next := tt.Next(now)
	period := tt.Next(next).Sub(next)
	return max(period, catchupNone)
}

// PutSchedule creates the Schedule o describes, or, if one with its id
// exists, replaces its spec, action and policies (its paused state and
// note of running stay). It reports whether it created it.
func PutSchedule(ctx context.Context, c client.Client, o client.ScheduleOptions) (created bool, err error) {
	_, err = c.ScheduleClient().Create(ctx, o)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, sdktemporal.ErrScheduleAlreadyRunning) {
		return false, fmt.Errorf("create schedule %s: %w", o.ID, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, o.ID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			spec := o.Spec
			s.Spec = &spec
			s.Action = o.Action
			s.Policy = &client.SchedulePolicies{Overlap: o.Overlap, CatchupWindow: o.CatchupWindow, PauseOnFailure: o.PauseOnFailure}
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("update schedule %s: %w", o.ID, err)
	}
	return false, nil
}

// Backfill asks the Schedule of a pipeline to run the data intervals
// whose logical times are logicals (ticks of tt, oldest first), through
// Temporal's backfill: it starts the ticks that end them, one after
// another (BUFFER_ALL). Intervals whose run already succeeded are not
// run again (see ScheduledWorkflow). The Schedule must exist.
func Backfill(ctx context.Context, c client.Client, pipeline string, tt *timetable.Timetable, logicals []time.Time) error {
	if len(logicals) == 0 {
		return nil
	}
	h := c.ScheduleClient().GetHandle(ctx, ScheduleID(pipeline))
	if _, err := h.Describe(ctx); err != nil {
		return fmt.Errorf("schedule %s: %w (create it with sluice schedule --engine temporal first)", ScheduleID(pipeline), err)
	}
	first, last := tt.Next(logicals[0]), tt.Next(logicals[len(logicals)-1])
	err := h.Backfill(ctx, client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{{
		Start: first, End: last, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	}}})
	if err != nil {
		return fmt.Errorf("backfill schedule %s: %w", ScheduleID(pipeline), err)
	}
	return nil
}
