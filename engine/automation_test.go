package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

func TestAutomationKeysValidated(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	const stages = "stages:\n  - id: a\n    uses: sleep\n"
	tests := []struct {
		name, head, want string
	}{
		{"bad cron names the field", "name: p\nschedule: \"0 25 * * *\"\n", `p.yaml:2:14: schedule "0 25 * * *": hour field: "25"`},
		{"bad cron plain scalar", "name: p\nschedule: 0 0 * * 9\n", `p.yaml:2:19: schedule "0 0 * * 9": day of week field`},
		{"not a cron at all", "name: p\nschedule: nightly please\n", `p.yaml:2:11: schedule "nightly please": want 5 fields`},
		{"unknown preset", "name: p\nschedule: \"@fortnightly\"\n", "unknown preset"},
		{"bad every", "name: p\nschedule: \"@every soon\"\n", "@every soon: not a duration"},
		{"bad timezone", "name: p\nschedule: \"@daily\"\ntimezone: Mars/Olympus\n", `p.yaml:3:11: timezone "Mars/Olympus": not an IANA time zone name`},
		{"bad catchup", "name: p\nschedule: \"@daily\"\ncatchup: latests\n", `p.yaml:3:10: catchup wants one of none, latest, all, got the string "latests" (did you mean "latest"?)`},
		{"bad overlap", "name: p\nschedule: \"@daily\"\noverlap: wait\n", "overlap wants one of skip, queue, cancel_running"},
		{"catchup without schedule", "name: p\ncatchup: all\n", "p.yaml:2:1: catchup applies to a schedule or trigger"},
		{"trigger without files", "name: p\ntrigger: {settle: 5s}\n", "trigger is missing files"},
		{"trigger bad settle", "name: p\ntrigger: {files: \"in/*.csv\", settle: soon}\n", "trigger settle wants a duration"},
		{"trigger unknown field", "name: p\ntrigger: {file: \"in/*.csv\"}\n", `unknown trigger field "file" (did you mean "files"?)`},
		{"unknown template variable", "name: p\n" + "stages:\n  - id: a\n    uses: source\n    with: {path: \"raw/{{ dss }}.csv\"}\n", `p.yaml:5:18: stage a parameter path: unknown template variable {{ dss }} (did you mean {{ ds }}?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := tt.head
			if !strings.Contains(text, "stages:") {
				text += stages
			}
			_, err := engine.LoadPlan(writeSpec(t, text), reg.Registry, nil)
			if err == nil || !errors.Is(err, engine.ErrInvalid) {
				t.Fatalf("got %v, want an ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error\n%v\nwant it to contain\n%s", err, tt.want)
			}
		})
	}
}

func TestAutomationParsed(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	text := "name: p\nschedule: \"0 9 * * 1-5\"\ntimezone: Europe/Paris\ncatchup: all\noverlap: queue\ntrigger: {files: \"in/*.csv\", settle: 2s}\nstages:\n  - id: a\n    uses: sleep\n"
	plan, err := engine.LoadPlan(writeSpec(t, text), reg.Registry, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := plan.Spec.Automation
	if a.Schedule == nil || a.Schedule.String() != "0 9 * * 1-5" || a.Location.String() != "Europe/Paris" {
		t.Errorf("schedule = %v in %v, want 0 9 * * 1-5 in Europe/Paris", a.Schedule, a.Location)
	}
	if a.Catchup != engine.CatchupAll || a.Overlap != engine.OverlapQueue {
		t.Errorf("catchup, overlap = %s, %s; want all, queue", a.Catchup, a.Overlap)
	}
	if a.Trigger == nil || a.Trigger.Glob != "in/*.csv" || a.Trigger.Settle != 2*time.Second {
		t.Errorf("trigger = %+v, want in/*.csv settling 2s", a.Trigger)
	}
	plain := mustPlan(t, reg.Registry, "name: p\nschedule: \"@daily\"\nstages:\n  - id: a\n    uses: sleep\n").Spec.Automation
	if plain.Catchup != engine.CatchupLatest || plain.Overlap != engine.OverlapSkip || plain.Location != time.UTC {
		t.Errorf("defaults = %s, %s, %v; want latest, skip, UTC", plain.Catchup, plain.Overlap, plain.Location)
	}
}

// TestTemplatesResolvedForTheRun: {{ ds }} and friends resolve before
// validation, the file as written keeps its templates, and the run records
// its trigger and logical time.
func TestTemplatesResolvedForTheRun(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	path := writeSpec(t, "name: p\nschedule: \"@daily\"\ntimezone: Asia/Tokyo\nstages:\n  - id: a\n    uses: source\n    with: {path: \"raw/{{ ds }}.csv\"}\n")
	dir := filepath.Dir(path)
	if err := os.MkdirAll(filepath.Join(dir, "raw"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "raw", "2025-03-01.csv"), []byte("x\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	logical := time.Date(2025, 3, 1, 0, 0, 0, 0, tokyo)
	rc := engine.RunContext{Trigger: engine.TriggerBackfill, Logical: logical, IntervalStart: logical, IntervalEnd: logical.AddDate(0, 0, 1)}
	plan, err := engine.LoadPlanFor(path, reg.Registry, nil, rc)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Stages[0].Params.String("path"); got != "raw/2025-03-01.csv" {
		t.Errorf("path = %q, want raw/2025-03-01.csv (ds in the pipeline's time zone)", got)
	}
	if got := plan.Spec.Stages[0].With["path"]; got != "raw/{{ ds }}.csv" {
		t.Errorf("the parameter as written = %q, want its template kept", got)
	}
	run, err := (&engine.Executor{}).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if run.Trigger != engine.TriggerBackfill || !run.LogicalTime.Equal(logical) || !run.IntervalEnd.Equal(logical.AddDate(0, 0, 1)) {
		t.Errorf("run trigger %s at %v–%v, want backfill at %v", run.Trigger, run.LogicalTime, run.IntervalEnd, logical)
	}
	if got := run.Params["a"]["path"]; got != "raw/2025-03-01.csv" {
		t.Errorf("recorded path = %v, want the resolved one", got)
	}

	// A real run for a day without its file fails validation, naming it;
	// validation alone does not.
	missing := rc
	missing.Logical = logical.AddDate(0, 0, 1)
	if _, err := engine.LoadPlanFor(path, reg.Registry, nil, missing); !errors.Is(err, engine.ErrNoFile) || !strings.Contains(err.Error(), "raw/2025-03-02.csv") {
		t.Errorf("run for a missing day: %v, want no such file raw/2025-03-02.csv", err)
	}
	if _, err := engine.LoadPlan(path, reg.Registry, nil); err != nil {
		t.Errorf("validation only: %v, want none for a file named by the logical time", err)
	}
	vars := engine.RunContext{Logical: time.Date(2025, 3, 1, 6, 30, 0, 0, time.UTC), IntervalEnd: time.Date(2025, 3, 2, 6, 30, 0, 0, time.UTC)}.Vars(nil)
	want := map[string]string{"ds": "2025-03-01", "ds_nodash": "20250301", "ts": "2025-03-01T06:30:00Z", "ts_nodash": "20250301T063000",
		"data_interval_start": "2025-03-01T06:30:00Z", "data_interval_end": "2025-03-02T06:30:00Z"}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("{{ %s }} = %q, want %q", k, vars[k], v)
		}
	}
}

func TestManualRunRecordsItsStart(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, "name: p\nstages:\n  - id: a\n    uses: sleep\n")
	run, err := (&engine.Executor{}).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if run.TriggerKind() != engine.TriggerManual || run.LogicalTime.IsZero() || run.LogicalTime.Sub(run.Started).Abs() > time.Second {
		t.Errorf("trigger %s, logical %v, started %v; want manual at its start", run.TriggerKind(), run.LogicalTime, run.Started)
	}
}
