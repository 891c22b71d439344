package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// runsOf lists the store's runs, oldest first, as `runs --json` gives them.
func runsOf(t *testing.T, dir, db string) []runsDoc {
	t.Helper()
	out, stderr, code := sluice(t, dir, "--db", db, "runs", "--json")
	if code != ExitOK {
		t.Fatalf("runs: exit %d: %s", code, stderr)
	}
	var docs []runsDoc
	if err := json.Unmarshal([]byte(out), &docs); err != nil {
		t.Fatalf("runs --json: %v\n%s", err, out)
	}
	slices.Reverse(docs)
	return docs
}

func logicalDates(docs []runsDoc) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.Trigger+" "+d.Logical.UTC().Format("2006-01-02"))
	}
	return out
}

// TestBackfill: three days make three runs with their logical dates, each
// reading and writing the files its {{ ds }} names; a second backfill of
// the same days makes none.
func TestBackfill(t *testing.T) {
	dir, db := sampleDir(t)
	args := []string{"--db", db, "backfill", "sample-data/scheduled/daily_iris.yaml", "--from", "2025-03-01", "--to", "2025-03-03"}
	out, stderr, code := sluice(t, dir, args...)
	if code != ExitOK {
		t.Fatalf("backfill: exit %d\n%s%s", code, out, stderr)
	}
	want := []string{"backfill 2025-03-01", "backfill 2025-03-02", "backfill 2025-03-03"}
	docs := runsOf(t, dir, db)
	if got := logicalDates(docs); !slices.Equal(got, want) {
		t.Fatalf("runs %v, want %v", got, want)
	}
	for _, d := range docs {
		if d.Status != "succeeded" {
			t.Errorf("run %d: %s", d.Run, d.Status)
		}
	}
	for _, day := range []string{"20250301", "20250302", "20250303"} {
		b, err := os.ReadFile(filepath.Join(dir, "sample-data", "scheduled", "out", "daily", "iris_"+day+".csv"))
		if err != nil {
			t.Fatalf("output of %s: %v", day, err)
		}
		if lines := strings.Count(string(b), "\n"); lines != 51 {
			t.Errorf("%s: %d lines, want the day's 50 rows and a header", day, lines)
		}
	}
	_, stderr, code = sluice(t, dir, args...)
	if code != ExitOK || !strings.Contains(stderr, "nothing to backfill") {
		t.Errorf("second backfill: exit %d\n%s", code, stderr)
	}
	if n := len(runsOf(t, dir, db)); n != 3 {
		t.Errorf("%d runs after the second backfill, want still 3", n)
	}
	_, stderr, code = sluice(t, dir, "--db", db, "backfill", "sample-data/scheduled/daily_iris.yaml", "--from", "2025-03-02", "--to", "2025-03-02", "--rerun")
	if code != ExitOK || len(runsOf(t, dir, db)) != 4 {
		t.Errorf("--rerun of one day: exit %d, want a fourth run\n%s", code, stderr)
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "backfill", "sample-data/iris.yaml", "--from", "2025-03-01", "--to", "2025-03-02"); code != ExitInvalid || !strings.Contains(stderr, "has no schedule") {
		t.Errorf("backfill of an unscheduled pipeline: exit %d\n%s", code, stderr)
	}
}

// TestScheduleOnce: --once at --now runs the interval that just ended,
// once, and a day whose input file is missing is reported, not run.
func TestScheduleOnce(t *testing.T) {
	dir, db := sampleDir(t)
	once := func(now string) (string, int) {
		_, stderr, code := sluice(t, dir, "--db", db, "schedule", "sample-data/scheduled/daily_iris.yaml", "--now", now, "--once")
		return stderr, code
	}
	if stderr, code := once("2025-03-02T00:00:20"); code != ExitOK {
		t.Fatalf("schedule --once: exit %d\n%s", code, stderr)
	}
	if stderr, code := once("2025-03-02T00:00:40"); code != ExitOK {
		t.Fatalf("schedule --once again: exit %d\n%s", code, stderr)
	}
	if got := logicalDates(runsOf(t, dir, db)); !slices.Equal(got, []string{"schedule 2025-03-01"}) {
		t.Fatalf("runs %v, want one scheduled run for 2025-03-01", got)
	}
	// Down two days (catchup: all): 03-02 and 03-03 are caught up; 03-04
	// has no input file, so it is reported and the exit status says so.
	stderr, code := once("2025-03-05T00:00:20")
	if code != ExitFailed || !strings.Contains(stderr, "daily/iris_2025-03-04.csv") {
		t.Errorf("catch-up with a missing day: exit %d, want 1 naming the missing file\n%s", code, stderr)
	}
	want := []string{"schedule 2025-03-01", "schedule 2025-03-02", "schedule 2025-03-03"}
	if got := logicalDates(runsOf(t, dir, db)); !slices.Equal(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
	if _, _, code := sluice(t, dir, "--db", db, "schedule", "--now", "2025-03-05"); code != ExitInvalid {
		t.Errorf("--now without --once: exit %d, want 2", code)
	}
}

// TestTriggerDroppedFile: a file dropped into the trigger folder gives one
// run, reading it, once it has settled; none while it may be half-written.
func TestTriggerDroppedFile(t *testing.T) {
	dir, db := sampleDir(t)
	incoming := filepath.Join(dir, "sample-data", "incoming")
	if err := os.RemoveAll(incoming); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(incoming, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "sample-data", "splits", "iris_test.csv"))
	if err != nil {
		t.Fatal(err)
	}
	drop := filepath.Join(incoming, "batch_7.csv")
	if err := os.WriteFile(drop, src, 0o644); err != nil {
		t.Fatal(err)
	}
	written := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := os.Chtimes(drop, written, written); err != nil {
		t.Fatal(err)
	}
	once := func(now time.Time) {
		t.Helper()
		if _, stderr, code := sluice(t, dir, "--db", db, "schedule", "sample-data/incoming.yaml", "--now", now.Format(time.RFC3339), "--once"); code != ExitOK {
			t.Fatalf("schedule --once: exit %d\n%s", code, stderr)
		}
	}
	once(written.Add(2 * time.Second))
	if n := len(runsOf(t, dir, db)); n != 0 {
		t.Fatalf("%d runs for a file written 2s before (settle 5s), want none", n)
	}
	once(written.Add(10 * time.Second))
	once(written.Add(20 * time.Second))
	docs := runsOf(t, dir, db)
	if len(docs) != 1 || docs[0].Trigger != "trigger" || docs[0].Status != "succeeded" {
		t.Fatalf("runs %+v, want one successful trigger run", docs)
	}
	out, _, _ := sluice(t, dir, "--db", db, "show", "latest")
	if !strings.Contains(out, "file incoming/batch_7.csv") || !strings.Contains(out, "path=incoming/batch_7.csv") {
		t.Errorf("show does not name the trigger file as read:\n%s", out)
	}
}

// TestScheduleTemporalRefusesBeforeConnecting: with --engine temporal, an
// invalid file, a folder without a schedule: and the local scheduler's
// flags stop with exit 2 before any server is reached (there is none at
// the address given).
func TestScheduleTemporalRefusesBeforeConnecting(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join("testdata", "bad", "01_unknown_stage_type.yaml")
	if _, err := os.Stat(bad); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x.csv"), []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.yaml")
	if err := os.WriteFile(plain, []byte("name: plain\nstages:\n  - id: load\n    uses: read_csv\n    with: {path: x.csv}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	temporal := []string{"--engine", "temporal", "--temporal", "127.0.0.1:1"}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"invalid file", append(append([]string{"schedule"}, temporal...), bad), "01_unknown_stage_type.yaml:"},
		{"no schedule", append(append([]string{"schedule"}, temporal...), plain), "no pipeline with a schedule"},
		{"once", append(append([]string{"schedule"}, temporal...), "--once", plain), "--once and --now are for the local scheduler"},
		{"backfill without schedule", append(append([]string{"backfill"}, temporal...), plain, "--from", "2025-03-01", "--to", "2025-03-02"), "has no schedule"},
		{"sync without server", []string{"runs", "sync"}, "no Temporal server"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLUICE_TEMPORAL", "")
			_, stderr, code := sluice(t, "", append([]string{"--db", filepath.Join(dir, "s.db")}, tt.args...)...)
			if code != ExitInvalid || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "connect to Temporal") {
				t.Errorf("exit %d, %q; want 2 and %q, before connecting", code, stderr, tt.want)
			}
		})
	}
}
