package stages

import (
	"context"
	"fmt"
	"strings"

	"gonum.org/v1/gonum/mat"

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
		Check: func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
			d, _ := estimatorByName(p.String("model"))
			if d == nil {
				return in[0], nil
			}
			var errs []error
			for _, e := range checkEstimatorInput(d, in[0]) {
				errs = append(errs, e)
			}
			_, err := searchSpace(d, p.Map(gridParam))
			if err != nil {
				errs = append(errs, &engine.ParamError{Param: gridParam, Msg: err.Error()})
			}
			if _, err := fixedParams(d, p.Map("params")); err != nil {
				errs = append(errs, &engine.ParamError{Param: "params", Msg: err.Error()})
			}
			return in[0], errs
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			return runSearch(ctx, sc, random, gridParam)
		},
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

func runSearch(ctx context.Context, sc *engine.StageContext, random bool, gridParam string) (*engine.Output, error) {
	s, d, fixed, score, err := tuneInputs(sc)
	if err != nil {
		return nil, err
	}
	space, err := searchSpace(d, sc.Params.Map(gridParam))
	if err != nil {
		return nil, err
	}
	factory := newChainFactory(s, d, fixed, sc.Seed)
	cv := foldsFor(s.Task, sc.Params.Int("cv"))
	folds, err := cv.Split(s.YTrain)
	if err != nil {
		return nil, err
	}
	var cands []map[string]any
	var fit interface {
		Fit(mat.Matrix, []float64) error
		SetProgress(ml.Progress)
	}
	var result func() ml.SearchResult
	if random {
		rs := &ml.RandomSearch{Factory: factory, Lists: space, NIter: sc.Params.Int("n_iter"), Seed: sc.Seed, CV: cv}
		cands = rs.Candidates()
		rs.Scorer = foldLogger(sc, score, s.Task, cands, folds)
		fit, result = rs, func() ml.SearchResult { return rs.Result }
	} else {
		cands = ml.ParameterGrid(space)
		gs := &ml.GridSearch{Factory: factory, Grid: space, CV: cv, Scorer: foldLogger(sc, score, s.Task, cands, folds)}
		fit, result = gs, func() ml.SearchResult { return gs.Result }
	}
	sc.Logf("%d candidates × %d folds = %d fits of %s", len(cands), sc.Params.Int("cv"), len(cands)*sc.Params.Int("cv"), d.name)
	fit.SetProgress(progressHook(ctx, sc, "fits"))
	if err := fit.Fit(rowIndex(len(s.YTrain)), s.YTrain); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	res := result()
	for i, c := range res.Candidates {
		sc.Logf("candidate %d/%d %s: %.4f ± %.4f (rank %d)", i+1, len(res.Candidates), paramText(c.Params), c.Mean, c.Std, c.Rank)
	}
	sc.Logf("best %s: %.4f", paramText(res.BestParams), res.BestScore)
	// Refit the best on the whole training set with the chain fitted there.
	all := map[string]any{}
	for k, v := range fixed {
		all[k] = v
	}
	for k, v := range res.BestParams {
		all[k] = v
	}
	est, err := d.newEstimator(all, sc.Seed)
	if err != nil {
		return nil, err
	}
	// The refit is one more fit: the count stays in fits, and the
	// estimator's own iterations only check for cancellation.
	nFits := int64(len(res.Candidates) * sc.Params.Int("cv"))
	sc.Phase("refitting best")
	sc.Progress(nFits, nFits+1, "fits")
	m, err := fitModel(ctx, sc, d, est, s, all, func(int, int) error { return ctx.Err() })
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
		Check: func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
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
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			s, d, fixed, score, err := tuneInputs(sc)
			if err != nil {
				return nil, err
			}
			folds, err := foldsFor(s.Task, sc.Params.Int("cv")).Split(s.YTrain)
			if err != nil {
				return nil, err
			}
			scores, err := ml.CrossValScore(newChainFactory(s, d, fixed, sc.Seed), nil, rowIndex(len(s.YTrain)), s.YTrain, folds, score, progressHook(ctx, sc, "folds"))
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, err
			}
			rep := &Report{Metrics: map[string]float64{}, Details: map[string]any{"model": d.name, "folds": scores}}
			for i, v := range scores {
				rep.Metrics[fmt.Sprintf("fold%d", i+1)] = v
				sc.Logf("fold %d/%d: %.4f", i+1, len(scores), v)
			}
			mean, std, _, _ := summary(scores)
			rep.Metrics["mean"], rep.Metrics["std"] = mean, std
			sc.Logf("%s: %.4f ± %.4f over %d folds", d.name, mean, std, len(scores))
			return reportOutput(rep)
		},
	}
}
