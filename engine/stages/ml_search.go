package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ml"
)

func searchStage(name string) *engine.StageType {
	random := name == "random_search"
	params := []engine.Param{
		{Name: "model", Type: engine.TypeEnum, Enum: estimatorNames(), Required: true, Doc: "the train stage type to tune"},
		{Name: "params", Type: engine.TypeMap, Doc: "fixed hyperparameters of the model"},
		{Name: "cv", Type: engine.TypeInt, Default: 5, Min: engine.Range(2), Doc: "cross-validation folds (stratified for classifiers)"},
		{Name: "scoring", Type: engine.TypeEnum, Enum: append([]string{"default"}, ml.ScorerNames()...), Default: "default", Doc: "what ranks candidates (default: accuracy or r2)"},
	}
	doc := "cross-validate every combination of a grid of hyperparameters and refit the best"
	if random {
		doc = "cross-validate n_iter random draws from lists of hyperparameters and refit the best"
		params = append(params,
			engine.Param{Name: "space", Type: engine.TypeMap, Required: true, Doc: "hyperparameter → list of values to draw from"},
			engine.Param{Name: "n_iter", Type: engine.TypeInt, Default: 10, Min: one, Doc: "candidates drawn"})
	} else {
		params = append(params, engine.Param{Name: "grid", Type: engine.TypeMap, Required: true, Doc: "hyperparameter → list of values to try"})
	}
	gridParam := "grid"
	if random {
		gridParam = "space"
	}
	return &engine.StageType{
		Name: name, Group: "tune", Doc: doc, In: engine.KindSplit, MinIn: 1, MaxIn: 1, Out: engine.KindModel, Params: params,
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			d, _ := estimatorByName(p.String("model"))
			if d == nil {
				return in[0], nil
			}
			var errs []error
			errs = append(errs, checkEstimatorInput(d, in[0])...)
			_, err := searchSpace(d, p.Map(gridParam))
			if err != nil {
				errs = append(errs, &engine.ParamError{Param: gridParam, Msg: err.Error()})
			}
			if _, err := fixedParams(d, p.Map("params")); err != nil {
				errs = append(errs, &engine.ParamError{Param: "params", Msg: err.Error()})
			}
			return in[0], errs
		},
		FanOut: searchFanOut(random, gridParam),
	}
}

// searchSpace checks a grid against the estimator's declared parameters
// and converts each value to the parameter's type.
func searchSpace(d *estimatorDef, grid map[string]any) (map[string][]any, error) {
	if len(grid) == 0 {
		return nil, fmt.Errorf("needs at least one hyperparameter with a list of values")
	}
	out := map[string][]any{}
	var names []string
	for _, p := range d.params {
		names = append(names, p.Name)
	}
	for _, k := range sortedKeys(grid) {
		decl := paramDecl(d, k)
		if decl == nil {
			return nil, fmt.Errorf("%s has no hyperparameter %q%s (it has %s)", d.name, k, suggest(k, names), strings.Join(names, ", "))
		}
		list, ok := grid[k].([]any)
		if !ok {
			list = []any{grid[k]}
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%s: empty list of values", k)
		}
		for _, v := range list {
			cv, err := decl.Coerce(v)
			if err != nil {
				return nil, err
			}
			if err := checkHyper(k, cv); err != nil {
				return nil, err
			}
			out[k] = append(out[k], cv)
		}
	}
	return out, nil
}

// checkHyper checks what a declared range cannot say of a coerced
// hyperparameter: max_bins is 0 (exact splits) or at least 2.
func checkHyper(name string, v any) error {
	if name == "max_bins" && v == 1 {
		return paramErr(name, "max_bins must be 0 or null (exact splits) or at least 2, got 1")
	}
	return nil
}

func fixedParams(d *estimatorDef, m map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for _, k := range sortedKeys(m) {
		decl := paramDecl(d, k)
		if decl == nil {
			var names []string
			for _, p := range d.params {
				names = append(names, p.Name)
			}
			return nil, fmt.Errorf("%s has no hyperparameter %q%s (it has %s)", d.name, k, suggest(k, names), strings.Join(names, ", "))
		}
		v, err := decl.Coerce(m[k])
		if err != nil {
			return nil, err
		}
		if err := checkHyper(k, v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func paramDecl(d *estimatorDef, name string) *engine.Param {
	for i := range d.params {
		if d.params[i].Name == name {
			return &d.params[i]
		}
	}
	return nil
}

func scorerFor(name string) (ml.Scorer, error) {
	if name == "" || name == "default" {
		return nil, nil
	}
	return ml.ScorerFor(name)
}

// tuneInputs reads what the tuning and cross-validation stages share:
// the split, the estimator to fit, its fixed hyperparameters and the
// scorer (nil for the estimator's default).
func tuneInputs(sc *engine.StageContext) (*Split, *estimatorDef, map[string]any, ml.Scorer, error) {
	s, err := splitOf(sc.Inputs[0])
	if err != nil {
		return nil, nil, nil, nil, err
	}
	d, ok := estimatorByName(sc.Params.String("model"))
	if !ok {
		return nil, nil, nil, nil, fmt.Errorf("unknown model %q", sc.Params.String("model"))
	}
	fixed, err := fixedParams(d, sc.Params.Map("params"))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	score, err := scorerFor(sc.Params.String("scoring"))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return s, d, fixed, score, nil
}

// foldsFor is scikit-learn's cv=k: stratified folds for classification,
// plain k-fold otherwise, neither shuffled.
func foldsFor(task string, k int) ml.Splitter {
	if task == taskClassification {
		return ml.StratifiedKFold{NSplits: k}
	}
	return ml.KFold{NSplits: k}
}

// searchCandidates lists a search's candidates in order: every
// combination of the grid, or random_search's draws from the pipeline
// seed.
func searchCandidates(sc *engine.StageContext, d *estimatorDef, random bool, gridParam string) ([]map[string]any, error) {
	space, err := searchSpace(d, sc.Params.Map(gridParam))
	if err != nil {
		return nil, err
	}
	if random {
		return (&ml.RandomSearch{Lists: space, NIter: sc.Params.Int("n_iter"), Seed: sc.Seed}).Candidates(), nil
	}
	return ml.ParameterGrid(space), nil
}

// searchFanOut is grid_search's and random_search's work: one unit per
// candidate × fold fit, then the ranking and the refit of the best on
// every training row. Progress counts fits, the refit the last one.
func searchFanOut(random bool, gridParam string) *engine.FanOut {
	return &engine.FanOut{
		Units: func(ctx context.Context, sc *engine.StageContext) ([]json.RawMessage, error) {
			j, err := newFoldJob(sc, true)
			if err != nil {
				return nil, err
			}
			cands, err := searchCandidates(sc, j.def, random, gridParam)
			if err != nil {
				return nil, err
			}
			// Parameter errors surface before any fit, in candidate order.
			for c, p := range cands {
				if _, err := j.def.newEstimator(j.withFixed(p), j.seed); err != nil {
					return nil, fmt.Errorf("candidate %d %v: %w", c, p, err)
				}
			}
			n := len(cands) * len(j.folds)
			sc.Logf("%d candidates × %d folds = %d fits of %s", len(cands), len(j.folds), n, j.def.name)
			sc.Progress(0, int64(n+1), "fits")
			return unitsFor(cands, len(j.folds))
		},
		RunUnit: func(ctx context.Context, sc *engine.StageContext, unit json.RawMessage) (json.RawMessage, error) {
			return runFoldUnit(ctx, sc, unit, true)
		},
		Reduce: func(ctx context.Context, sc *engine.StageContext, results []json.RawMessage) (*engine.Output, error) {
			j, err := newFoldJob(sc, true)
			if err != nil {
				return nil, err
			}
			cands, err := searchCandidates(sc, j.def, random, gridParam)
			if err != nil {
				return nil, err
			}
			scores, err := foldScores(results, len(cands), len(j.folds))
			if err != nil {
				return nil, err
			}
			return refitBest(ctx, sc, j, ml.RankCandidates(cands, scores))
		},
	}
}

// refitBest logs a search's ranking, refits the best candidate on the
// whole training set with the chain fitted there, and gives the model.
func refitBest(ctx context.Context, sc *engine.StageContext, j *foldJob, res ml.SearchResult) (*engine.Output, error) {
	for i, c := range res.Candidates {
		sc.Logf("candidate %d/%d %s: %.4f ± %.4f (rank %d)", i+1, len(res.Candidates), paramText(c.Params), c.Mean, c.Std, c.Rank)
	}
	sc.Logf("best %s: %.4f", paramText(res.BestParams), res.BestScore)
	all := j.withFixed(res.BestParams)
	est, err := j.def.newEstimator(all, j.seed)
	if err != nil {
		return nil, err
	}
	// The refit is one more fit: the count stays in fits, and the
	// estimator's own iterations only check for cancellation.
	nFits := int64(len(res.Candidates) * len(j.folds))
	sc.Phase("refitting best")
	sc.Progress(nFits, nFits+1, "fits")
	m, err := fitModel(ctx, sc, j.def, est, j.split, all, func(int, int) error { return ctx.Err() })
	if err != nil {
		return nil, err
	}
	sc.Progress(nFits+1, nFits+1, "fits")
	m.Search = &res
	m.Metrics["best_cv_score"] = res.BestScore
	m.Metrics["candidates"] = float64(len(res.Candidates))
	for k, v := range res.BestParams {
		if f, ok := toFloat(v); ok {
			m.Metrics["best_"+k] = f
		}
	}
	return modelOutput(sc, m)
}

func paramText(p map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(p) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, p[k]))
	}
	return strings.Join(parts, " ")
}

func crossValidateStage() *engine.StageType {
	return &engine.StageType{
		Name: "cross_validate", Group: "evaluate", Doc: "k-fold cross-validation of a model on the training rows (chain refitted per fold)",
		In: engine.KindSplit, MinIn: 1, MaxIn: 1, Out: engine.KindReport,
		Params: []engine.Param{
			{Name: "model", Type: engine.TypeEnum, Enum: estimatorNames(), Required: true, Doc: "the train stage type to cross-validate"},
			{Name: "params", Type: engine.TypeMap, Doc: "its hyperparameters"},
			{Name: "cv", Type: engine.TypeInt, Default: 5, Min: engine.Range(2), Doc: "folds (stratified for classifiers)"},
			{Name: "scoring", Type: engine.TypeEnum, Enum: append([]string{"default"}, ml.ScorerNames()...), Default: "default", Doc: "the score (default: accuracy or r2)"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			d, _ := estimatorByName(p.String("model"))
			if d == nil {
				return engine.Shape{}, nil
			}
			errs := checkEstimatorInput(d, in[0])
			if _, err := fixedParams(d, p.Map("params")); err != nil {
				errs = append(errs, &engine.ParamError{Param: "params", Msg: err.Error()})
			}
			return engine.Shape{}, errs
		},
		FanOut: crossValidateFanOut(),
	}
}

// crossValidateFanOut is cross_validate's work: one unit per fold, then
// the report. Progress counts folds.
func crossValidateFanOut() *engine.FanOut {
	return &engine.FanOut{
		Units: func(ctx context.Context, sc *engine.StageContext) ([]json.RawMessage, error) {
			j, err := newFoldJob(sc, false)
			if err != nil {
				return nil, err
			}
			if _, err := j.def.newEstimator(j.fixed, j.seed); err != nil {
				return nil, fmt.Errorf("candidate 0 %v: %w", j.fixed, err)
			}
			sc.Progress(0, int64(len(j.folds)), "folds")
			return unitsFor([]map[string]any{nil}, len(j.folds))
		},
		RunUnit: func(ctx context.Context, sc *engine.StageContext, unit json.RawMessage) (json.RawMessage, error) {
			return runFoldUnit(ctx, sc, unit, false)
		},
		Reduce: func(ctx context.Context, sc *engine.StageContext, results []json.RawMessage) (*engine.Output, error) {
			j, err := newFoldJob(sc, false)
			if err != nil {
				return nil, err
			}
			all, err := foldScores(results, 1, len(j.folds))
			if err != nil {
				return nil, err
			}
			scores := all[0]
			rep := &Report{Metrics: map[string]float64{}, Details: engine.ReportDetails{Model: j.def.name, Folds: scores}}
			for i, v := range scores {
				rep.Metrics[fmt.Sprintf("fold%d", i+1)] = v
				sc.Logf("fold %d/%d: %.4f", i+1, len(scores), v)
			}
			mean, std, _, _ := summary(scores)
			rep.Metrics["mean"], rep.Metrics["std"] = mean, std
			sc.Logf("%s: %.4f ± %.4f over %d folds", j.def.name, mean, std, len(scores))
			return reportOutput(rep)
		},
	}
}
