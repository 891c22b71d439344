package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

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
		areaMean, areaStd, areaMin, areaMax := 654.8891, 351.9141, 143.5, 2501.0
		s.previews[fmt.Sprintf("%d/load", id)] = &engine.Preview{Stage: "load", Rows: 100,
			Columns: []engine.ColumnSummary{
				{Name: "x", Type: "float", Count: 100, Mean: &mean, Std: &std, Min: &lo, Max: &hi},
				{Name: "y", Type: "int", Count: 98, Missing: 2, Mean: &mean, Std: &std, Min: &lo, Max: &hi},
				{Name: "area_mean", Type: "float", Count: 100, Mean: &areaMean, Std: &areaStd, Min: &areaMin, Max: &areaMax},
				{Name: "label", Type: "string", Count: 100, Unique: 2, Top: []engine.TopValue{{Value: "malignant", Count: 60}, {Value: "benign", Count: 40}}},
			},
			Head: [][]string{{"1", "2", "1001.0", "malignant"}, {"3", "4", "1326.0", "benign"}, {"5", "", "143.5", "malignant"}},
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
	name   string
	store  func() *fakeStore
	paths  []string
	models ui.ModelService // nil: fakeModels
	msgs   []tea.Msg
}

// openCase returns the workbench of a golden case at w×h after its first
// reads, in colour unless mono.
func openCase(tb testing.TB, tt goldenCase, w, h int, mono bool) *ui.Model {
	tb.Helper()
	store := newFakeStore()
	if tt.store != nil {
		store = tt.store()
	}
	d := deps(store, tt.paths...)
	if tt.models != nil {
		d.Models = tt.models
	}
	d.Mono = mono
	m := ui.New(context.Background(), d)
	tb.Cleanup(func() { m.Shutdown(5 * time.Second) })
	if !mono {
		lipgloss.SetColorProfile(termenv.ANSI256)
	}
	send(tb, m, tea.WindowSizeMsg{Width: w, Height: h})
	drive(tb, m, m.Init())
	return m
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
		{name: "run_detail_filter", store: storeWithRuns, msgs: keys("3", "enter", "/", "s", "t", "a", "t", "u", "s", ":", "f", "a", "i", "l", "e", "d", "enter")},
		{name: "run_detail_logs", store: storeWithRuns, msgs: keys("3", "down", "enter", "]", "left")},
		{name: "compare", store: storeWithRuns, msgs: keys("3", "down", "space", "space", "c")},
		{name: "compare_curves", store: storeWithReports, msgs: keys("3", "down", "space", "space", "c", "v", "]")},
		{name: "compare_curves_pr", store: storeWithReports, msgs: keys("3", "down", "space", "space", "c", "v", "p")},
		{name: "report", store: storeWithReports, msgs: keys("3", "down", "v")},
		{name: "compare_all_params", store: storeWithRuns, msgs: keys("3", "down", "space", "space", "c", "a", "up")},
		{name: "model", store: storeWithRuns, msgs: keys("5")},
		{name: "model_export_form", store: storeWithRuns, msgs: keys("5", "e")},
		{name: "help", store: storeWithRuns, msgs: keys("3", "?")},
		{name: "help_pipelines", store: storeWithRuns, msgs: keys("?")},
		{name: "help_composer", store: storeWithRuns, msgs: keys("down", "down", "enter", "?")},
		{name: "help_run", store: storeWithRuns, msgs: []tea.Msg{common.WatchRunMsg{ID: 2}, key("2"), key("?")}},
		{name: "help_run_detail", store: storeWithRuns, msgs: keys("3", "enter", "?")},
		{name: "help_compare", store: storeWithRuns, msgs: keys("3", "down", "space", "space", "c", "?")},
		{name: "help_model", store: storeWithRuns, msgs: keys("5", "?")},
		{name: "too_small", msgs: []tea.Msg{tea.WindowSizeMsg{Width: 79, Height: 30}}},
		{name: "runs_tagged", store: taggedStore, msgs: keys("3")},
		{name: "pipelines_last_run", store: func() *fakeStore {
			s := newFakeStore()
			s.add(sampleRun(1, 0.9750, t0.Add(-time.Hour)))
			return s
		}, msgs: keys("down", "down")},
		{name: "palette", store: storeWithRuns, msgs: keys("3", ":")},
		{name: "compare_many", store: manyRunsStore, msgs: keys("3", "space", "space", "space", "space", "space", "space", "c", "l")},
		{name: "model_digits", store: storeWithRuns, models: digitsModels{}, msgs: keys("5", "pgdown")},
		{name: "report_regression", store: storeWithRegressionReport, msgs: keys("3", "down", "v")},
		{name: "report_regression_histogram", store: storeWithRegressionReport, msgs: keys("3", "down", "v", "pgdown")},
		{name: "pipelines_filter", msgs: keys("/", "f", "a", "n")},
		{name: "sweep_form", msgs: keys("down", "down", "s")},
		{name: "palette_filter", store: storeWithRuns, msgs: keys("3", ":", "t", "a", "g")},
		{name: "runs_tag_form", store: taggedStore, msgs: keys("3", "down", "t")},
		{name: "runs_note_form", store: taggedStore, msgs: keys("3", "down", "N")},
		{name: "runs_delete_confirm", store: storeWithRuns, msgs: keys("3", "d")},
		{name: "run_live_long_ids", store: func() *fakeStore {
			s := newFakeStore()
			r := breastCancerRun()
			r.Status, r.Finished, r.Seconds, r.PID = engine.StatusRunning, time.Time{}, 0, 4242
			r.Started = t0.Add(-20 * time.Second)
			for i := range r.Stages {
				st := &r.Stages[i]
				switch st.ID {
				case "boosting":
					st.Status, st.Started, st.Seconds = engine.StatusRunning, t0.Add(-8*time.Second), 0
					st.Progress = engine.Progress{Done: 120, Total: 300, Unit: "rounds"}
				case "boosting_score":
					st.Status, st.Seconds, st.Metrics = engine.StatusPending, 0, nil
				}
			}
			s.add(r)
			return s
		}, msgs: []tea.Msg{common.WatchRunMsg{ID: 1}, key("2"), key("G")}},
		{name: "runs_marked", store: storeWithRuns, msgs: keys("3", "space", "space")},
		{name: "run_long_ids", store: func() *fakeStore {
			s := newFakeStore()
			s.add(breastCancerRun())
			return s
		}, msgs: []tea.Msg{common.WatchRunMsg{ID: 1}, key("2")}},
	}
}

// digitsModels describes every model as a digits classifier: ten
// classes, two-digit counts, long feature names.
type digitsModels struct{ fakeModels }

func (digitsModels) DescribeModel(_ context.Context, run int64, stage string) (*ui.ModelView, error) {
	v := &ui.ModelView{
		Run: run, Stage: stage, Estimator: "random_forest_classifier", Task: "classification", Target: "digit",
		Chain:   []string{"standard_scaler pixel_0_0, pixel_0_1, pixel_0_2, pixel_0_3, pixel_0_4, pixel_0_5, pixel_0_6, pixel_0_7"},
		Params:  map[string]any{"n_estimators": 200, "max_features": "sqrt", "criterion": "gini"},
		Metrics: map[string]float64{"accuracy": 0.9639, "f1_macro": 0.9634},
		SHA256:  "f14cdcde337aa5fbb9ddcdf22de9c0cc0ad9a3e1137e58931d0968886906f3e7", Size: 1234567,
		Importances: []ui.Importance{{Feature: "pixel_5_2_intensity_mean", Value: 0.0412}, {Feature: "pixel_3_3", Value: 0.0398}},
	}
	for i := range 10 {
		v.Classes = append(v.Classes, fmt.Sprint(i))
		row := make([]int, 10)
		row[i] = 31 + i%6
		row[(i+3)%10] = i % 3
		v.Confusion = append(v.Confusion, row)
	}
	return v, nil
}

// storeWithRegressionReport is storeWithRuns where run 2's score stage
// reports a regression shaped like sample-data/diabetes_regression.yaml:
// residuals in the hundreds, with four decimals, in twenty bins.
func storeWithRegressionReport() *fakeStore {
	s := storeWithRuns()
	d := engine.ReportDetails{Model: "ridge", Stage: "model", TestRows: 89,
		Points: &engine.ResidualPoints{}, Histogram: &engine.ResidualHistogram{}}
	for i := range 89 {
		x := float64(i)
		d.Points.Predicted = append(d.Points.Predicted, 48.58+x*2.55+7*math.Sin(x))
		d.Points.Residual = append(d.Points.Residual, 126.4*math.Sin(x*1.7)*math.Cos(x*0.3)+3.9461)
	}
	for i := range 21 {
		d.Histogram.Edges = append(d.Histogram.Edges, -153.3864+13.98970*float64(i))
	}
	d.Histogram.Counts = []int{1, 0, 0, 2, 1, 3, 6, 4, 5, 10, 12, 9, 7, 6, 7, 4, 4, 6, 1, 1}
	rep := engine.ReportFile{Metrics: map[string]float64{"mae": 42.8120, "r2": 0.4541, "residual_mean": 3.9461, "residual_std": 53.6325, "rmse": 53.7775}, Details: d}
	b, err := json.Marshal(rep)
	if err != nil {
		panic(err)
	}
	s.reports = map[string][]byte{"2/score": b}
	s.runs[2].Stages[4].Metrics = rep.Metrics
	s.runs[2].Stages[4].Artifacts = []engine.ArtifactInfo{{Stage: "score", Name: "report", Format: "json", SHA256: "77aa01c3e9d2b5f4", Size: len(b)}}
	return s
}

// manyRunsStore holds six runs of demo, a C sweep, each reading its own
// long-named file: more run columns than Compare shows at once.
func manyRunsStore() *fakeStore {
	s := newFakeStore()
	for i, c := range []float64{0.001, 0.01, 0.1, 1, 10, 100} {
		r := sampleRun(c, 0.9+0.01*float64(i), t0.Add(time.Duration(i-6)*time.Hour))
		r.Params["load"]["path"] = fmt.Sprintf("splits/breast_cancer_train_fold_%d.csv", i+1)
		s.add(r)
	}
	return s
}

// breastCancerRun is a finished run shaped like
// sample-data/breast_cancer_models.yaml: long stage ids and stage types,
// a stage with two needs, stages that took milliseconds and one that took
// seconds, progress counted in bytes and iterations.
func breastCancerRun() *engine.Run {
	started := t0.Add(-time.Hour)
	r := &engine.Run{Pipeline: "breast_cancer_models", File: "testdata/pipelines/breast_cancer_models.yaml", Seed: 42, Version: "test",
		Status: engine.StatusSucceeded, Started: started, Finished: started.Add(2345 * time.Millisecond), Seconds: 2.345}
	for _, s := range []struct {
		id, uses string
		needs    []string
		secs     float64
		progress engine.Progress
		metrics  map[string]float64
	}{
		{"train", "read_csv", nil, 0.028, engine.Progress{Done: 99924, Total: 99924, Unit: "bytes"}, nil},
		{"test", "read_csv", nil, 0.022, engine.Progress{Done: 25380, Total: 25380, Unit: "bytes"}, nil},
		{"split", "split", []string{"train", "test"}, 0.024, engine.Progress{}, map[string]float64{"train_rows": 455, "test_rows": 114}},
		{"scale", "standard_scaler", []string{"split"}, 0.032, engine.Progress{}, nil},
		{"logistic", "logistic_regression", []string{"scale"}, 0.047, engine.Progress{Done: 33, Total: 33, Unit: "iterations"}, map[string]float64{"accuracy": 0.9649, "f1_macro": 0.9619}},
		{"forest", "random_forest_classifier", []string{"scale"}, 1.204, engine.Progress{Done: 200, Total: 200, Unit: "trees"}, map[string]float64{"accuracy": 0.9561}},
		{"boosting", "gradient_boosting_classifier", []string{"scale"}, 12.75, engine.Progress{Done: 300, Total: 300, Unit: "rounds"}, map[string]float64{"accuracy": 0.9737}},
		{"logistic_score", "evaluate", []string{"logistic"}, 0.009, engine.Progress{}, map[string]float64{"accuracy": 0.9649, "f1_macro": 0.9619, "log_loss": 0.0772, "roc_auc": 0.9960}},
		{"forest_score", "evaluate", []string{"forest"}, 0.011, engine.Progress{}, map[string]float64{"accuracy": 0.9561, "f1_macro": 0.9526}},
		{"boosting_score", "evaluate", []string{"boosting"}, 0.0004, engine.Progress{}, map[string]float64{"accuracy": 0.9737, "f1_macro": 0.9716}},
	} {
		r.Stages = append(r.Stages, engine.StageRun{ID: s.id, Uses: s.uses, Needs: s.needs, Status: engine.StatusSucceeded, Attempts: 1,
			Started: started, Seconds: s.secs, Progress: s.progress, Metrics: s.metrics})
	}
	return r
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
			m := openCase(t, tt, goldenW, goldenH, true)
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
				m := openCase(t, tt, size[0], size[1], true)
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

// TestGoldenColour renders every screen at 80×24 in colour and holds
// that, without its ANSI codes, it is cell for cell the monochrome golden
// file: a style never changes a width. (A styled empty cell once kept a
// trailing space that plain text trimmed, so the Run screen cut "24ms" to
// "24m…" in a real terminal while the golden files were whole.)
func TestGoldenColour(t *testing.T) {
	t.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
	for _, tt := range goldenCases() {
		if tt.name == "too_small" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "TestGoldenSizes", tt.name+"_80x24.golden"))
			if err != nil {
				t.Fatal(err)
			}
			m := openCase(t, tt, 80, 24, false)
			send(t, m, tt.msgs...)
			raw := m.View()
			if !strings.Contains(raw, "\x1b[") {
				t.Fatal("the screen has no colour: the test tests nothing")
			}
			got := sizedScreen(t, m, 80, 24)
			if got != string(want) {
				t.Errorf("in colour the screen differs from %s:\n%s", tt.name+"_80x24.golden", got)
			}
		})
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

// cutNumber finds a line where a number is cut short: an ellipsis ends a
// word that starts with a digit ("0.9…", "24m…") or a word that follows a
// number ("99924 by…"), or a digit fills the last of the w cells. A
// shortened hash ("3f2a9c0d5b7e…") is not a number.
func cutNumber(screen string, w int) (string, bool) {
	digit := func(r rune) bool { return r >= '0' && r <= '9' }
	word := func(r rune) bool {
		return digit(r) || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(".,%/:_-µ", r)
	}
	hash := func(s string) bool {
		return len(s) >= 7 && strings.Trim(s, "0123456789abcdef") == "" && strings.ContainsAny(s, "abcdef")
	}
	for _, l := range strings.Split(screen, "\n") {
		rs := []rune(l)
		if len(rs) > 0 && ansi.StringWidth(l) == w && digit(rs[len(rs)-1]) {
			return l, false
		}
		for i, r := range rs {
			if r != '…' || i == 0 || !word(rs[i-1]) {
				continue
			}
			start := i - 1
			for start > 0 && word(rs[start-1]) {
				start--
			}
			if hash(string(rs[start:i])) {
				continue // a shortened hash, as git shortens them
			}
			if digit(rs[start]) {
				return l, false
			}
			// The word before, if one space away, a number?
			if start >= 2 && rs[start-1] == ' ' && digit(rs[start-2]) {
				return l, false
			}
		}
	}
	return "", true
}
