package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ml"
)

// checkEstimatorInput validates what reaches an estimator.
func checkEstimatorInput(d *estimatorDef, s engine.Shape) []error {
	var errs []error
	if bad := nonNumeric(schemaOf(s)); len(bad) > 0 {
		errs = append(errs, fmt.Errorf("non-numeric feature columns %s reach %s: add a one_hot stage before it (or drop them)", strings.Join(bad, ", "), d.name))
	}
	if s.Task != "" && d.task != taskClustering && s.Task != d.task {
		errs = append(errs, fmt.Errorf("%s is a %s estimator, but the split's target %s is %s (set task on the split, or pick a %s estimator)", d.name, d.task, s.Target, s.Task, s.Task))
	}
	return errs
}

func trainStage(d *estimatorDef) *engine.StageType {
	return &engine.StageType{
		Name: d.name, Group: "train", Doc: d.doc, In: engine.KindSplit, MinIn: 1, MaxIn: 1, Out: engine.KindModel,
		Params: d.params,
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			errs := checkEstimatorInput(d, in[0])
			if err := checkHyper("max_bins", p["max_bins"]); err != nil {
				errs = append(errs, err)
			}
			return in[0], errs
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			s, err := splitOf(sc.Inputs[0])
			if err != nil {
				return nil, err
			}
			est, err := d.newEstimator(sc.Params, sc.Seed)
			if err != nil {
				return nil, err
			}
			m, err := fitModel(ctx, sc, d, est, s, map[string]any(sc.Params), nil)
			if err != nil {
				return nil, err
			}
			return modelOutput(sc, m)
		},
	}
}

// progressHook reports fit progress and stops the fit on cancel.
func progressHook(ctx context.Context, sc *engine.StageContext, unit string) ml.Progress {
	return func(done, total int) error {
		sc.Progress(int64(done), int64(total), unit)
		return ctx.Err()
	}
}

// fitModel fits est on the split's training rows and scores it on the test rows.
// hook, when set, replaces the estimator's own progress report.
func fitModel(ctx context.Context, sc *engine.StageContext, d *estimatorDef, est ml.Estimator, s *Split, params map[string]any, hook ml.Progress) (*Model, error) {
	if d.task != taskClustering && s.Task != d.task {
		return nil, fmt.Errorf("%s is a %s estimator, but target %s is %s", d.name, d.task, s.Target, s.Task)
	}
	X, err := matrix(s.Train)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(X, s.Train.Names(), "feature", takesMissing(est)); err != nil {
		return nil, err
	}
	if p, ok := est.(ml.Progressor); ok {
		if hook == nil {
			unit := d.unit
			if unit == "" {
				unit = "steps"
			}
			hook = progressHook(ctx, sc, unit)
		}
		p.SetProgress(hook)
	}
	if err := est.Fit(X, s.YTrain); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("fit %s: %w", d.name, err)
	}
	decl := map[string]any{}
	for _, p := range d.params {
		if v, ok := params[p.Name]; ok {
			decl[p.Name] = v
		}
	}
	m := &Model{Stage: sc.ID(), Type: d.name, Params: decl, Estimator: est, Split: s, Features: s.Train.Names()}
	sc.Phase("scoring test rows")
	m.Metrics, err = testScores(m)
	if err != nil {
		return nil, err
	}
	sc.Logf("fitted %s on %d rows × %d features; test %s", d.name, len(s.YTrain), len(m.Features), engine.MetricsLine(m.Metrics, 0))
	return m, nil
}

// testScores are the headline scores of a fitted model on its test rows.
func testScores(m *Model) (map[string]float64, error) {
	s := m.Split
	Xte, err := matrix(s.Test)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(Xte, s.Test.Names(), "test feature", takesMissing(m.Estimator)); err != nil {
		return nil, err
	}
	pred := m.Estimator.Predict(nil, Xte)
	switch {
	case m.Type == "kmeans":
		out := map[string]float64{"inertia": kmeansInertia(m.Estimator)}
		if s.Task == taskClassification {
			out["ari"] = ml.AdjustedRandIndex(toInts(s.YTest), toInts(pred))
		}
		return out, nil
	case s.Task == taskClassification:
		return map[string]float64{"accuracy": ml.Accuracy(s.YTest, pred), "f1_macro": ml.F1(s.YTest, pred, ml.Macro)}, nil
	}
	return map[string]float64{"r2": ml.R2(s.YTest, pred), "rmse": ml.RMSE(s.YTest, pred)}, nil
}

func toInts(v []float64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// modelOutput serialises the model and returns it as the stage output
// with the model file as an artifact.
func modelOutput(sc *engine.StageContext, m *Model) (*engine.Output, error) {
	src := ModelSource{Pipeline: sc.Plan.Spec.Name, Stage: sc.ID(), SpecHash: sc.Plan.Spec.Hash()}
	sc.Phase("encoding model")
	b, err := encodeModel(m, sc.Version, src)
	if err != nil {
		return nil, err
	}
	m.File = b
	out := &engine.Output{
		Value:     m,
		Metrics:   m.Metrics,
		Artifacts: []engine.Artifact{{ArtifactInfo: engine.ArtifactInfo{Name: "model", Format: "json"}, Data: b}},
	}
	if m.Search != nil {
		sb, err := json.Marshal(m.Search)
		if err != nil {
			return nil, err
		}
		out.Artifacts = append(out.Artifacts, engine.Artifact{ArtifactInfo: engine.ArtifactInfo{Name: "search", Format: "json"}, Data: sb})
	}
	return out, nil
}
