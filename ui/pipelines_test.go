package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/ui"
)

// TestPipelinesMetricQuery: / on Pipelines filters the files with the
// query language, metrics being those of each pipeline's last run.
func TestPipelinesMetricQuery(t *testing.T) {
	store := newFakeStore()
	store.add(sampleRun(1, 0.95, t0.Add(-time.Hour)))
	m := open(t, store)
	send(t, m, key("/"))
	typeText(t, m, "accuracy>0.9")
	out := screen(t, m)
	if !strings.Contains(out, "good.yaml") || strings.Contains(out, "fan.yaml") || strings.Contains(out, "bad.yaml") {
		t.Fatalf("accuracy>0.9 should keep good.yaml only:\n%s", out)
	}
	send(t, m, key("esc"), key("/"))
	typeText(t, m, "status:invalid or pipeline:f?n")
	out = screen(t, m)
	if strings.Contains(out, "good.yaml") || !strings.Contains(out, "fan.yaml") || !strings.Contains(out, "bad.yaml") {
		t.Fatalf("status:invalid or pipeline:f?n should keep bad.yaml and fan.yaml:\n%s", out)
	}
	send(t, m, key("enter"))
	if out = screen(t, m); !strings.Contains(out, "2 shown") {
		t.Errorf("the header does not count the files shown:\n%s", out)
	}
}

// TestPipelinesSeeNewFiles: a pipeline file created under the folder the
// workbench was opened on appears at the next look (every tick), one
// deleted goes away.
func TestPipelinesSeeNewFiles(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/pipelines/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/pipelines/data.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	first := filepath.Join(dir, "first.yaml")
	if err := os.WriteFile(first, good, 0o644); err != nil {
		t.Fatal(err)
	}
	d := deps(newFakeStore(), first)
	d.Roots = []string{dir}
	d.Poll = 100 * time.Millisecond // the store and the files are looked at this often
	m := ui.New(context.Background(), d)
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(goldenW, goldenH))
	waitFor(t, tm, "1 file, 1 valid")

	second := filepath.Join(dir, "second.yaml")
	if err := os.WriteFile(second, []byte(strings.Replace(string(good), "name: demo", "name: other", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tm, "2 files, 2 valid")
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	typeKeys(tm, "R")
	waitFor(t, tm, "1 file, 1 valid")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

// TestOverridesWaitForCheck: o before the first validation lands says
// "checking…" and opens the form when it does, never an empty reason.
func TestOverridesWaitForCheck(t *testing.T) {
	store := newFakeStore()
	m := ui.New(context.Background(), deps(store, "testdata/pipelines/good.yaml"))
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	send(t, m, tea.WindowSizeMsg{Width: goldenW, Height: goldenH})
	init := m.Init() // the first check: its reply is held back
	send(t, m, key("o"))
	out := screen(t, m)
	if !strings.Contains(out, "checking testdata/pipelines/good.yaml…") || strings.Contains(out, "is not valid") {
		t.Fatalf("o before the check:\n%s", out)
	}
	drive(t, m, init)
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "RUN WITH OVERRIDES") })
}

// TestLongRunAsks: r on a pipeline whose last run took more than 10 s
// asks first; n leaves it.
func TestLongRunAsks(t *testing.T) {
	store := newFakeStore()
	r := sampleRun(1, 0.95, t0.Add(-time.Hour))
	r.Seconds = 95
	store.add(r)
	m := open(t, store, "testdata/pipelines/good.yaml")
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "#1") })
	send(t, m, key("r"))
	out := screen(t, m)
	if !strings.Contains(out, "Run demo again?") || !strings.Contains(out, "took 1m35s") {
		t.Fatalf("r did not ask:\n%s", out)
	}
	send(t, m, key("n"))
	if n, _ := store.Count(context.Background()); n != 1 {
		t.Errorf("n started a run: %d runs", n)
	}
	if out = screen(t, m); strings.Contains(out, "again?") {
		t.Errorf("the question stays after n:\n%s", out)
	}
}

// TestComposerKeepsComments adds a stage to sample-data/iris.yaml in the
// composer and saves over the file: every comment, the blank line and
// the quoting of the lines not changed stay.
func TestComposerKeepsComments(t *testing.T) {
	orig, err := os.ReadFile("../sample-data/iris.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "iris.yaml")
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	m := open(t, newFakeStore(), path)
	settle(t, m, func() bool {
		return strings.Contains(screen(t, m), "1 file") && !strings.Contains(screen(t, m), "checking")
	})
	// Each step waits for the screen it needs: on a loaded machine a
	// form's own commands can come late.
	send(t, m, keys("enter", "G")...)
	settle(t, m, func() bool {
		return strings.Contains(screen(t, m), "COMPOSER") || strings.Contains(screen(t, m), "score")
	})
	send(t, m, key("a"))
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "ADD A STAGE") })
	send(t, m, keys("s", "l", "e", "e", "p")...) // the catalog, filtered to sleep
	settle(t, m, func() bool {
		s := screen(t, m)
		return strings.Contains(s, "Filter: sleep") && strings.Contains(s, "1 item")
	}) // the filtered list, which comes off the update loop
	send(t, m, key("enter"))
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "STAGE sleep") })
	send(t, m, keys("tab", "2", "s")...)
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "2s") })
	send(t, m, keys("enter", "enter", "enter")...)
	settle(t, m, func() bool { return !strings.Contains(screen(t, m), "STAGE sleep") })
	send(t, m, key("s"))
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "Overwrite") })
	send(t, m, key("y"))
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "saved "+path) })
	if out := screen(t, m); !strings.Contains(out, "comments and layout kept") {
		t.Errorf("the save does not say the layout was kept:\n%s", out)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(orig), "\n") {
		if i := strings.Index(l, "#"); i >= 0 && !strings.Contains(string(got), l[i:]) {
			t.Errorf("the comment %q is gone:\n%s", l[i:], got)
		}
		if !strings.Contains(string(got), l) {
			t.Errorf("the line %q is not kept as it was:\n%s", l, got)
		}
	}
	if !strings.Contains(string(got), "uses: sleep") {
		t.Errorf("the new stage is not saved:\n%s", got)
	}
}

// TestComposeWaitsForCheck: enter before the first validation lands says
// "checking…" and opens the composer when it does, instead of saying the
// file does not parse.
func TestComposeWaitsForCheck(t *testing.T) {
	m := ui.New(context.Background(), deps(newFakeStore(), "testdata/pipelines/good.yaml"))
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	send(t, m, tea.WindowSizeMsg{Width: goldenW, Height: goldenH})
	init := m.Init() // the first check: its reply is held back
	send(t, m, key("enter"))
	out := screen(t, m)
	if !strings.Contains(out, "checking testdata/pipelines/good.yaml…") || strings.Contains(out, "does not parse") {
		t.Fatalf("enter before the check:\n%s", out)
	}
	drive(t, m, init)
	settle(t, m, func() bool { return strings.Contains(screen(t, m), "COMPOSER") })
}
