package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// start runs the workbench in a teatest program at 100×30.
func start(t *testing.T, store *fakeStore, paths ...string) (*teatest.TestModel, *ui.Model) {
	t.Helper()
	m := ui.New(context.Background(), deps(store, paths...))
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(goldenW, goldenH))
	return tm, m
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// waitLong is waitFor for work whose length depends on the machine's load.
func waitLong(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

func typeKeys(tm *teatest.TestModel, ks ...string) {
	for _, k := range ks {
		tm.Send(key(k))
	}
}

// TestSmoke opens the workbench, shows every key and quits.
func TestSmoke(t *testing.T) {
	tm, _ := start(t, newFakeStore())
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "?")
	waitFor(t, tm, "quit")
	typeKeys(tm, "esc", "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestRunFromPipelines runs a pipeline with r and sees it succeed, then
// finds it in Runs.
func TestRunFromPipelines(t *testing.T) {
	store := newFakeStore()
	tm, _ := start(t, store, "testdata/pipelines/good.yaml")
	waitFor(t, tm, "good.yaml")
	typeKeys(tm, "r")
	waitFor(t, tm, "succeeded")
	typeKeys(tm, "3")
	waitFor(t, tm, "accuracy 0.9500")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	r, err := store.Run(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusSucceeded || r.Version != "test" {
		t.Errorf("got run status %s version %q, want succeeded, test", r.Status, r.Version)
	}
}

// TestRunWithOverrides runs with --set from the o form.
func TestRunWithOverrides(t *testing.T) {
	store := newFakeStore()
	tm, _ := start(t, store, "testdata/pipelines/good.yaml")
	waitFor(t, tm, "good.yaml")
	typeKeys(tm, "o")
	waitFor(t, tm, "RUN WITH OVERRIDES")
	tm.Type("model.C=0.5")
	waitFor(t, tm, "ready")
	typeKeys(tm, "enter")
	waitFor(t, tm, "succeeded")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	r, err := store.Run(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Params["model"]["C"]; got != 0.5 {
		t.Errorf("got model.C = %v, want 0.5 (overrides %v)", got, r.Overrides)
	}
}

// TestQuitAsksWhileRunLive: q during a run asks first; yes cancels the
// run, which is recorded as cancelled.
func TestQuitAsksWhileRunLive(t *testing.T) {
	store := newFakeStore()
	tm, m := start(t, store, "testdata/pipelines/slow.yaml")
	waitFor(t, tm, "slow.yaml")
	typeKeys(tm, "r")
	waitFor(t, tm, "running")
	typeKeys(tm, "q")
	waitFor(t, tm, "still going")
	typeKeys(tm, "y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	m.Shutdown(5 * time.Second)
	r, err := store.Run(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusCancelled {
		t.Errorf("got run status %s, want cancelled", r.Status)
	}
}

// TestCancelRun: c on the Run screen, confirmed, cancels the run.
func TestCancelRun(t *testing.T) {
	store := newFakeStore()
	tm, _ := start(t, store, "testdata/pipelines/slow.yaml")
	waitFor(t, tm, "slow.yaml")
	typeKeys(tm, "r")
	waitFor(t, tm, "running")
	typeKeys(tm, "c")
	waitFor(t, tm, "Cancel run 1")
	typeKeys(tm, "y")
	waitFor(t, tm, "run 1 slow cancelled")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestLogBurstKeepsKeys: a stage logging 200,000 lines as fast as it can
// does not hold up the keys.
func TestLogBurstKeepsKeys(t *testing.T) {
	store := newFakeStore()
	tm, _ := start(t, store, "testdata/pipelines/spam.yaml")
	waitFor(t, tm, "spam.yaml")
	typeKeys(tm, "r")
	waitFor(t, tm, "line ")
	// The keys are answered while the burst goes on: the screens switch
	// before the run ends. No clock is read: under the race detector on a
	// loaded machine the burst itself takes longer, so the waits are long
	// and what is checked is the order.
	typeKeys(tm, "3")
	waitLong(t, tm, "RUNS")
	typeKeys(tm, "2")
	waitLong(t, tm, "LOGS")
	// The screen may have drawn "succeeded" in the same frame as LOGS
	// (the output is read once), so the end is read from the store.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r, err := store.Run(context.Background(), 1)
		if err == nil && r.Status == engine.StatusSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not succeed: %v %v", r, err)
		}
	}
	// The store can say succeeded before the workbench has read the end
	// of the burst: q may then ask about the run "still going", and y
	// answers it (a y that comes after the quit is not read).
	typeKeys(tm, "q", "y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
}

// TestComposeAndSave adds a stage in the composer, sets a parameter and
// saves a new file that validates.
func TestComposeAndSave(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/pipelines/data.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/data.csv", data, 0o644); err != nil {
		t.Fatal(err)
	}
	store := newFakeStore()
	m := open(t, store, "testdata/pipelines/good.yaml")
	path := dir + "/new.yaml"
	// Each step waits for the screen it needs: on a loaded machine a
	// form's own commands can come after the 80 ms drive waits for them.
	send(t, m, keys("enter", "down", "a")...)
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "ADD A STAGE") })
	send(t, m, keys("s", "l", "e", "e", "p")...) // the catalog, filtered to sleep
	settle(t, m, func() bool {
		s := screen(t, m)
		return strings.Contains(s, "Filter: sleep") && strings.Contains(s, "1 item")
	}) // the filtered list, which comes off the update loop
	send(t, m, key("enter"))
	// The form opens on the new stage: id, then for.
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "STAGE sleep") })
	send(t, m, keys("tab", "2", "s")...)
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "2s") })
	send(t, m, keys("enter", "enter", "enter")...)
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "duration 2s ") })
	if out := screen(t, m); !bytes.Contains([]byte(out), []byte("duration 2s ")) {
		t.Fatalf("the new stage does not show for=2s:\n%s", out)
	}
	send(t, m, key("S"))
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "SAVE PIPELINE") })
	send(t, m, tea.KeyMsg{Type: tea.KeyCtrlU}, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(path)}, key("enter"))
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "saved "+path) })
	out := screen(t, m)
	if !bytes.Contains([]byte(out), []byte("saved "+path)) {
		t.Fatalf("not saved:\n%s", out)
	}
	plan, err := engine.LoadPlan(path, testRegistry(), nil)
	if err != nil {
		t.Fatalf("the saved file does not validate: %v", err)
	}
	st, ok := plan.Stage("sleep")
	if !ok || st.Params.Duration("for") != 2*time.Second || fmt.Sprint(st.Inputs) != "[clean]" {
		t.Errorf("the saved file lost the new stage: %+v", st)
	}
	if split, _ := plan.Stage("split"); fmt.Sprint(split.Inputs) != "[clean]" {
		t.Errorf("split now reads %v, want [clean] as before the insert", split.Inputs)
	}
}

// TestRunsKeepOneRowPerRun: several snapshots of a new run in one burst
// of events make one row.
func TestRunsKeepOneRowPerRun(t *testing.T) {
	m := open(t, storeWithRuns())
	r := sampleRun(1, 0.95, t0)
	r.ID = 4
	running := clone(r)
	running.Status = engine.StatusRunning
	send(t, m, key("3"), common.EventsMsg{Events: []engine.Event{
		{Kind: engine.EventRunStarted, RunID: 4, Run: running},
		{Kind: engine.EventRunFinished, RunID: 4, Run: r},
	}})
	out := screen(t, m)
	if n := strings.Count(out, "✓ succeeded"); n != 3 {
		t.Errorf("got %d succeeded rows, want 3 (runs 1, 2 and 4):\n%s", n, out)
	}
	if !strings.Contains(out, "4 runs") {
		t.Errorf("the header does not count 4 runs:\n%s", out)
	}
}

// TestRerunFromRuns: R on a run in Runs runs it again, with the file
// text and overrides recorded with it.
func TestRerunFromRuns(t *testing.T) {
	store := newFakeStore()
	tm, _ := start(t, store, "testdata/pipelines/good.yaml")
	waitFor(t, tm, "good.yaml")
	typeKeys(tm, "o")
	waitFor(t, tm, "RUN WITH OVERRIDES")
	tm.Type("model.C=0.5")
	waitFor(t, tm, "ready")
	typeKeys(tm, "enter")
	waitFor(t, tm, "succeeded")
	typeKeys(tm, "3")
	waitFor(t, tm, "RUNS")
	typeKeys(tm, "R")
	waitFor(t, tm, "run 2 demo succeeded")
	deadline := time.Now().Add(10 * time.Second)
	var r *engine.Run
	for time.Now().Before(deadline) {
		if got, err := store.Run(context.Background(), 2); err == nil && got.Status.Done() {
			r = got
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if r == nil {
		t.Fatal("R started no second run")
	}
	first, _ := store.Run(context.Background(), 1)
	if r.Status != engine.StatusSucceeded || r.Spec != first.Spec || len(r.Overrides) != 1 || r.Params["model"]["C"] != 0.5 {
		t.Errorf("rerun: status %s, overrides %v, C %v; want succeeded, the first run's file, model.C=0.5", r.Status, r.Overrides, r.Params["model"]["C"])
	}
}

// TestRerunFromRunScreen: R on the Run screen, once the run is over, runs
// it again.
func TestRerunFromRunScreen(t *testing.T) {
	store := newFakeStore()
	tm, _ := start(t, store, "testdata/pipelines/good.yaml")
	waitFor(t, tm, "good.yaml")
	typeKeys(tm, "r")
	waitFor(t, tm, "run 1 demo succeeded")
	typeKeys(tm, "R")
	waitFor(t, tm, "run 2 demo succeeded")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	r, err := store.Run(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := store.Run(context.Background(), 1)
	if r.Spec != first.Spec || r.Status != engine.StatusSucceeded {
		t.Errorf("rerun: status %s, same file %v", r.Status, r.Spec == first.Spec)
	}
}
