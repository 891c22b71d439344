package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui"
)

// waitScreen waits until every text has shown in the program's output
// since the last wait (the renderer draws only what changed, so texts of
// one frame are waited for together).
func waitScreen(t *testing.T, tm *teatest.TestModel, texts ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		plain := ansi.Strip(string(b))
		for _, text := range texts {
			if !strings.Contains(plain, text) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// keyMsg is the key a person types: a named key or runes.
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "ctrl+u":
		return tea.KeyMsg{Type: tea.KeyCtrlU}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// TestWorkbenchFlow drives the workbench with teatest as a person would,
// on the real catalog and store: open sample-data, run iris.yaml and see
// it succeed, run it again with another C, compare the two, export the
// model, and check `sluice predict` takes the exported file.
func TestWorkbenchFlow(t *testing.T) {
	dir, dbPath := sampleDir(t)
	t.Chdir(dir)

	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, cfg: &Config{DBPath: dbPath}, reg: stages.Registry()}
	if err := e.resolveConfig(); err != nil {
		t.Fatal(err)
	}
	db, err := e.openStore()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	paths := []string{"sample-data"}
	files, err := findPipelines(paths)
	if err != nil {
		t.Fatal(err)
	}
	m := ui.New(e.ctx, e.workbenchDeps(paths, files, db))
	defer m.Shutdown(5 * time.Second)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 36))
	press := func(keys ...string) {
		for _, k := range keys {
			tm.Send(keyMsg(k))
		}
	}

	waitScreen(t, tm, "iris.yaml")
	// Select iris.yaml: the files are listed in name order.
	for i, f := range files {
		if filepath.Base(f) == "iris.yaml" {
			for range i {
				press("j")
			}
		}
	}
	press("r")
	waitScreen(t, tm, "run 1 iris succeeded")

	press("1")
	waitScreen(t, tm, "PIPELINES")
	press("o")
	waitScreen(t, tm, "RUN WITH OVERRIDES")
	press("model.C=0.05")
	waitScreen(t, tm, "ready")
	press("enter")
	waitScreen(t, tm, "run 2 iris succeeded")

	press("3")
	waitScreen(t, tm, "RUNS")
	press("space")
	waitScreen(t, tm, "1 marked")
	press("space")
	waitScreen(t, tm, "2 marked")
	press("c")
	waitScreen(t, tm, "COMPARE", "model.C")

	press("5")
	waitScreen(t, tm, "logistic_regression")
	press("e")
	waitScreen(t, tm, "EXPORT MODEL")
	press("ctrl+u", "iris-model.json", "enter")
	waitScreen(t, tm, "exported the model of run 2")

	press("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))

	if _, err := os.Stat("iris-model.json"); err != nil {
		t.Fatalf("the exported model is not there: %v", err)
	}
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--db", dbPath, "predict", "iris-model.json", "sample-data/splits/iris_test.csv"}, strings.NewReader(""), &out, &errb)
	if code != ExitOK || !strings.Contains(out.String(), "prediction") {
		t.Fatalf("sluice predict on the exported model: exit %d\n%s%s", code, out.String(), errb.String())
	}
	runs, err := db.Runs(context.Background(), engine.RunFilter{})
	if err != nil || len(runs) != 2 {
		t.Fatalf("got %d runs (%v), want 2", len(runs), err)
	}
}

// TestWorkbenchPrintsTextWithoutTerminal: with stdout not a terminal the
// workbench prints its overview as text instead of drawing screens.
func TestWorkbenchPrintsTextWithoutTerminal(t *testing.T) {
	dir, db := sampleDir(t)
	out, errs, code := sluice(t, dir, "--db", db, "sample-data")
	if code != ExitOK || !strings.Contains(out, "iris") || !strings.Contains(out, "PIPELINES") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

// bulkStore writes a store of n finished runs, one transaction each (as
// n runs would), on a memory file system when there is one.
func bulkStore(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "sluice-bench-"); err == nil {
			dir = d
			tb.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	path := filepath.Join(dir, "store.db")
	db, err := store.Open(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	runs := make([]*engine.Run, n)
	for i := range runs {
		r := &engine.Run{Pipeline: fmt.Sprintf("pipeline-%d", i%7), File: "iris.yaml", Status: engine.StatusSucceeded, Started: started.Add(time.Duration(i) * time.Minute),
			Seconds: 1.5, Params: map[string]map[string]any{"model": {"C": float64(i%10) / 10}}}
		for _, id := range []string{"load", "split", "scale", "model", "score"} {
			s := engine.StageRun{ID: id, Uses: id, Status: engine.StatusSucceeded, Seconds: 0.3}
			if id == "score" {
				s.Metrics = map[string]float64{"accuracy": 0.9 + float64(i%10)/100, "f1_macro": 0.89}
			}
			r.Stages = append(r.Stages, s)
		}
		runs[i] = r
	}
	for _, r := range runs {
		if _, err := db.BeginRun(context.Background(), r); err != nil {
			tb.Fatal(err)
		}
	}
	return path
}

// openWorkbench opens the store at path and the workbench on it, and
// returns once the Runs screen holds every run.
func openWorkbench(tb testing.TB, path string, want int) *ui.Model {
	db, err := store.Open(path, &store.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, cfg: &Config{DBPath: path}, reg: stages.Registry()}
	m := ui.New(e.ctx, e.workbenchDeps(nil, nil, db))
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 36})
	msgs := make(chan tea.Msg, 64)
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		if c == nil {
			return
		}
		go func() {
			msg := c()
			if b, ok := msg.(tea.BatchMsg); ok {
				for _, c := range b {
					run(c)
				}
				return
			}
			msgs <- msg
		}()
	}
	run(m.Init())
	wantText := fmt.Sprintf("%d runs", want)
	deadline := time.After(10 * time.Second)
	for !strings.Contains(m.View(), wantText) {
		select {
		case msg := <-msgs:
			_, c := m.Update(msg)
			run(c)
		case <-deadline:
			tb.Fatalf("the workbench did not list %d runs:\n%s", want, m.View())
		}
	}
	return m
}

// BenchmarkOpenStore10000Runs opens a store of 10,000 runs and the
// workbench on it, until the Runs screen lists them (target: under 300ms).
func BenchmarkOpenStore10000Runs(b *testing.B) {
	path := bulkStore(b, 10000)
	b.ResetTimer()
	for range b.N {
		m := openWorkbench(b, path, 10000)
		b.StopTimer()
		m.Shutdown(time.Second)
		b.StartTimer()
	}
}

// TestWorkbenchSeesRunsOfOtherProcesses: a run recorded by `sluice run`
// (here in the same process, through its own handle on the store file)
// shows in the open workbench with no key pressed: the store is polled.
func TestWorkbenchSeesRunsOfOtherProcesses(t *testing.T) {
	dir, dbPath := sampleDir(t)
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, cfg: &Config{DBPath: dbPath}, reg: stages.Registry()}
	if err := e.resolveConfig(); err != nil {
		t.Fatal(err)
	}
	db, err := e.openStore()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := ui.New(e.ctx, e.workbenchDeps(nil, nil, db))
	defer m.Shutdown(5 * time.Second)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 36))
	waitScreen(t, tm, "0 runs")
	tm.Send(keyMsg("3"))
	waitScreen(t, tm, "No runs yet")

	out, errs, code := sluice(t, dir, "--db", dbPath, "run", "sample-data/iris.yaml")
	if code != ExitOK {
		t.Fatalf("sluice run: exit %d\n%s%s", code, out, errs)
	}
	waitScreen(t, tm, "iris")
}

// TestWorkbenchSeesOtherRunsAfterDecliningQuit: with a run going, q asks
// before quitting; the answer no must leave the workbench as it was. While
// the question is open the store is polled (here every 20 ms) and its
// answers must still reach the runs screen, or it waits for them for ever
// and never shows a run recorded by another process.
func TestWorkbenchSeesOtherRunsAfterDecliningQuit(t *testing.T) {
	dir, dbPath := sampleDir(t)
	slow := filepath.Join(dir, "slow.yaml")
	if err := os.WriteFile(slow, []byte("name: slow\nstages:\n  - id: wait\n    uses: exec\n    with: {command: [sleep, \"60\"]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, cfg: &Config{DBPath: dbPath}, reg: stages.Registry()}
	if err := e.resolveConfig(); err != nil {
		t.Fatal(err)
	}
	db, err := e.openStore()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// slow.yaml is the one file and the one root: with the folder as a
	// root, the polling found the sample pipelines too, and the screen
	// could go from "1 file, checking" to "13 files, 1 valid" without ever
	// drawing the state this test waits for.
	deps := e.workbenchDeps([]string{slow}, []string{slow}, db)
	deps.Poll = 20 * time.Millisecond
	m := ui.New(e.ctx, deps)
	defer m.Shutdown(5 * time.Second)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 36))
	waitScreen(t, tm, "1 file, 1 valid")
	tm.Send(keyMsg("r"))
	waitScreen(t, tm, "run 1 started")

	tm.Send(keyMsg("q"))
	waitScreen(t, tm, "Quit?", "still going")
	time.Sleep(300 * time.Millisecond) // polls come and go while the question is open
	tm.Send(keyMsg("n"))
	waitScreen(t, tm, "c cancel run")
	tm.Send(keyMsg("3"))
	waitScreen(t, tm, "RUNS", "slow")

	out, errs, code := sluice(t, dir, "--db", dbPath, "run", "sample-data/iris.yaml")
	if code != ExitOK {
		t.Fatalf("sluice run: exit %d\n%s%s", code, out, errs)
	}
	waitScreen(t, tm, "iris")

	tm.Send(keyMsg("q"))
	waitScreen(t, tm, "Quit?", "still going")
	tm.Send(keyMsg("y"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}

// TestWorkbenchModelConfusion: the model the workbench describes carries
// the confusion matrix of the evaluate stage that scored it, read through
// the engine's typed report (engine.DecodeReport), and agrees with what
// `sluice report --json` prints.
func TestWorkbenchModelConfusion(t *testing.T) {
	dir, db := sampleDir(t)
	if _, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/iris.yaml"); code != 0 {
		t.Fatalf("run: %d %s", code, stderr)
	}
	out, _, code := sluice(t, dir, "--db", db, "report", "1", "--json")
	if code != 0 {
		t.Fatalf("report: exit %d", code)
	}
	var doc struct {
		Reports []struct {
			Details engine.ReportDetails `json:"details"`
		} `json:"reports"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Reports) != 1 {
		t.Fatalf("report --json: %v, %d reports", err, len(doc.Reports))
	}
	st, err := store.Open(db, &store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, cfg: &Config{DBPath: db}, reg: stages.Registry()}
	v, err := (&workbenchModels{e: e, db: st}).DescribeModel(e.ctx, 1, "model")
	if err != nil {
		t.Fatal(err)
	}
	want := doc.Reports[0].Details.Confusion
	if len(v.Confusion) != 3 || !reflect.DeepEqual(v.Confusion, want) {
		t.Errorf("workbench confusion %v, report --json %v: want the same 3×3 matrix", v.Confusion, want)
	}
}
