package stages_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

// pipeline writes a pipeline file (name and seed added) and the given data
// files into a new temporary folder and returns the pipeline's path.
func pipeline(t testing.TB, stagesYAML string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "pipeline.yaml")
	src := "name: test\nseed: 42\nstages:\n" + stagesYAML
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rewrite replaces old with new in the file at path.
func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("rewrite: %s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustPlan validates the pipeline file and fails the test on any problem.
// mustWriteFile writes a test's file, failing the test if it cannot.
func mustWriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustPlan(t testing.TB, path string) *engine.Plan {
	t.Helper()
	plan, err := engine.LoadPlan(path, stages.Registry(), nil)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	return plan
}

// invalid validates the pipeline file and returns its problems, one per
// line; it fails the test when the file is valid.
func invalid(t *testing.T, path string) string {
	t.Helper()
	_, err := engine.LoadPlan(path, stages.Registry(), nil)
	if err == nil {
		t.Fatalf("validate: no error, want one")
	}
	var list engine.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("validate: got %T %v, want an ErrorList", err, err)
	}
	return err.Error()
}

// outputs runs a plan stage by stage, in order, with each stage's Run
// func, and returns every stage's table; the first failure is returned
// with the stage's id.
func outputs(t testing.TB, plan *engine.Plan) (map[string]*frame.Frame, error) {
	t.Helper()
	ctx := context.Background()
	vals := map[string]engine.Value{}
	tables := map[string]*frame.Frame{}
	for _, ps := range plan.Order() {
		in := make([]engine.Value, len(ps.Inputs))
		for i, id := range ps.Inputs {
			in[i] = vals[id]
		}
		sc := engine.NewStageContext(plan, ps, in, nil)
		out, err := ps.Type.Run(ctx, sc)
		if err != nil {
			return tables, &engine.StageError{Stage: ps.Spec.ID, Err: err}
		}
		vals[ps.Spec.ID] = out.Value
		tables[ps.Spec.ID], _ = stages.FrameOf(out.Value)
	}
	return tables, nil
}

// mustRun validates and runs the pipeline file stage by stage and returns
// the table of the stage with the given id.
func mustRun(t *testing.T, path, id string) *frame.Frame {
	t.Helper()
	tables, err := outputs(t, mustPlan(t, path))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	f, ok := tables[id]
	if !ok || f == nil {
		t.Fatalf("run: stage %s gave no table", id)
	}
	return f
}

// runErr validates and runs the pipeline and returns the run error; it
// fails the test when the run succeeds.
func runErr(t *testing.T, path string) error {
	t.Helper()
	_, err := outputs(t, mustPlan(t, path))
	if err == nil {
		t.Fatal("run: no error, want one")
	}
	return err
}

// recorder keeps every log line of a run, as the store would.
type recorder struct {
	mu   sync.Mutex
	logs []engine.LogLine
}

func (r *recorder) BeginRun(context.Context, *engine.Run) (int64, error) { return 1, nil }

func (r *recorder) RecordRun(_ context.Context, _ *engine.Run, d *engine.RunDelta) error {
	r.mu.Lock()
	r.logs = append(r.logs, d.Logs...)
	r.mu.Unlock()
	return nil
}

func (r *recorder) lines(stage, stream string) []engine.LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []engine.LogLine
	for _, l := range r.logs {
		if l.Stage == stage && (stream == "*" || l.Stream == stream) {
			out = append(out, l)
		}
	}
	return out
}

// execute runs the plan with the engine's executor and returns the run
// record and the log lines.
// testGrace is how long the tests' executors wait for a cancelled stage
// to return. The tests ask whether a stage returns when cancelled, not how
// fast: at the default grace (1s) a loaded machine running them under
// -race took longer than that to stop a fit or kill a process group, and
// the stage was reported abandoned although it was returning.
const testGrace = 30 * time.Second

func execute(t *testing.T, ctx context.Context, plan *engine.Plan) (*engine.Run, *recorder) {
	t.Helper()
	rec := &recorder{}
	ex := &engine.Executor{Recorder: rec, FlushInterval: 20 * time.Millisecond, Grace: testGrace}
	run, err := ex.Run(ctx, plan)
	if err != nil {
		t.Fatalf("executor: %v", err)
	}
	return run, rec
}

// runWatching runs plan under ctx, passing every event to onEvent (nil:
// none), and reports whether stage's own finish was published before the
// run's. A stage that stops on its context returns within the executor's
// grace and is reported finished; one that does not is abandoned, and
// only the run's end reports it.
func runWatching(t *testing.T, ctx context.Context, plan *engine.Plan, stage string, onEvent func(engine.Event)) (run *engine.Run, returned bool) {
	t.Helper()
	broker := &engine.Broker{}
	subCtx, unsubscribe := context.WithCancel(context.Background())
	defer unsubscribe()
	events := broker.Subscribe(subCtx)
	seen := make(chan bool, 1)
	go func() {
		finished := false
		for ev := range events {
			if onEvent != nil {
				onEvent(ev)
			}
			if ev.Kind == engine.EventStageFinished && ev.Stage == stage {
				finished = true
			}
			if ev.Kind == engine.EventRunFinished {
				break
			}
		}
		seen <- finished
		for range events { // until unsubscribed
		}
	}()
	run, err := (&engine.Executor{Events: broker, Grace: testGrace}).Run(ctx, plan)
	if err != nil {
		t.Fatalf("executor: %v", err)
	}
	return run, <-seen
}

// column returns a column's values as text (Column.Str; missing is "").
func column(t *testing.T, f *frame.Frame, name string) []string {
	t.Helper()
	c, _ := f.ColByName(name)
	if c == nil {
		t.Fatalf("no column %s in %s", name, f)
	}
	out := make([]string, c.Len())
	for i := range out {
		out[i] = c.Str(i)
	}
	return out
}

// joined is column's values joined by commas, for compact comparisons.
func joined(t *testing.T, f *frame.Frame, name string) string {
	t.Helper()
	return strings.Join(column(t, f, name), ",")
}

// validatedSchema is what validation said of a stage's columns (nil: unknown).
func validatedSchema(ps *engine.PlannedStage) frame.Schema { return stages.SchemaOf(ps.Shape) }

// schemaText renders a schema for comparisons ("a float, b string").
func schemaText(s frame.Schema) string {
	if s == nil {
		return "<unknown>"
	}
	return s.String()
}

// yamlQuote quotes s as a YAML double-quoted string.
func yamlQuote(s string) string { return fmt.Sprintf("%q", s) }

// readBack reads a CSV file a stage wrote.
func readBack(t *testing.T, path string) *frame.Frame {
	t.Helper()
	f, err := frame.ReadCSVFile(path, frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// irisDirty is the testdata copy of the deliberately messy iris file.
func irisDirty(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "iris_dirty.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
