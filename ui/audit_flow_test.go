package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui"
)

// TestMetricQueryFlow types a metric query into / on Pipelines (the
// metrics of each file's last run) and on Runs, in the running program.
func TestMetricQueryFlow(t *testing.T) {
	store := newFakeStore()
	store.add(sampleRun(1, 0.95, t0.Add(-2*time.Hour)))
	store.add(sampleRun(0.5, 0.9167, t0.Add(-time.Hour)))
	tm, _ := start(t, store)
	waitFor(t, tm, "3 files")
	typeKeys(tm, "/")
	tm.Type("accuracy>0.9")
	typeKeys(tm, "enter")
	waitFor(t, tm, "1 shown")
	typeKeys(tm, "3")
	waitFor(t, tm, "2 runs")
	typeKeys(tm, "/")
	tm.Type("accuracy>0.93")
	typeKeys(tm, "enter")
	waitFor(t, tm, "1 of 2")
	typeKeys(tm, "enter") // the one run kept is run 1 (0.9500)
	waitFor(t, tm, "RUN 1")
	typeKeys(tm, "1")
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	out := ansi.Strip(tm.FinalModel(t).View())
	if !strings.Contains(out, "good.yaml") || strings.Contains(out, "fan.yaml") || strings.Contains(out, "bad.yaml") {
		t.Errorf("accuracy>0.9 on Pipelines should keep good.yaml only:\n%s", out)
	}
}

// TestPaletteRunsAction: : finds "run with --set" by typing, enter opens
// its form, and the run it starts is recorded with the override.
func TestPaletteRunsAction(t *testing.T) {
	store := newFakeStore()
	tm, _ := start(t, store, "testdata/pipelines/good.yaml")
	waitFor(t, tm, "good.yaml")
	typeKeys(tm, ":")
	waitFor(t, tm, "COMMANDS")
	tm.Type("with --set")
	waitMatch(t, tm, `▸ o +run with --set`)
	typeKeys(tm, "enter")
	waitFor(t, tm, "RUN WITH OVERRIDES")
	tm.Type("model.C=0.25")
	waitFor(t, tm, "ready")
	typeKeys(tm, "enter")
	waitFor(t, tm, "succeeded")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	r, err := store.Run(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusSucceeded || r.Params["model"]["C"] != 0.25 {
		t.Errorf("run 1 is %s with model.C = %v, want succeeded with 0.25", r.Status, r.Params["model"]["C"])
	}
}

// TestReadOnlyRefusesDeleteAndUndo: with ReadOnly, d and u change
// nothing and say why.
func TestReadOnlyRefusesDeleteAndUndo(t *testing.T) {
	store := storeWithRuns()
	d := deps(store)
	d.ReadOnly = true
	m := ui.New(context.Background(), d)
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(goldenW, goldenH))
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "3")
	waitFor(t, tm, "3 runs")
	typeKeys(tm, "down", "d")
	waitFor(t, tm, "read-only")
	typeKeys(tm, "u")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	out := ansi.Strip(tm.FinalModel(t).View())
	if strings.Contains(out, "trash?") || !strings.Contains(out, "0.9167") {
		t.Errorf("d should not ask nor delete in read-only:\n%s", out)
	}
	if n, _ := store.Count(context.Background()); n != 3 {
		t.Errorf("the store has %d runs, want the 3 it had", n)
	}
}

// TestComposerKeepsCommentsFlow is TestComposerKeepsComments in the
// running program: sample-data/iris.yaml gets a stage from the catalog,
// is saved over, and keeps every comment and line it had.
func TestComposerKeepsCommentsFlow(t *testing.T) {
	orig, err := os.ReadFile("../sample-data/iris.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "iris.yaml")
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	tm, _ := start(t, newFakeStore(), path)
	waitFor(t, tm, "1 file")
	typeKeys(tm, "enter")
	waitFor(t, tm, "COMPOSER")
	typeKeys(tm, "G", "a") // after the last stage
	waitFor(t, tm, "ADD A STAGE after score")
	tm.Type("sleep")
	// The catalog filters off the update loop: enter waits until the
	// whole text is in and the list is down to the one match. A prefix
	// (slee) may already leave that one item, and the renderer does not
	// draw an unchanged count again after the last letter, so the count
	// may come before the text in the output.
	waitScreen(t, tm, "the catalog filtered to sleep", func(s string) bool {
		return strings.Contains(s, "Filter: sleep") && strings.Contains(s, "1 item")
	})
	typeKeys(tm, "enter")
	waitFor(t, tm, "STAGE sleep")
	typeKeys(tm, "tab")
	waitMatch(t, tm, `┃ for +\(duration\)`) // the form has moved to the field
	tm.Type("2s")
	waitFor(t, tm, "2s")
	typeKeys(tm, "enter", "enter", "enter")
	waitFor(t, tm, "duration 2s")
	typeKeys(tm, "s")
	waitFor(t, tm, "Overwrite")
	typeKeys(tm, "y")
	waitFor(t, tm, "comments and layout kept")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	comments := 0
	for _, l := range strings.Split(string(orig), "\n") {
		if i := strings.Index(l, "#"); i >= 0 {
			comments++
			if !strings.Contains(string(got), l[i:]) {
				t.Errorf("the comment %q is gone:\n%s", l[i:], got)
			}
		}
		if !strings.Contains(string(got), l) {
			t.Errorf("the line %q is not kept as it was:\n%s", l, got)
		}
	}
	if comments < 5 {
		t.Fatalf("sample-data/iris.yaml has %d comments; the test wants a file that has some", comments)
	}
	if !strings.Contains(string(got), "- id: score\n    uses: evaluate\n  - id: sleep") {
		t.Errorf("the new stage is not after score, the stage G selected:\n%s", got)
	}
	if !strings.Contains(string(got), "uses: sleep") || !strings.Contains(string(got), `for: "2s"`) {
		t.Errorf("the new stage is not saved:\n%s", got)
	}
}
