package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// testRegistry is a small catalog with behaviours the executor tests need:
// a source, a sleeper that honours cancellation, a flaky stage that fails
// its first attempts, a panicking stage, and kinds for wiring checks.
type testRegistry struct {
	*engine.Registry
	mu       sync.Mutex
	attempts map[string]int
	running  atomic.Int32
	peak     atomic.Int32
}

func newTestRegistry() *testRegistry {
	tr := &testRegistry{attempts: map[string]int{}}
	table := func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
		return &engine.Output{Value: &testValue{kind: engine.KindTable, nums: []int64{1, 2, 3}}}, nil
	}
	tr.Registry = engine.NewRegistry(
		&engine.StageType{Name: "source", Group: "extract", Doc: "gives a table", Out: engine.KindTable,
			Params: []engine.Param{{Name: "path", Type: engine.TypePath, Input: true, Doc: "a file"}},
			Check: func(engine.Params, []engine.Shape, engine.CheckEnv) (engine.Shape, []error) {
				return engine.Shape{Schema: engine.Schema{{Name: "x", Type: engine.ColumnInt}}}, nil
			},
			Run: table},
		&engine.StageType{Name: "sleep", Group: "transform", Doc: "sleeps", In: engine.KindTable, MinIn: 0, MaxIn: -1, Out: engine.KindTable,
			Params: []engine.Param{
				{Name: "for", Type: engine.TypeDuration, Default: "10ms", Doc: "how long"},
				{Name: "ignore_cancel", Type: engine.TypeBool, Default: false, Doc: "keep sleeping when cancelled"},
				{Name: "fail", Type: engine.TypeBool, Default: false, Doc: "fail after sleeping"},
			},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				n := tr.running.Add(1)
				defer tr.running.Add(-1)
				for {
					p := tr.peak.Load()
					if n <= p || tr.peak.CompareAndSwap(p, n) {
						break
					}
				}
				sc.Progress(0, 2, "naps")
				if sc.Params.Bool("ignore_cancel") {
					time.Sleep(sc.Params.Duration("for"))
				} else {
					select {
					case <-time.After(sc.Params.Duration("for")):
					case <-ctx.Done():
						return nil, ctx.Err()
					}
				}
				sc.Progress(2, 2, "naps")
				sc.Logf("slept %s", sc.Params.Duration("for"))
				if sc.Params.Bool("fail") {
					return nil, errors.New("asked to fail")
				}
				return table(ctx, sc)
			}},
		&engine.StageType{Name: "flaky", Group: "transform", Doc: "fails its first attempts", In: engine.KindTable, MinIn: 0, MaxIn: 1, Out: engine.KindTable,
			Params: []engine.Param{{Name: "failures", Type: engine.TypeInt, Default: 1, Min: engine.Range(0), Doc: "attempts that fail"}},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				tr.mu.Lock()
				tr.attempts[sc.ID()]++
				n := tr.attempts[sc.ID()]
				tr.mu.Unlock()
				if n <= sc.Params.Int("failures") {
					return nil, fmt.Errorf("failure %d", n)
				}
				return table(ctx, sc)
			}},
		&engine.StageType{Name: "boom", Group: "transform", Doc: "panics", In: engine.KindTable, MinIn: 0, MaxIn: 1, Out: engine.KindTable,
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				var m map[string]int
				m["x"] = 1 //nolint:staticcheck // SA5000 is the point: a nil map write, a runtime panic the executor must recover
				return nil, nil
			}},
		&engine.StageType{Name: "to_split", Group: "split", Doc: "table to split", In: engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindSplit,
			Params: []engine.Param{{Name: "target", Type: engine.TypeString, Required: true, Doc: "target column"},
				{Name: "test_size", Type: engine.TypeFloat, Default: 0.2, Min: engine.Range(0), Max: engine.Range(1), Doc: "test share"}},
			Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
				hasTarget := func(c engine.Column) bool { return c.Name == p.String("target") }
				if in[0].Schema != nil && !slices.ContainsFunc(in[0].Schema, hasTarget) {
					return engine.Shape{}, []error{&engine.ParamError{Param: "target", Msg: fmt.Sprintf("no column %q", p.String("target"))}}
				}
				return engine.Shape{Schema: in[0].Schema, Target: p.String("target")}, nil
			},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				return &engine.Output{Value: &testValue{kind: engine.KindSplit, nums: []int64{int64(sc.Seed % 7)}}}, nil
			}},
		&engine.StageType{Name: "fit", Group: "train", Doc: "split to model", In: engine.KindSplit, MinIn: 1, MaxIn: 1, Out: engine.KindModel,
			Params: []engine.Param{{Name: "mode", Type: engine.TypeEnum, Enum: []string{"fast", "slow"}, Default: "fast", Doc: "how"}},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				split, _ := sc.Inputs[0].(*testValue)
				return &engine.Output{Value: &testValue{kind: engine.KindModel, nums: []int64{1}, from: split}, Metrics: map[string]float64{"seed_mod": float64(sc.Seed % 1000)},
					Artifacts: []engine.Artifact{{ArtifactInfo: engine.ArtifactInfo{Name: "model", Format: "json"}, Data: []byte(`{"w":1}`)}}}, nil
			}},
	)
	return tr
}

// writeSpec writes a pipeline file into a temp dir and returns its path.
func writeSpec(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustPlan(t *testing.T, reg *engine.Registry, text string) *engine.Plan {
	t.Helper()
	plan, err := engine.LoadPlan(writeSpec(t, text), reg, nil)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return plan
}

func stageStatus(r *engine.Run) map[string]engine.Status {
	m := map[string]engine.Status{}
	for _, s := range r.Stages {
		m[s.ID] = s.Status
	}
	return m
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
