package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// Model is what flows along a model edge: a fitted estimator with the
// split it was fitted on (its chain, schema and test set).
type Model struct {
	Stage     string
	Type      string // the train stage type (the estimator)
	Params    map[string]any
	Estimator ml.Estimator
	Split     *Split
	Features  []string
	Metrics   map[string]float64 // test scores computed when fitted
	Search    *ml.SearchResult   // tuning stages: every candidate
	File      []byte             // the model file
}

// Report is what flows along a report edge: metrics and the details
// behind them (confusion matrix, curves, importances, folds).
type Report struct {
	Metrics map[string]float64 `json:"metrics"`
	Details map[string]any     `json:"details"`
}

// Version is written into model files; ui/cli sets it at start-up.
var Version = "dev"

// mlStages are the split, preprocess, train, tune, evaluate and export
// stage types.
func mlStages() []*engine.StageType {
	out := []*engine.StageType{splitStage()}
	out = append(out, preprocessStages()...)
	for _, d := range estimators {
		out = append(out, trainStage(d))
	}
	out = append(out, searchStage("grid_search"), searchStage("random_search"))
	out = append(out, evaluateStage(), crossValidateStage(), exportStage())
	return out
}

func splitStage() *engine.StageType {
	return &engine.StageType{
		Name: "split", Group: "split", Doc: "split a table into train and test rows (or take train and test tables as given)",
		In: engine.KindTable, MinIn: 1, MaxIn: 2, Out: engine.KindSplit,
		Params: []engine.Param{
			{Name: "target", Type: engine.TypeString, Scalars: true, Required: true, Doc: "the column to predict"},
			{Name: "test_size", Type: engine.TypeFloat, Default: 0.25, Min: engine.Range(0.001), Max: engine.Range(0.999), Doc: "share of rows held out for testing (one table)"},
			{Name: "stratify", Type: engine.TypeBool, Default: false, Doc: "keep class proportions in both parts (classification)"},
			{Name: "shuffle", Type: engine.TypeBool, Default: true, Doc: "shuffle rows before splitting, from the stage seed"},
			{Name: "task", Type: engine.TypeEnum, Enum: []string{"auto", taskClassification, taskRegression}, Default: "auto", Doc: "what the target is; auto: labels and small integer sets are classes"},
			{Name: "features", Type: engine.TypeStrings, Doc: "feature columns (default: every column but the target)"},
		},
		Check: func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
			var errs []error
			target := p.String("target")
			out := engine.Shape{Target: target}
			for i, s := range in {
				if s.Schema == nil {
					continue
				}
				if s.Schema.Index(target) < 0 {
					what := "the table"
					if len(in) == 2 {
						what = []string{"the train table", "the test table"}[i]
					}
					errs = append(errs, &engine.ParamError{Param: "target", Msg: fmt.Sprintf("%s has no column %q%s", what, target, suggest(target, s.Schema.Names()))})
					continue
				}
				if i > 0 {
					continue
				}
				var feats frame.Schema
				for _, f := range s.Schema {
					if f.Name != target && (len(p.Strings("features")) == 0 || contains(p.Strings("features"), f.Name)) {
						feats = append(feats, f)
					}
				}
				for _, f := range p.Strings("features") {
					if s.Schema.Index(f) < 0 {
						errs = append(errs, &engine.ParamError{Param: "features", Msg: fmt.Sprintf("no column %q%s", f, suggest(f, s.Schema.Names()))})
					}
				}
				out.Schema = feats
				switch t := s.Schema[s.Schema.Index(target)].Type; {
				case p.String("task") != "auto":
					out.Task = p.String("task")
				case t == frame.String || t == frame.Bool:
					out.Task = taskClassification
				case t == frame.Float:
					out.Task = taskRegression
				}
			}
			if p.Bool("stratify") && out.Task == taskRegression {
				errs = append(errs, &engine.ParamError{Param: "stratify", Msg: "stratify needs a classification target"})
			}
			if p.Bool("stratify") && !p.Bool("shuffle") {
				errs = append(errs, &engine.ParamError{Param: "stratify", Msg: "stratify needs shuffle: true"})
			}
			return out, errs
		},
		Run: runSplit,
	}
}

// suggest is " (did you mean X?)" for a likely typo of one of names, or "".
func suggest(s string, names []string) string {
	if d := engine.DidYouMean(s, names); d != "" {
		return fmt.Sprintf(" (did you mean %q?)", d)
	}
	return ""
}

func runSplit(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	p := sc.Params
	target := p.String("target")
	tables := make([]*frame.Frame, len(sc.Inputs))
	for i := range sc.Inputs {
		in, err := input(sc, i)
		if err != nil {
			return nil, err
		}
		tables[i] = in
		if c, _ := in.ColByName(target); c == nil {
			return nil, fmt.Errorf("no target column %q (have %s)", target, strings.Join(in.Names(), ", "))
		}
		// Rows without a target cannot be learned from or scored.
		tc, _ := in.ColByName(target)
		if tc.HasNulls() {
			var keep []int
			for r := 0; r < tc.Len(); r++ {
				if !tc.IsNull(r) {
					keep = append(keep, r)
				}
			}
			sc.Logf("dropped %d rows with no %s", tc.Len()-len(keep), target)
			tables[i] = in.Take(keep)
		}
	}
	full := tables[0]
	tcol, _ := full.ColByName(target)
	task := p.String("task")
	if task == "auto" {
		task = inferTask(tcol)
	}
	var train, test *frame.Frame
	if len(tables) == 2 {
		train, test = tables[0], tables[1]
		if !sameColumns(train, test) {
			return nil, fmt.Errorf("the train and test tables have different columns: %s vs %s", strings.Join(train.Names(), ", "), strings.Join(test.Names(), ", "))
		}
	} else {
		opt := ml.SplitOptions{TestSize: p.Float("test_size"), NoShuffle: !p.Bool("shuffle"), Seed: sc.Seed}
		if p.Bool("stratify") {
			if task != taskClassification {
				return nil, fmt.Errorf("stratify needs a classification target; %s is %s", target, task)
			}
			classes := classesOf(tcol)
			y, err := encodeTarget(tcol, task, classes)
			if err != nil {
				return nil, err
			}
			opt.Stratify = y
		}
		tr, te, err := ml.TrainTestSplit(full.NumRows(), opt)
		if err != nil {
			return nil, err
		}
		train, test = full.Take(tr), full.Take(te)
	}
	trT, _ := train.ColByName(target)
	teT, _ := test.ColByName(target)
	s := &Split{Target: target, Task: task}
	if task == taskClassification {
		s.Classes = classesOf(trT)
		if len(s.Classes) < 2 {
			return nil, fmt.Errorf("target %s has %d class in the training rows; a classifier needs two or more", target, len(s.Classes))
		}
	}
	var err error
	if s.YTrain, err = encodeTarget(trT, task, s.Classes); err != nil {
		return nil, err
	}
	if s.YTest, err = encodeTarget(teT, task, s.Classes); err != nil {
		return nil, err
	}
	feats := p.Strings("features")
	if len(feats) == 0 {
		for _, n := range train.Names() {
			if n != target {
				feats = append(feats, n)
			}
		}
	}
	if s.RawTrain, err = train.Select(feats...); err != nil {
		return nil, err
	}
	if s.RawTest, err = test.Select(feats...); err != nil {
		return nil, err
	}
	s.Train, s.Test = s.RawTrain, s.RawTest
	s.Input = inputColumns(s.RawTrain)
	sc.Logf("%s: %d train rows, %d test rows, %d features%s", task, train.NumRows(), test.NumRows(), len(feats), classText(s.Classes))
	return &engine.Output{Value: s,
		Metrics: map[string]float64{"train_rows": float64(train.NumRows()), "test_rows": float64(test.NumRows())}}, nil
}

func classText(classes []string) string {
	if len(classes) == 0 {
		return ""
	}
	if len(classes) > 10 {
		return fmt.Sprintf(", %d classes", len(classes))
	}
	return ", classes " + strings.Join(classes, ", ")
}

func sameColumns(a, b *frame.Frame) bool {
	an, bn := a.Names(), b.Names()
	if len(an) != len(bn) {
		return false
	}
	for _, n := range an {
		if c, _ := b.ColByName(n); c == nil {
			return false
		}
	}
	return true
}

func splitOf(v engine.Value) (*Split, error) {
	s, ok := v.(*Split)
	if !ok || s == nil {
		return nil, fmt.Errorf("input is not a split")
	}
	return s, nil
}

func modelOf(v engine.Value) (*Model, error) {
	m, ok := v.(*Model)
	if !ok || m == nil {
		return nil, fmt.Errorf("input is not a model")
	}
	return m, nil
}

var pColumns = engine.Param{Name: "columns", Type: engine.TypeStrings, Doc: "columns to transform (default: every suitable feature column)"}

func preprocessStages() []*engine.StageType {
	mk := func(name, doc string, params []engine.Param, numeric bool, shape func(p engine.Params, s frame.Schema) (frame.Schema, []error)) *engine.StageType {
		return &engine.StageType{
			Name: name, Group: "preprocess", Doc: doc, In: engine.KindSplit, MinIn: 1, MaxIn: 1, Out: engine.KindSplit,
			Params: append([]engine.Param{pColumns}, params...),
			Check: func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
				out := in[0]
				if out.Schema == nil {
					return out, nil
				}
				var errs []error
				for _, c := range p.Strings("columns") {
					i := out.Schema.Index(c)
					if i < 0 {
						errs = append(errs, &engine.ParamError{Param: "columns", Msg: fmt.Sprintf("no feature column %q%s", c, suggest(c, out.Schema.Names()))})
					} else if numeric && (out.Schema[i].Type == frame.String || out.Schema[i].Type == frame.Time) {
						errs = append(errs, &engine.ParamError{Param: "columns", Msg: fmt.Sprintf("column %s is %s; %s needs numbers (one_hot it first)", c, out.Schema[i].Type, name)})
					}
				}
				if shape != nil && len(errs) == 0 {
					s, e := shape(p, out.Schema)
					out.Schema = s
					errs = append(errs, e...)
				}
				return out, errs
			},
			Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
				in, err := splitOf(sc.Inputs[0])
				if err != nil {
					return nil, err
				}
				params := map[string]any{}
				for k, v := range sc.Params {
					params[k] = v
				}
				step, err := fitStep(name, params, sc.Params.Strings("columns"), in.Train)
				if err != nil {
					return nil, err
				}
				s := in.clone()
				if s.Train, err = step.Apply(in.Train); err != nil {
					return nil, err
				}
				if s.Test, err = step.Apply(in.Test); err != nil {
					return nil, fmt.Errorf("test rows: %w", err)
				}
				s.Chain = append(s.Chain, step)
				sc.Logf("fitted on %d training rows: %s", in.Train.NumRows(), step.Describe())
				return &engine.Output{Value: s}, nil
			},
		}
	}
	numericOnly := func(name string) func(engine.Params, frame.Schema) (frame.Schema, []error) {
		return func(p engine.Params, s frame.Schema) (frame.Schema, []error) { return s, nil }
	}
	return []*engine.StageType{
		mk("standard_scaler", "centre each numeric feature and scale it to unit variance (fitted on train)", nil, true, numericOnly("standard_scaler")),
		mk("minmax_scaler", "scale each numeric feature to [min, max] (fitted on train)", []engine.Param{
			{Name: "min", Type: engine.TypeFloat, Default: 0.0, Doc: "lower end of the range"},
			{Name: "max", Type: engine.TypeFloat, Default: 1.0, Doc: "upper end of the range"},
			{Name: "clip", Type: engine.TypeBool, Default: false, Doc: "clip test values into the range"},
		}, true, nil),
		mk("one_hot", "encode categorical features as 0/1 columns; unseen categories encode as all zeros", nil, false,
			func(p engine.Params, s frame.Schema) (frame.Schema, []error) {
				cols := p.Strings("columns")
				var out frame.Schema
				for _, f := range s {
					if (len(cols) == 0 && (f.Type == frame.String || f.Type == frame.Bool)) || contains(cols, f.Name) {
						out = append(out, frame.Field{Name: f.Name + "_*", Type: frame.Float})
						continue
					}
					out = append(out, f)
				}
				return out, nil
			}),
		mk("impute", "fill missing feature values (fitted on train)", []engine.Param{
			{Name: "strategy", Type: engine.TypeEnum, Enum: []string{"mean", "median", "most_frequent", "constant"}, Default: "mean", Doc: "what fills a missing value"},
			{Name: "fill_value", Type: engine.TypeString, Scalars: true, Doc: "the value for strategy constant"},
		}, false, nil),
		mk("pca", "project numeric features onto their principal components", []engine.Param{
			{Name: "n_components", Type: engine.TypeInt, Default: 0, Min: nonNegative, Doc: "components kept (0: all)"},
			{Name: "whiten", Type: engine.TypeBool, Default: false, Doc: "scale components to unit variance"},
		}, true, func(p engine.Params, s frame.Schema) (frame.Schema, []error) {
			var out frame.Schema
			for _, f := range s {
				if f.Type == frame.String || f.Type == frame.Time {
					out = append(out, f)
				}
			}
			return append(out, frame.Field{Name: "pc*", Type: frame.Float}), nil
		}),
	}
}

// checkEstimatorInput validates what reaches an estimator.
func checkEstimatorInput(d *estimatorDef, s engine.Shape) []error {
	var errs []error
	if bad := nonNumeric(s.Schema); len(bad) > 0 {
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
		Check: func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
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
	sc.Logf("fitted %s on %d rows × %d features; test %s", d.name, len(s.YTrain), len(m.Features), metricLine(m.Metrics))
	return m, nil
}

func metricLine(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.4f", k, m[k])
	}
	return strings.Join(parts, " ")
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
	b, err := encodeModel(m, Version, src)
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

func evaluateStage() *engine.StageType {
	return &engine.StageType{
		Name: "evaluate", Group: "evaluate", Doc: "score a model on its held-out test rows: metrics, confusion matrix, curves, importances",
		In: engine.KindModel, MinIn: 1, MaxIn: 1, Out: engine.KindReport,
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			m, err := modelOf(sc.Inputs[0])
			if err != nil {
				return nil, err
			}
			rep, err := evaluate(m)
			if err != nil {
				return nil, err
			}
			sc.Logf("%s on %d test rows: %s", m.Type, len(m.Split.YTest), metricLine(rep.Metrics))
			return reportOutput(rep)
		},
	}
}

func reportOutput(rep *Report) (*engine.Output, error) {
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	return &engine.Output{
		Value:     rep,
		Metrics:   finiteMetrics(rep.Metrics),
		Artifacts: []engine.Artifact{{ArtifactInfo: engine.ArtifactInfo{Name: "report", Format: "json"}, Data: b}},
	}, nil
}

// evaluate computes the full report of a model on its test rows.
func evaluate(m *Model) (*Report, error) {
	s := m.Split
	X, err := matrix(s.Test)
	if err != nil {
		return nil, err
	}
	pred := m.Estimator.Predict(nil, X)
	rep := &Report{Metrics: map[string]float64{}, Details: map[string]any{"model": m.Type, "stage": m.Stage, "test_rows": len(pred)}}
	switch {
	case m.Type == "kmeans":
		rep.Metrics["inertia"] = kmeansInertia(m.Estimator)
		if s.Task == taskClassification {
			rep.Metrics["ari"] = ml.AdjustedRandIndex(toInts(s.YTest), toInts(pred))
		}
	case s.Task == taskClassification:
		y := s.YTest
		rep.Metrics["accuracy"] = ml.Accuracy(y, pred)
		rep.Metrics["precision_macro"] = ml.Precision(y, pred, ml.Macro)
		rep.Metrics["recall_macro"] = ml.Recall(y, pred, ml.Macro)
		rep.Metrics["f1_macro"] = ml.F1(y, pred, ml.Macro)
		rep.Details["classes"] = s.Classes
		rep.Details["confusion_matrix"] = ml.ConfusionMatrix(y, pred, len(s.Classes))
		if c, ok := m.Estimator.(ml.Classifier); ok && distinct(y) > 1 {
			proba := c.PredictProba(nil, X)
			if len(s.Classes) == 2 {
				score := mat.Col(nil, 1, proba)
				rep.Metrics["roc_auc"] = ml.ROCAUC(y, score)
				fpr, tpr, thr := ml.ROCCurve(y, score)
				rep.Details["roc_curve"] = map[string]any{"fpr": fpr, "tpr": tpr, "thresholds": finite(thr)}
			} else if distinct(y) == len(s.Classes) {
				rep.Metrics["roc_auc_ovr"] = ml.ROCAUCOvR(y, proba)
			}
			rep.Metrics["log_loss"] = ml.LogLoss(y, proba)
			rep.Details["class_curves"] = classCurves(y, proba, s.Classes)
		}
	default:
		y := s.YTest
		rep.Metrics["r2"] = ml.R2(y, pred)
		rep.Metrics["rmse"] = ml.RMSE(y, pred)
		rep.Metrics["mae"] = ml.MAE(y, pred)
		res := make([]float64, len(y))
		for i := range y {
			res[i] = y[i] - pred[i]
		}
		mean, std, lo, hi := summary(res)
		rep.Metrics["residual_mean"], rep.Metrics["residual_std"] = mean, std
		rep.Details["residuals"] = map[string]float64{"mean": mean, "std": std, "min": lo, "max": hi}
		idx := thinIndex(len(y), maxCurvePoints)
		pts := map[string][]float64{"predicted": make([]float64, len(idx)), "residual": make([]float64, len(idx))}
		for j, i := range idx {
			pts["predicted"][j], pts["residual"][j] = pred[i], res[i]
		}
		rep.Details["residual_points"] = pts
		rep.Details["residual_histogram"] = histogram(res, 20, lo, hi)
	}
	if imp := importances(m.Estimator); len(imp) == len(m.Features) {
		type fi struct {
			Feature string  `json:"feature"`
			Value   float64 `json:"importance"`
		}
		list := make([]fi, len(imp))
		for i, v := range imp {
			list[i] = fi{m.Features[i], v}
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].Value > list[j].Value })
		rep.Details["feature_importances"] = list
	}
	return rep, nil
}

// maxCurvePoints bounds the points a report keeps of a curve or a
// scatter, so a report stays small whatever the test set.
const maxCurvePoints = 500

// classCurve is one class against the rest: its ROC and precision-recall
// curves, as the report view draws them.
type classCurve struct {
	Class            string    `json:"class"`
	FPR              []float64 `json:"fpr"`
	TPR              []float64 `json:"tpr"`
	ROCAUC           float64   `json:"roc_auc"`
	Precision        []float64 `json:"precision"`
	Recall           []float64 `json:"recall"`
	AveragePrecision float64   `json:"average_precision"`
}

// classCurves computes each class's curves one-vs-rest from the
// predicted probabilities (a class absent from the test rows, or the
// only one there, has none).
func classCurves(y []float64, proba *mat.Dense, classes []string) []classCurve {
	var out []classCurve
	for k, name := range classes {
		yk := make([]float64, len(y))
		pos := 0
		for i := range y {
			if y[i] == float64(k) {
				yk[i] = 1
				pos++
			}
		}
		if pos == 0 || pos == len(y) {
			continue
		}
		score := mat.Col(nil, k, proba)
		fpr, tpr, _ := ml.ROCCurve(yk, score)
		prec, rec, _ := ml.PrecisionRecallCurve(yk, score)
		c := classCurve{Class: name, ROCAUC: ml.ROCAUC(yk, score), AveragePrecision: ml.AveragePrecision(yk, score)}
		for _, i := range thinIndex(len(fpr), maxCurvePoints) {
			c.FPR, c.TPR = append(c.FPR, fpr[i]), append(c.TPR, tpr[i])
		}
		for _, i := range thinIndex(len(prec), maxCurvePoints) {
			c.Precision, c.Recall = append(c.Precision, prec[i]), append(c.Recall, rec[i])
		}
		out = append(out, c)
	}
	return out
}

// thinIndex returns at most limit indexes of n, evenly spaced, the first
// and last always among them.
func thinIndex(n, limit int) []int {
	if n <= limit {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, limit)
	for j := range out {
		out[j] = j * (n - 1) / (limit - 1)
	}
	return out
}

// histogram counts v in bins equal bins over [lo, hi].
func histogram(v []float64, bins int, lo, hi float64) map[string]any {
	counts := make([]int, bins)
	width := (hi - lo) / float64(bins)
	for _, x := range v {
		b := 0
		if width > 0 {
			b = min(int((x-lo)/width), bins-1)
		}
		counts[max(b, 0)]++
	}
	edges := make([]float64, bins+1)
	for i := range edges {
		edges[i] = lo + float64(i)*width
	}
	return map[string]any{"edges": edges, "counts": counts}
}

func distinct(y []float64) int {
	seen := map[float64]bool{}
	for _, v := range y {
		seen[v] = true
	}
	return len(seen)
}

func finite(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		if math.IsInf(x, 1) {
			x = math.MaxFloat64
		}
		out[i] = x
	}
	return out
}

func summary(v []float64) (mean, std, lo, hi float64) {
	if len(v) == 0 {
		return
	}
	lo, hi = v[0], v[0]
	for _, x := range v {
		mean += x
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	std = math.Sqrt(std / float64(len(v)))
	return
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

func exportStage() *engine.StageType {
	return &engine.StageType{
		Name: "export_model", Group: "export", Doc: "write the model file (raw rows in, predictions out) atomically",
		In: engine.KindModel, MinIn: 1, MaxIn: 1, Out: engine.KindModel,
		Cache: engine.CacheVerifyWrites, // runs again when its file is gone or changed
		Params: []engine.Param{
			{Name: "path", Type: engine.TypePath, Output: true, Required: true, Doc: "where to write the model file"},
			{Name: "format", Type: engine.TypeEnum, Enum: []string{ModelFileSluice, ModelFileJSON}, Default: ModelFileSluice, Doc: "file format: sluice (model format 2, packed) or json (model format 1)"},
		},
		Check: func(p engine.Params, in []engine.Shape) (engine.Shape, []error) {
			return in[0], nil // the write policy is checked by validation (engine.OutputPath)
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			m, err := modelOf(sc.Inputs[0])
			if err != nil {
				return nil, err
			}
			path, err := sc.OutputPath(sc.Params.String("path"))
			if err != nil {
				return nil, err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			data := m.File
			if sc.Params.String("format") == ModelFileJSON {
				p, err := LoadModel(sc.ID(), m.File)
				if err != nil {
					return nil, err
				}
				if data, err = EncodeModelFile(p, ModelFileJSON); err != nil {
					return nil, err
				}
			}
			if err := frame.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
				return nil, err
			}
			sc.Logf("wrote %s (%d bytes)", sc.Params.String("path"), len(data))
			return &engine.Output{Value: sc.Inputs[0]}, nil
		},
	}
}
