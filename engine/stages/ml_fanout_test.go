package stages_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store/artifacts"
)

// TestTuningUnitsRunAnywhere runs each tuning stage the way a cluster
// does: every unit from a freshly decoded copy of the stage's input, with
// a context of its own, in reverse order, then Reduce with the results in
// unit order. The output must be the bytes the local executor wrote, and
// the leaderboard must have one typed fold event per unit.
func TestTuningUnitsRunAnywhere(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, stage, kept string }{
		{"grid", "  - {id: tune, uses: grid_search, needs: [scale], with: {model: logistic_regression, params: {max_iter: 200}, grid: {C: [0.1, 1, 10], fit_intercept: [true, false]}, cv: 3}}\n", "model"},
		{"random", "  - {id: tune, uses: random_search, needs: [scale], with: {model: random_forest_classifier, params: {n_estimators: 5}, space: {max_depth: [2, 0], max_features: [sqrt, all, 0.5]}, n_iter: 4, cv: 4, scoring: f1_macro}}\n", "model"},
		{"cv", "  - {id: tune, uses: cross_validate, needs: [scale], with: {model: knn_classifier, params: {n_neighbors: 7}, cv: 5}}\n", "report"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := mlPipeline(t, head("iris", "species")+tt.stage)
			plan, err := engine.LoadPlan(path, stages.Registry(), nil)
			if err != nil {
				t.Fatal(err)
			}
			store, err := artifacts.Open(filepath.Join(t.TempDir(), "artifacts"))
			if err != nil {
				t.Fatal(err)
			}
			ex := &engine.Executor{Artifacts: store}
			run, err := ex.Run(context.Background(), plan)
			if err != nil || run.Status != engine.StatusSucceeded {
				t.Fatalf("run %v: %v %s", err, run.Status, run.Error)
			}
			local := map[string][]byte{}
			for _, s := range run.Stages {
				for _, a := range s.Artifacts {
					b, err := engine.ReadArtifact(context.Background(), store, a.SHA256)
					if err != nil {
						t.Fatal(err)
					}
					local[s.ID+"/"+a.Name] = b
				}
			}
			scale, _ := run.Stage("scale")
			var splitRef engine.ArtifactInfo
			for _, a := range scale.Artifacts {
				if a.Name == "output" {
					splitRef = a
				}
			}
			ps, _ := plan.Stage("tune")
			fo := ps.Type.FanOut
			if fo == nil {
				t.Fatalf("%s is not a FanOut stage", ps.Type.Name)
			}
			// A context as a worker makes one: the stage's inputs decoded
			// from the store, its log kept here.
			var mu sync.Mutex
			var folds []engine.CandidateFold
			fresh := func() *engine.StageContext {
				split, err := ex.LoadOutput(context.Background(), plan, splitRef)
				if err != nil {
					t.Fatal(err)
				}
				return engine.NewStageContext(plan, ps, []engine.Value{split}, func(l engine.LogLine) {
					if l.Fold != nil {
						mu.Lock()
						folds = append(folds, *l.Fold)
						mu.Unlock()
					}
				})
			}
			ctx := context.Background()
			units, err := fo.Units(ctx, fresh())
			if err != nil {
				t.Fatal(err)
			}
			results := make([]json.RawMessage, len(units))
			for i := len(units) - 1; i >= 0; i-- {
				if results[i], err = fo.RunUnit(ctx, fresh(), units[i]); err != nil {
					t.Fatalf("unit %d: %v", i, err)
				}
				if len(units[i]) > engine.MaxUnitBytes || len(results[i]) > engine.MaxUnitBytes {
					t.Errorf("unit %d: %d-byte descriptor, %d-byte result", i, len(units[i]), len(results[i]))
				}
			}
			out, err := fo.Reduce(ctx, fresh(), results)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{}
			for _, a := range out.Artifacts {
				got[a.Name] = a.Data
			}
			if tt.kept == "report" {
				var buf bytes.Buffer
				if _, err := out.Value.Encode(ctx, &buf, nil); err != nil {
					t.Fatal(err)
				}
				got["output"], tt.kept = buf.Bytes(), "output"
			}
			if len(got[tt.kept]) == 0 {
				t.Fatalf("no %s from Reduce", tt.kept)
			}
			for name, b := range got {
				if want := local["tune/"+name]; !bytes.Equal(b, want) {
					t.Errorf("%s from units run apart differs from the local run's (%d vs %d bytes)", name, len(b), len(want))
				}
			}
			if strings.HasSuffix(ps.Type.Name, "_search") {
				// The workbench's events arrive asynchronously; wait for them.
				waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(folds) == len(units) })
				seen := map[string]bool{}
				mu.Lock()
				for _, f := range folds {
					seen[fmt.Sprint(f.Candidate, "/", f.Fold)] = true
					if f.Candidates*f.Folds != len(units) {
						t.Errorf("fold event %+v: want %d fits in all", f, len(units))
					}
				}
				mu.Unlock()
				if len(seen) != len(units) {
					t.Errorf("%d distinct candidate/fold events for %d units", len(seen), len(units))
				}
			}
		})
	}
}

// waitFor polls cond until it holds, failing after many tries.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("condition never held")
}

// TestSearchScoresSurviveTheirJSON: a unit's score travels as JSON; a
// score that is not a number (r2 of a constant fold) must arrive as it
// left, and the search ranks it last as it always has.
func TestSearchScoresSurviveTheirJSON(t *testing.T) {
	t.Parallel()
	for _, v := range []float64{0.1 + 0.2, -3026.1040952066305, 1e-300, math.NaN(), math.Inf(1), math.Inf(-1)} {
		b, err := stages.EncodeScore(v)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		got, err := stages.DecodeScore(b)
		if err != nil {
			t.Fatalf("%v: %s: %v", v, b, err)
		}
		if math.Float64bits(got) != math.Float64bits(v) && !(math.IsNaN(v) && math.IsNaN(got)) {
			t.Errorf("%v came back as %v (%s)", v, got, b)
		}
	}
	if _, err := stages.DecodeScore([]byte(`{"score":"lots"}`)); err == nil {
		t.Error("a score that is no number was read")
	}
}
