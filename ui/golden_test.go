package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

const goldenW, goldenH = 100, 30

// open returns the workbench at 100×30 after its first reads.
func open(tb testing.TB, store *fakeStore, paths ...string) *ui.Model {
	tb.Helper()
	m := ui.New(context.Background(), deps(store, paths...))
	tb.Cleanup(func() { m.Shutdown(5 * time.Second) })
	send(tb, m, tea.WindowSizeMsg{Width: goldenW, Height: goldenH})
	drive(tb, m, m.Init())
	return m
}

// screen returns the view without ANSI codes, checking its size.
func screen(tb testing.TB, m *ui.Model) string {
	tb.Helper()
	out := ansi.Strip(m.View())
	lines := strings.Split(out, "\n")
	if len(lines) != goldenH {
		tb.Errorf("view has %d lines, want %d", len(lines), goldenH)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > goldenW {
			tb.Errorf("line %d is %d cells wide, more than %d: %q", i+1, w, goldenW, l)
		}
	}
	return out
}

// storeWithRuns holds two runs of demo (C=1 and C=0.5) and a failed one.
func storeWithRuns() *fakeStore {
	s := newFakeStore()
	s.add(sampleRun(1, 0.95, t0.Add(-2*time.Hour)))
	s.add(sampleRun(0.5, 0.9167, t0.Add(-time.Hour)))
	failed := sampleRun(1, 0, t0.Add(-10*time.Minute))
	failed.Status, failed.Error = engine.StatusFailed, "stage model failed: did not converge in 100 iterations"
	failed.Stages[3].Status, failed.Stages[3].Error, failed.Stages[3].Metrics = engine.StatusFailed, "did not converge in 100 iterations", nil
	failed.Stages[4].Status, failed.Stages[4].Metrics, failed.Stages[4].Error = engine.StatusSkipped, nil, "skipped: an input failed"
	s.add(failed)
	for id := int64(1); id <= 2; id++ {
		for i, text := range []string{"read 100 rows × 3 columns from data.csv", "kept 98 of 100 rows", "fitting: 100 iterations", "accuracy 0.95 on 24 test rows"} {
			stage := []string{"load", "clean", "model", "score"}[i]
			s.logs[id] = append(s.logs[id], engine.LogLine{Stage: stage, Time: t0.Add(-time.Hour + time.Duration(i)*time.Second), Text: text})
		}
		mean, std, lo, hi := 3.5, 1.71, 1.0, 6.0
		s.previews[fmt.Sprintf("%d/load", id)] = &engine.Preview{Stage: "load", Rows: 100,
			Columns: []engine.ColumnSummary{
				{Name: "x", Type: "float", Count: 100, Mean: &mean, Std: &std, Min: &lo, Max: &hi},
				{Name: "y", Type: "int", Count: 98, Missing: 2, Mean: &mean, Std: &std, Min: &lo, Max: &hi},
				{Name: "label", Type: "string", Count: 100, Unique: 2, Top: []engine.TopValue{{Value: "a", Count: 60}, {Value: "b", Count: 40}}},
			},
			Head: [][]string{{"1", "2", "a"}, {"3", "4", "b"}, {"5", "", "a"}},
		}
	}
	return s
}

// liveEvents are the events of a fan pipeline half-way: two sources done,
// the fan-in running, a tuner half through its folds.
func liveEvents() []engine.Event {
	started := t0.Add(-3 * time.Second)
	run := &engine.Run{ID: 1, Pipeline: "fan", File: "testdata/pipelines/fan.yaml", Status: engine.StatusRunning, Started: started, Seed: 1}
	for _, s := range []struct {
		id, uses string
		needs    []string
	}{{"a", "source", nil}, {"b", "source", nil}, {"both", "clean", []string{"a", "b"}}, {"split", "split", []string{"both"}}, {"tune", "tune", []string{"split"}}, {"score", "score", []string{"tune"}}} {
		run.Stages = append(run.Stages, engine.StageRun{ID: s.id, Uses: s.uses, Needs: s.needs})
	}
	ev := func(k engine.EventKind, stage string, at time.Duration) engine.Event {
		return engine.Event{Kind: k, RunID: 1, Pipeline: "fan", Stage: stage, Time: started.Add(at)}
	}
	evs := []engine.Event{{Kind: engine.EventRunStarted, RunID: 1, Pipeline: "fan", Time: started, Run: run}}
	for i, id := range []string{"a", "b"} {
		e := ev(engine.EventStageStarted, id, 0)
		e.Attempt = 1
		evs = append(evs, e)
		p := ev(engine.EventProgress, id, 100*time.Millisecond)
		p.Progress = engine.Progress{Done: 100, Total: 100, Unit: "rows"}
		evs = append(evs, p)
		l := ev(engine.EventLog, id, 200*time.Millisecond)
		l.Line = engine.LogLine{Stage: id, Time: started.Add(time.Duration(200+i) * time.Millisecond), Text: "read 100 rows × 3 columns from data.csv"}
		evs = append(evs, l)
		f := ev(engine.EventStageFinished, id, 300*time.Millisecond)
		f.Status, f.Seconds, f.Progress = engine.StatusSucceeded, 0.3, engine.Progress{Done: 100, Total: 100, Unit: "rows"}
		evs = append(evs, f)
	}
	for _, id := range []string{"both", "split"} {
		evs = append(evs, ev(engine.EventStageStarted, id, 400*time.Millisecond))
		f := ev(engine.EventStageFinished, id, 500*time.Millisecond)
		f.Status, f.Seconds = engine.StatusSucceeded, 0.1
		evs = append(evs, f)
	}
	evs = append(evs, ev(engine.EventStageStarted, "tune", time.Second))
	folds := 0
	for c := 1; c <= 3; c++ {
		for f := 1; f <= 3; f++ {
			if c == 3 && f > 1 {
				continue
			}
			folds++
			line := engine.CandidateFold{Candidate: c, Candidates: 3, Fold: f, Folds: 3, Score: 0.8 + 0.05*float64(c%3) + 0.01*float64(f), Params: map[string]any{"C": []float64{0.1, 1, 10}[c-1]}}
			l := ev(engine.EventLog, "tune", time.Second+time.Duration(folds)*100*time.Millisecond)
			l.Line = engine.LogLine{Stage: "tune", Time: l.Time, Text: line.LogLine(), Fold: &line}
			evs = append(evs, l)
			p := ev(engine.EventProgress, "tune", l.Time.Sub(started))
			p.Progress = engine.Progress{Done: int64(folds), Total: 9, Unit: "fits"}
			evs = append(evs, p)
		}
	}
	return evs
}

type goldenCase struct {
	name  string
	store func() *fakeStore
	paths []string
	msgs  []tea.Msg
}

// goldenCases are every screen and dialog, in a state worth seeing.
func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "pipelines_bad_file", msgs: nil},
		{name: "pipelines", msgs: keys("down", "down")},
		{name: "composer", msgs: keys("down", "down", "enter", "down", "down", "down")},
		{name: "composer_form", msgs: keys("down", "down", "enter", "down", "down", "down", "e")},
		{name: "composer_catalog", msgs: keys("down", "down", "enter", "a", "f", "i")},
		{name: "composer_invalid_value", msgs: keys("down", "down", "enter", "down", "down", "down", "e", "tab", "-", "enter")},
		{name: "run_overrides_form", msgs: keys("down", "down", "o", "m", "o", "d", "e", "l", ".", "C", "=", "x")},
		{name: "run_live", store: newFakeStore, msgs: []tea.Msg{common.EventsMsg{Events: liveEvents()}, common.WatchRunMsg{ID: 1}, key("2"), key("down"), key("down"), key("down"), key("down")}},
		{name: "run_finished", store: storeWithRuns, msgs: []tea.Msg{common.WatchRunMsg{ID: 2}, key("2")}},
		{name: "runs", store: storeWithRuns, msgs: keys("3")},
		{name: "runs_filter", store: storeWithRuns, msgs: keys("3", "/", "f", "a", "i", "l")},
		{name: "run_detail_data", store: storeWithRuns, msgs: keys("3", "down", "enter", "l", "l", "l")},
		{name: "run_detail_params", store: storeWithRuns, msgs: keys("3", "down", "enter", "down", "down", "down", "l")},
		{name: "run_detail_logs", store: storeWithRuns, msgs: keys("3", "down", "enter", "]", "left")},
		{name: "compare", store: storeWithRuns, msgs: keys("3", "down", "space", "space", "c")},
		{name: "compare_all_params", store: storeWithRuns, msgs: keys("3", "down", "space", "space", "c", "a", "up")},
		{name: "model", store: storeWithRuns, msgs: keys("5")},
		{name: "model_export_form", store: storeWithRuns, msgs: keys("5", "e")},
		{name: "help", store: storeWithRuns, msgs: keys("3", "?")},
		{name: "too_small", msgs: []tea.Msg{tea.WindowSizeMsg{Width: 79, Height: 30}}},
		{name: "runs_tagged", store: taggedStore, msgs: keys("3")},
		{name: "pipelines_last_run", store: func() *fakeStore {
			s := newFakeStore()
			s.add(sampleRun(1, 0.9750, t0.Add(-time.Hour)))
			return s
		}, msgs: keys("down", "down")},
		{name: "palette", store: storeWithRuns, msgs: keys("3", ":")},
	}
}

// taggedStore is storeWithRuns with tags and a note on run 2.
func taggedStore() *fakeStore {
	s := storeWithRuns()
	s.runs[2].Tags = []string{"baseline", "paper"}
	s.runs[2].Note = "C halved"
	return s
}

func TestGolden(t *testing.T) {
	for _, tt := range goldenCases() {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			if tt.store != nil {
				store = tt.store()
			}
			m := open(t, store, tt.paths...)
			send(t, m, tt.msgs...)
			golden.RequireEqual(t, []byte(screen(t, m)))
		})
	}
}

// TestGoldenSizes renders every screen at the smallest size the
// workbench lays out in, 80×24, and at 200×50, and holds that no number
// is ever cut inside its digits (a cut number reads as a real, wrong one).
func TestGoldenSizes(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 50}} {
		for _, tt := range goldenCases() {
			if tt.name == "too_small" {
				continue
			}
			t.Run(fmt.Sprintf("%s_%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				store := newFakeStore()
				if tt.store != nil {
					store = tt.store()
				}
				m := open(t, store, tt.paths...)
				send(t, m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				send(t, m, tt.msgs...)
				out := sizedScreen(t, m, size[0], size[1])
				if l, ok := cutNumber(out, size[0]); !ok {
					t.Errorf("a number is cut inside its digits on this line:\n%s\n\n%s", l, out)
				}
				golden.RequireEqual(t, []byte(out))
			})
		}
	}
}

// sizedScreen is screen at another size.
func sizedScreen(tb testing.TB, m *ui.Model, w, h int) string {
	tb.Helper()
	out := ansi.Strip(m.View())
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		tb.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if cw := ansi.StringWidth(l); cw > w {
			tb.Errorf("line %d is %d cells wide, more than %d: %q", i+1, cw, w, l)
		}
	}
	return out
}

// cutNumber finds a line where an ellipsis follows a digit (or a digit
// and a point), or a digit fills the last of the w cells: a number cut
// short.
func cutNumber(screen string, w int) (string, bool) {
	for _, l := range strings.Split(screen, "\n") {
		rs := []rune(l)
		if len(rs) > 0 && ansi.StringWidth(l) == w && rs[len(rs)-1] >= '0' && rs[len(rs)-1] <= '9' {
			return l, false
		}
		for i, r := range rs {
			if r != '…' || i == 0 {
				continue
			}
			p := rs[i-1]
			if p == '.' && i >= 2 {
				p = rs[i-2]
			}
			if p >= '0' && p <= '9' {
				return l, false
			}
		}
	}
	return "", true
}
