package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}

// fakeStore is an in-memory run store: ui.Store and engine.Recorder.
type fakeStore struct {
	mu       sync.Mutex
	runs     map[int64]*engine.Run
	logs     map[int64][]engine.LogLine
	previews map[string]*engine.Preview
	arts     map[int64][]engine.ArtifactInfo
	next     int64
	delay    time.Duration // added to every read
	trash    map[int64]*engine.Run
	reports  map[string][]byte // "run/stage" → a report artifact
}

var _ ui.Store = (*fakeStore)(nil)
var _ engine.Recorder = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{runs: map[int64]*engine.Run{}, logs: map[int64][]engine.LogLine{}, previews: map[string]*engine.Preview{}, arts: map[int64][]engine.ArtifactInfo{}}
}

func clone(r *engine.Run) *engine.Run {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	var c engine.Run
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return &c
}

func (s *fakeStore) add(r *engine.Run) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	r.ID = s.next
	s.runs[r.ID] = clone(r)
	for _, st := range r.Stages {
		s.arts[r.ID] = append(s.arts[r.ID], st.Artifacts...)
	}
	return r.ID
}

func (s *fakeStore) BeginRun(_ context.Context, r *engine.Run) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	c := clone(r)
	c.ID = s.next
	s.runs[c.ID] = c
	return c.ID, nil
}

func (s *fakeStore) RecordRun(_ context.Context, r *engine.Run, d *engine.RunDelta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[r.ID] = clone(r)
	s.logs[r.ID] = append(s.logs[r.ID], d.Logs...)
	for _, p := range d.Previews {
		s.previews[fmt.Sprintf("%d/%s", r.ID, p.Stage)] = p
	}
	s.arts[r.ID] = append(s.arts[r.ID], d.Artifacts...)
	return nil
}

func (s *fakeStore) wait() {
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
}

func (s *fakeStore) Runs(_ context.Context, f engine.RunFilter) ([]engine.RunSummary, error) {
	s.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.runs))
	for id := range s.runs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	var out []engine.RunSummary
	for _, id := range ids {
		sum := engine.Summarize(s.runs[id])
		if !f.Match(&sum) {
			continue
		}
		out = append(out, sum)
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
	}
	return out, nil
}

func (s *fakeStore) Latest(_ context.Context, pipeline string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best int64
	for id, r := range s.runs {
		if (pipeline == "" || r.Pipeline == pipeline) && id > best {
			best = id
		}
	}
	if best == 0 {
		return 0, engine.ErrNotFound
	}
	return best, nil
}

func (s *fakeStore) Count(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.runs), nil
}

func (s *fakeStore) Run(_ context.Context, id int64) (*engine.Run, error) {
	s.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return nil, fmt.Errorf("run %d: %w", id, engine.ErrNotFound)
	}
	return clone(r), nil
}

func (s *fakeStore) Logs(_ context.Context, run int64, stage string, from int) ([]engine.LogLine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.LogLine
	n := 0
	for _, l := range s.logs[run] {
		if stage != "" && l.Stage != stage {
			continue
		}
		if n >= from {
			out = append(out, l)
		}
		n++
	}
	return out, nil
}

func (s *fakeStore) Preview(_ context.Context, run int64, stage string) (*engine.Preview, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.previews[fmt.Sprintf("%d/%s", run, stage)]
	if !ok {
		return nil, fmt.Errorf("no preview: %w", engine.ErrNotFound)
	}
	return p, nil
}

func (s *fakeStore) Artifacts(_ context.Context, run int64) ([]engine.ArtifactInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]engine.ArtifactInfo(nil), s.arts[run]...), nil
}

// fakeModels describes every model the same way and exports by writing
// a small file.
type fakeModels struct{}

func (fakeModels) DescribeModel(_ context.Context, run int64, stage string) (*ui.ModelView, error) {
	return &ui.ModelView{
		Run: run, Stage: stage, Estimator: "fit", Task: "classification", Target: "label",
		Classes: []string{"a", "b", "c"},
		Chain:   []string{"standard_scaler x, y", "one_hot color (3 categories)"},
		Params:  map[string]any{"C": 1.0, "solver": "lbfgs", "max_iter": 100},
		Metrics: map[string]float64{"accuracy": 0.9333, "f1_macro": 0.9312},
		Confusion: [][]int{
			{10, 0, 0},
			{0, 9, 1},
			{0, 1, 9},
		},
		Importances: []ui.Importance{{Feature: "petal_length", Value: 0.44}, {Feature: "petal_width", Value: 0.42}, {Feature: "sepal_length", Value: 0.09}, {Feature: "sepal_width", Value: 0.05}},
		SHA256:      "3f2a9c0d5b7e1f4a6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a1b",
		Size:        2634,
	}, nil
}

func (fakeModels) SetAlias(_ context.Context, run int64, stage, alias string) (string, error) {
	return "fake@" + alias, nil
}

func (fakeModels) ExportModel(_ context.Context, run int64, stage, path string) (string, error) {
	return "3f2a9c0d5b7e", os.WriteFile(path, []byte(fmt.Sprintf(`{"run":%d,"stage":%q}`, run, stage)), 0o644)
}

// testRegistry is a small catalog: a source, a cleaner, a split, a
// model with parameters of several kinds, a tuner that logs candidate
// folds, and a scorer.
func testRegistry() *engine.Registry {
	out := func(k engine.Kind) *engine.Output { return &engine.Output{Value: kindValue(k)} }
	return engine.NewRegistry(
		&engine.StageType{Name: "source", Group: "extract", Doc: "read a CSV file", Out: engine.KindTable,
			Params: []engine.Param{{Name: "path", Type: engine.TypePath, Required: true, Input: true, Doc: "the file to read"}},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				for i := int64(1); i <= 4; i++ {
					sc.Progress(i*25, 100, "rows")
				}
				sc.Logf("read 100 rows × 3 columns from %s", sc.Params.String("path"))
				return out(engine.KindTable), nil
			}},
		&engine.StageType{Name: "clean", Group: "transform", Doc: "drop rows with missing values", In: engine.KindTable, MinIn: 1, MaxIn: -1, Out: engine.KindTable,
			Params: []engine.Param{{Name: "drop_na", Type: engine.TypeBool, Default: true, Doc: "drop rows with a missing value"}},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				sc.Logf("kept 98 of 100 rows")
				return out(engine.KindTable), nil
			}},
		&engine.StageType{Name: "split", Group: "split", Doc: "split a table into train and test rows", In: engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindSplit,
			Metrics: []engine.Metric{{Name: "train_rows", Better: engine.Unranked}, {Name: "test_rows", Better: engine.Unranked}},
			Params: []engine.Param{
				{Name: "target", Type: engine.TypeString, Required: true, Doc: "the column to predict"},
				{Name: "test_size", Type: engine.TypeFloat, Default: 0.25, Min: engine.Range(0), Max: engine.Range(1), Doc: "share of rows held out"},
			},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				o := out(engine.KindSplit)
				o.Metrics = map[string]float64{"train_rows": 75, "test_rows": 25}
				return o, nil
			}},
		&engine.StageType{Name: "fit", Group: "train", Doc: "fit a linear classifier", In: engine.KindSplit, MinIn: 1, MaxIn: 1, Out: engine.KindModel,
			Metrics: []engine.Metric{{Name: "accuracy", Better: engine.Higher}},
			Params: []engine.Param{
				{Name: "C", Type: engine.TypeFloat, Default: 1.0, Min: engine.Range(0), Doc: "inverse regularisation strength"},
				{Name: "solver", Type: engine.TypeEnum, Enum: []string{"lbfgs", "saga"}, Default: "lbfgs", Doc: "the optimiser"},
				{Name: "max_iter", Type: engine.TypeInt, Default: 100, Min: engine.Range(1), Doc: "most iterations"},
			},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				for i := int64(10); i <= 100; i += 10 {
					sc.Progress(i, 100, "iterations")
				}
				c := sc.Params.Float("C")
				o := out(engine.KindModel)
				o.Metrics = map[string]float64{"accuracy": 0.9 + 0.05*min(c, 1)}
				o.Artifacts = []engine.Artifact{{ArtifactInfo: engine.ArtifactInfo{Name: "model", Format: "json"}, Data: []byte(fmt.Sprintf(`{"C":%v}`, c))}}
				return o, nil
			}},
		&engine.StageType{Name: "tune", Group: "tune", Doc: "grid-search C with cross-validation", In: engine.KindSplit, MinIn: 1, MaxIn: 1, Out: engine.KindModel,
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				cs := []float64{0.1, 1, 10}
				for i, c := range cs {
					for f := 1; f <= 3; f++ {
						line := engine.CandidateFold{Candidate: i + 1, Candidates: len(cs), Fold: f, Folds: 3, Score: 0.8 + 0.05*float64(i) + 0.01*float64(f), Params: map[string]any{"C": c}}
						sc.LogFold(line)
					}
				}
				return out(engine.KindModel), nil
			}},
		&engine.StageType{Name: "sleep", Group: "transform", Doc: "wait, as a slow stage does", In: engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
			Params: []engine.Param{{Name: "for", Type: engine.TypeDuration, Default: "10ms", Doc: "how long"}},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				sc.Logf("sleeping %s", sc.Params.Duration("for"))
				select {
				case <-time.After(sc.Params.Duration("for")):
					return out(engine.KindTable), nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}},
		&engine.StageType{Name: "spam", Group: "transform", Doc: "log many lines fast", In: engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
			Params: []engine.Param{{Name: "lines", Type: engine.TypeInt, Default: 1000, Doc: "how many"}},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				n := sc.Params.Int("lines")
				for i := range n {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					sc.Logf("line %d of %d", i+1, n)
					if i%100 == 0 {
						sc.Progress(int64(i), int64(n), "lines")
					}
				}
				return out(engine.KindTable), nil
			}},
		&engine.StageType{Name: "score", Group: "evaluate", Doc: "score a model on held-out rows", In: engine.KindModel, MinIn: 1, MaxIn: 1, Out: engine.KindReport,
			Metrics: []engine.Metric{{Name: "accuracy", Better: engine.Higher}, {Name: "f1_macro", Better: engine.Higher}, {Name: "log_loss", Better: engine.Lower}},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				o := out(engine.KindReport)
				o.Metrics = map[string]float64{"accuracy": 0.95, "f1_macro": 0.9412}
				sc.Logf("accuracy 0.95 on 25 test rows")
				return o, nil
			}},
	)
}

// deps returns workbench dependencies on a fake store, the test catalog
// and the test pipelines, with no polling and a fixed clock.
func deps(store *fakeStore, paths ...string) ui.Deps {
	if paths == nil {
		paths = []string{"testdata/pipelines/bad.yaml", "testdata/pipelines/fan.yaml", "testdata/pipelines/good.yaml"}
	}
	return ui.Deps{
		Paths: paths, Dir: "testdata/pipelines", Registry: testRegistry(), Store: store, Recorder: store,
		Models: fakeModels{}, Version: "test", Workers: 2, Now: func() time.Time { return t0 }, Poll: -1, Mono: true,
	}
}

// late holds, per model, the replies of commands that did not return in
// time; the next drive delivers them, as the runtime would, late.
var (
	lateMu sync.Mutex
	late   = map[tea.Model]chan tea.Msg{}
)

func lateFor(m tea.Model) chan tea.Msg {
	lateMu.Lock()
	defer lateMu.Unlock()
	ch, ok := late[m]
	if !ok {
		ch = make(chan tea.Msg, 1024)
		late[m] = ch
	}
	return ch
}

// drive runs cmd and feeds what it returns back into m, as the Bubble
// Tea runtime would, until nothing is left. Commands that do not return
// within a moment (ticks, the event bridge waiting, cursor blinks) are
// left running; what they return later is delivered by a later drive.
func drive(tb testing.TB, m tea.Model, cmd tea.Cmd) {
	tb.Helper()
	queue := []tea.Cmd{cmd}
	lc := lateFor(m)
	for depth := 0; ; depth++ {
		if depth > 100 {
			tb.Fatal("commands keep coming after 100 rounds")
		}
		msgs := execAll(lc, queue)
		for more := true; more; {
			select {
			case msg := <-lc:
				msgs = append(msgs, expand(lc, msg)...)
			default:
				more = false
			}
		}
		if len(msgs) == 0 {
			return
		}
		queue = nil
		for _, msg := range msgs {
			if _, ok := msg.(tea.QuitMsg); ok {
				continue
			}
			_, c := m.Update(msg)
			queue = append(queue, c)
		}
	}
}

// settle drives m until done reports true, delivering late replies.
func settle(tb testing.TB, m tea.Model, done func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			tb.Fatal("the workbench did not settle in 20s")
		}
		select {
		case msg := <-lateFor(m):
			_, c := m.Update(msg)
			drive(tb, m, c)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// send delivers msgs to m one after another, driving each one's commands.
func send(tb testing.TB, m tea.Model, msgs ...tea.Msg) {
	tb.Helper()
	for _, msg := range msgs {
		_, cmd := m.Update(msg)
		drive(tb, m, cmd)
	}
}

var cmdType = reflect.TypeOf(tea.Cmd(nil))

// execAll runs cmds at once and returns, in order, the replies that came
// within a moment; the others go to lc when they come.
func execAll(lc chan tea.Msg, cmds []tea.Cmd) []tea.Msg {
	type pending struct {
		mu        sync.Mutex
		abandoned bool
		ch        chan tea.Msg
	}
	ps := make([]*pending, len(cmds))
	for i, c := range cmds {
		if c == nil {
			continue
		}
		p := &pending{ch: make(chan tea.Msg, 1)}
		ps[i] = p
		go func() {
			msg := c()
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.abandoned {
				if msg != nil {
					select {
					case lc <- msg:
					default:
					}
				}
				return
			}
			p.ch <- msg
		}()
	}
	start := time.Now()
	var out []tea.Msg
	for i, p := range ps {
		if p == nil {
			continue
		}
		// A command that waits by design is given a moment; any other
		// is waited for, so a loaded machine (the race detector, other
		// work) cannot reorder its reply after the next key.
		deadline := start.Add(10 * time.Second)
		if waitsByDesign(cmds[i]) {
			deadline = start.Add(80 * time.Millisecond)
		}
		select {
		case msg := <-p.ch:
			out = append(out, expand(lc, msg)...)
			continue
		case <-time.After(time.Until(deadline)):
		}
		p.mu.Lock()
		select {
		case msg := <-p.ch: // it came after all
			out = append(out, expand(lc, msg)...)
		default:
			p.abandoned = true
		}
		p.mu.Unlock()
	}
	return out
}

// waitsByDesign reports whether c is one of the commands that wait for
// something a test may never send (a cursor blink, the event bridge, a
// list's filter command batched with its blink).
func waitsByDesign(c tea.Cmd) bool {
	name := runtime.FuncForPC(reflect.ValueOf(c).Pointer()).Name()
	for _, n := range []string{"cursor.(*Model).BlinkCmd", "waitForEvents", "pipelines.numberMatches"} {
		if strings.Contains(name, n) {
			return true
		}
	}
	return false
}

// expand runs the commands of batches and sequences.
func expand(lc chan tea.Msg, msg tea.Msg) []tea.Msg {
	if msg == nil {
		return nil
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		return execAll(lc, b)
	}
	v := reflect.ValueOf(msg)
	if v.Kind() == reflect.Slice && v.Type().Elem() == cmdType { // tea.Sequence
		var out []tea.Msg
		for i := range v.Len() {
			c, _ := v.Index(i).Interface().(tea.Cmd)
			if c != nil {
				out = append(out, execAll(lc, []tea.Cmd{c})...)
			}
		}
		return out
	}
	return []tea.Msg{msg}
}

func key(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func keys(ss ...string) []tea.Msg {
	out := make([]tea.Msg, len(ss))
	for i, s := range ss {
		out[i] = key(s)
	}
	return out
}

// sampleRun is a finished run of the demo pipeline with C and accuracy.
func sampleRun(c, acc float64, started time.Time) *engine.Run {
	r := &engine.Run{
		Pipeline: "demo", File: "testdata/pipelines/good.yaml", SpecHash: "9b1d4c0e7a2f5b3c8d6e", Seed: 7, Version: "test",
		Status: engine.StatusSucceeded, Started: started, Finished: started.Add(1500 * time.Millisecond), Seconds: 1.5,
		Params: map[string]map[string]any{
			"load":  {"path": "data.csv"},
			"clean": {"drop_na": true},
			"split": {"target": "label", "test_size": 0.25},
			"model": {"C": c, "solver": "lbfgs", "max_iter": 100},
		},
		Inputs: map[string]string{"data.csv": "4e1f0c9a7b3d2e5f"},
	}
	if c != 1 {
		r.Overrides = []string{fmt.Sprintf("model.C=%v", c)}
	}
	st := func(id, uses string, needs []string, secs float64) engine.StageRun {
		return engine.StageRun{ID: id, Uses: uses, Needs: needs, Status: engine.StatusSucceeded, Attempts: 1, Started: started, Seconds: secs, Fingerprint: "fp-" + id}
	}
	load := st("load", "source", nil, 0.12)
	load.Rows, load.Cols, load.Kind = 100, 3, engine.KindTable
	load.Progress = engine.Progress{Done: 100, Total: 100, Unit: "rows"}
	clean := st("clean", "clean", []string{"load"}, 0.05)
	clean.Rows, clean.Cols, clean.Kind = 98, 3, engine.KindTable
	split := st("split", "split", []string{"clean"}, 0.01)
	split.Metrics = map[string]float64{"train_rows": 74, "test_rows": 24}
	model := st("model", "fit", []string{"split"}, 1.1)
	model.Fingerprint = fmt.Sprintf("fp-model-%v", c)
	model.Metrics = map[string]float64{"accuracy": acc}
	model.Artifacts = []engine.ArtifactInfo{{Stage: "model", Name: "model", Format: "json", SHA256: "3f2a9c0d5b7e1f4a", Size: 2634}}
	score := st("score", "score", []string{"model"}, 0.2)
	score.Fingerprint = fmt.Sprintf("fp-score-%v", c)
	score.Metrics = map[string]float64{"accuracy": acc, "f1_macro": acc - 0.01, "log_loss": 0.2 / acc}
	r.Stages = []engine.StageRun{load, clean, split, model, score}
	return r
}

// Tag, Untag and SetNote keep annotations on the run records.
func (s *fakeStore) Tag(_ context.Context, id int64, tags ...string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return nil, engine.ErrNotFound
	}
	for _, t := range tags {
		if !slices.Contains(r.Tags, t) {
			r.Tags = append(r.Tags, t)
		}
	}
	slices.Sort(r.Tags)
	return slices.Clone(r.Tags), nil
}

func (s *fakeStore) Untag(_ context.Context, id int64, tags ...string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return nil, engine.ErrNotFound
	}
	r.Tags = slices.DeleteFunc(r.Tags, func(t string) bool { return slices.Contains(tags, t) })
	return slices.Clone(r.Tags), nil
}

func (s *fakeStore) SetNote(_ context.Context, id int64, note string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return engine.ErrNotFound
	}
	r.Note = note
	return nil
}

// kindValue is a value of a kind holding nothing.
type kindValue engine.Kind

func (k kindValue) Kind() engine.Kind { return engine.Kind(k) }

func (k kindValue) Encode(context.Context, io.Writer, engine.PutFunc) (string, error) {
	return "", engine.ErrNotKept
}

func (k kindValue) Preview() *engine.Preview { return nil }

// Delete and Restore move runs to a trash and back.
func (s *fakeStore) Delete(_ context.Context, ids ...int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.runs[id]; !ok {
			return fmt.Errorf("run %d: %w", id, engine.ErrNotFound)
		}
	}
	if s.trash == nil {
		s.trash = map[int64]*engine.Run{}
	}
	for _, id := range ids {
		s.trash[id] = s.runs[id]
		delete(s.runs, id)
	}
	return nil
}

func (s *fakeStore) Restore(_ context.Context, ids ...int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		r, ok := s.trash[id]
		if !ok {
			return fmt.Errorf("run %d is not in the trash: %w", id, engine.ErrNotFound)
		}
		s.runs[id] = r
		delete(s.trash, id)
	}
	return nil
}

// Artifact gives the report a test put in reports ("run/stage").
func (s *fakeStore) Artifact(_ context.Context, run int64, stage, name string) ([]byte, engine.ArtifactInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.reports[fmt.Sprintf("%d/%s", run, stage)]
	if !ok || name != "report" {
		return nil, engine.ArtifactInfo{}, fmt.Errorf("run %d stage %s: no %s: %w", run, stage, name, engine.ErrNotFound)
	}
	return b, engine.ArtifactInfo{Stage: stage, Name: name, Format: "json", Size: len(b)}, nil
}

// storeWithReports is storeWithRuns with the score stage of runs 1 and 2
// keeping a report: per-class curves of two classes, a shade apart.
func storeWithReports() *fakeStore {
	s := storeWithRuns()
	s.reports = map[string][]byte{}
	for id := int64(1); id <= 2; id++ {
		d := float64(id) * 0.05
		curve := func(class string, k float64) map[string]any {
			return map[string]any{
				"class": class, "fpr": []float64{0, 0.05 + d, 0.2 + k, 0.5, 1}, "tpr": []float64{0, 0.6 - d, 0.85 - k, 0.97, 1},
				"roc_auc": 0.93 - d - k/2, "recall": []float64{0, 0.4, 0.7 - d, 0.9 - k, 1}, "precision": []float64{1, 0.98 - d, 0.9 - k, 0.75, 0.5},
				"average_precision": 0.88 - d - k/2,
			}
		}
		rep := map[string]any{
			"metrics": s.runs[id].Stages[4].Metrics,
			"details": map[string]any{"classes": []string{"a", "b"}, "class_curves": []any{curve("a", 0), curve("b", 0.1)}, "confusion_matrix": [][]int{{13, 1}, {1, 9}}},
		}
		b, err := json.Marshal(rep)
		if err != nil {
			panic(err)
		}
		s.reports[fmt.Sprintf("%d/score", id)] = b
		s.runs[id].Stages[4].Artifacts = []engine.ArtifactInfo{{Stage: "score", Name: "report", Format: "json", SHA256: "77aa01c3e9d2b5f4", Size: len(b)}}
	}
	return s
}
