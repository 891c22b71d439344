package temporal

import (
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/engine/timetable"
)

func dailyPlan(t *testing.T) *engine.Plan {
	t.Helper()
	plan, err := engine.LoadPlan(filepath.Join("..", "..", "sample-data", "scheduled", "daily_iris.yaml"), stages.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestScheduleOptionsOf(t *testing.T) {
	plan := dailyPlan(t)
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	o, err := ScheduleOptionsOf(plan, "", RunOptions{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "sluice-daily_iris" {
		t.Errorf("ID = %q, want sluice-daily_iris", o.ID)
	}
	if len(o.Spec.CronExpressions) != 1 || o.Spec.CronExpressions[0] != "0 0 * * *" || o.Spec.TimeZoneName != "UTC" {
		t.Errorf("spec = %+v, want cron 0 0 * * * in UTC", o.Spec)
	}
	// The file says catchup: all, overlap: skip.
	if o.CatchupWindow != catchupAll || o.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Errorf("policies = %v, %v; want a year, SKIP", o.CatchupWindow, o.Overlap)
	}
	act, ok := o.Action.(*client.ScheduleWorkflowAction)
	if !ok || act.Workflow != ScheduledWorkflowName || act.TaskQueue != DefaultTaskQueue || len(act.Args) != 1 {
		t.Fatalf("action = %+v", o.Action)
	}
	in := act.Args[0].(ScheduledInput)
	if in.Schedule != "@daily" || in.Timezone != "UTC" || in.Source.Pipeline != "daily_iris" || in.Source.Spec == "" || in.Source.Trigger != engine.TriggerSchedule || !in.Source.Logical.IsZero() {
		t.Errorf("input = %+v", in)
	}

	for _, tt := range []struct {
		name    string
		expr    string
		tz      string
		catchup engine.Catchup
		overlap engine.Overlap
		check   func(client.ScheduleOptions) string
	}{
		{"every", "@every 15m", "UTC", engine.CatchupLatest, engine.OverlapQueue, func(o client.ScheduleOptions) string {
			if len(o.Spec.Intervals) != 1 || o.Spec.Intervals[0].Every != 15*time.Minute || o.Spec.Intervals[0].Offset != 0 {
				return "want one 15m interval from the epoch"
			}
			if o.CatchupWindow != 15*time.Minute || o.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL {
				return "want a 15m window and BUFFER_ALL"
			}
			return ""
		}},
		{"cron in a zone", "0 9 * * 1-5", "Europe/London", engine.CatchupNone, engine.OverlapCancelRunning, func(o client.ScheduleOptions) string {
			if o.Spec.CronExpressions[0] != "0 9 * * 1-5" || o.Spec.TimeZoneName != "Europe/London" {
				return "want the cron expression in Europe/London"
			}
			if o.CatchupWindow != catchupNone || o.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER {
				return "want a 10s window and CANCEL_OTHER"
			}
			return ""
		}},
		{"hourly latest", "@hourly", "UTC", engine.CatchupLatest, engine.OverlapSkip, func(o client.ScheduleOptions) string {
			if o.Spec.CronExpressions[0] != "0 * * * *" || o.CatchupWindow != time.Hour {
				return "want 0 * * * * and a one-hour window"
			}
			return ""
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := *plan
			spec := *p.Spec
			loc, err := time.LoadLocation(tt.tz)
			if err != nil {
				t.Fatal(err)
			}
			spec.Automation.Schedule = mustTimetable(t, tt.expr, loc)
			spec.Automation.Location = loc
			spec.Automation.Catchup, spec.Automation.Overlap = tt.catchup, tt.overlap
			p.Spec = &spec
			o, err := ScheduleOptionsOf(&p, "q", RunOptions{}, now)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(o); msg != "" {
				t.Errorf("%s: got spec %+v, window %v, overlap %v", msg, o.Spec, o.CatchupWindow, o.Overlap)
			}
		})
	}
}

// TestScheduledWorkflow: a tick runs the pipeline workflow as a child
// for the interval that ended at the tick, named by that interval, with
// the trigger schedule, or backfill when it started past the catch-up
// window.
func TestScheduledWorkflow(t *testing.T) {
	plan := dailyPlan(t)
	o, err := ScheduleOptionsOf(plan, "", RunOptions{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in := o.Action.(*client.ScheduleWorkflowAction).Args[0].(ScheduledInput)
	in.CatchupWindow = catchupNone
	tick := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		started time.Time
		want    engine.Trigger
	}{
		{"on time", tick.Add(2 * time.Second), engine.TriggerSchedule},
		{"a day late", tick.Add(24 * time.Hour), engine.TriggerBackfill},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterWorkflowWithOptions(ScheduledWorkflow, workflow.RegisterOptions{Name: ScheduledWorkflowName})
			var got RunInput
			var gotID string
			env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in RunInput) (RunResult, error) {
				got, gotID = in, workflow.GetInfo(ctx).WorkflowExecution.ID
				return RunResult{Status: engine.StatusSucceeded, Stages: []StageOutcome{{Stage: "extract", Status: engine.StatusSucceeded}}}, nil
			}, workflow.RegisterOptions{Name: WorkflowName})
			env.SetStartTime(tt.started)
			if err := env.SetTypedSearchAttributesOnStart(sdktemporal.NewSearchAttributes(scheduledStartKey.ValueSet(tick))); err != nil {
				t.Fatal(err)
			}
			env.ExecuteWorkflow(ScheduledWorkflowName, in)
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var res RunResult
			if err := env.GetWorkflowResult(&res); err != nil || res.Status != engine.StatusSucceeded || len(res.Stages) != 1 {
				t.Fatalf("result %+v, %v", res, err)
			}
			logical := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
			src := got.Source
			if !src.Logical.Equal(logical) || !src.IntervalStart.Equal(logical) || !src.IntervalEnd.Equal(tick) || src.Trigger != tt.want {
				t.Errorf("child source: logical %v [%v, %v) trigger %s; want %v [%v, %v) %s", src.Logical, src.IntervalStart, src.IntervalEnd, src.Trigger, logical, logical, tick, tt.want)
			}
			if want := IntervalWorkflowID("daily_iris", logical); gotID != want {
				t.Errorf("child id %q, want %q", gotID, want)
			}
			// The worker rebuilds the same plan for that interval.
			p, err := src.Plan(stages.Registry())
			if err != nil {
				t.Fatal(err)
			}
			if p.Spec.Context.Logical.Format("2006-01-02") != "2025-03-01" {
				t.Errorf("plan's logical time %v", p.Spec.Context.Logical)
			}
		})
	}
}

func TestIntervalSourceErrors(t *testing.T) {
	in := ScheduledInput{Source: Source{Pipeline: "p"}, Schedule: "@daily", Timezone: "Mars/Olympus"}
	if _, err := intervalSource(in, time.Now(), time.Now()); err == nil {
		t.Error("an unknown time zone was accepted")
	}
	in.Timezone, in.Schedule = "UTC", "not cron"
	if _, err := intervalSource(in, time.Now(), time.Now()); err == nil {
		t.Error("a bad schedule was accepted")
	}
}

func mustTimetable(t *testing.T, expr string, loc *time.Location) *timetable.Timetable {
	t.Helper()
	tt, err := timetable.Parse(expr, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}
