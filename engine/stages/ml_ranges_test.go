package stages

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// narrower are the bounds at which the catalog refuses a value that ml
// takes, and why. Every other declared bound is ml's own: ml takes the
// bound and refuses the value just beyond it.
var narrower = map[string]string{
	"gradient_boosting_classifier.max_depth.min":                "ml reads 0 as unlimited; a boosting stage's trees are kept shallow, so the catalog asks for a depth",
	"gradient_boosting_regressor.max_depth.min":                 "ml reads 0 as unlimited; a boosting stage's trees are kept shallow, so the catalog asks for a depth",
	"hist_gradient_boosting_classifier.validation_fraction.max": "ml's bound is open (below 1); the catalog's bounds are inclusive",
	"hist_gradient_boosting_regressor.validation_fraction.max":  "ml's bound is open (below 1); the catalog's bounds are inclusive",
	"random_search.n_iter.min":                                  "ml.RandomSearch reads NIter 0 as every combination; the catalog asks for a count",
}

// catalogOnly are declared defaults ml has no counterpart for, and why.
var catalogOnly = map[string]string{
	"random_search.n_iter": "scikit-learn's default 10; ml.RandomSearch has none (NIter 0 tries every combination)",
}

// bound is one end of a declared range: the value at it, which ml must
// take, and the value just beyond it, which ml must refuse.
type bound struct {
	key         string // stage.param.min or .max
	at, outside any
}

// bounds lists p's declared bounds. The catalog's positive minimum
// (1e-12) stands for ml's open bound "> 0": beyond it is 0.
func bounds(stage string, p engine.Param) []bound {
	var out []bound
	conv := func(v float64) any {
		if p.Type == engine.TypeInt {
			return int(v)
		}
		return v
	}
	step := 1e-9
	if p.Type == engine.TypeInt {
		step = 1
	}
	if p.Min != nil {
		below := *p.Min - step
		if p.Type == engine.TypeFloat && *p.Min == *positive {
			below = 0
		}
		out = append(out, bound{stage + "." + p.Name + ".min", conv(*p.Min), conv(below)})
	}
	if p.Max != nil {
		out = append(out, bound{stage + "." + p.Name + ".max", conv(*p.Max), conv(*p.Max + step)})
	}
	return out
}

// refused is nil when ml took the value, else what ml said (an error,
// or a panic as an error).
func refused(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// smallData is 60 rows of 4 features: three classes the first feature
// separates, or a linear target with noise.
func smallData(task string) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	X := mat.NewDense(60, 4, nil)
	y := make([]float64, 60)
	for i := range 60 {
		for j := range 4 {
			X.Set(i, j, rng.NormFloat64())
		}
		if task == taskRegression {
			y[i] = X.At(i, 0) + 2*X.At(i, 1) + 0.1*rng.NormFloat64()
		} else {
			y[i] = float64(i % 3)
			X.Set(i, 0, X.At(i, 0)+2*y[i])
		}
	}
	return X, y
}

// checkBounds checks p's bounds and enum against ml: fit(v) fits with p
// set to v. A declared bound ml does not share must be in narrower.
func checkBounds(t *testing.T, stage string, p engine.Param, fit func(v any) error) {
	t.Helper()
	for _, b := range bounds(stage, p) {
		if err := refused(func() error { return fit(b.at) }); err != nil {
			t.Errorf("%s: ml refuses the declared bound %v: %v", b.key, b.at, err)
		}
		err := refused(func() error { return fit(b.outside) })
		why, listed := narrower[b.key]
		switch {
		case err == nil && !listed:
			t.Errorf("%s: ml takes %v, beyond the declared bound %v: declare ml's bound, or say in narrower why the catalog's differs", b.key, b.outside, b.at)
		case err != nil && listed:
			t.Errorf("%s: ml refuses %v too (%v), so the bound is ml's: drop it from narrower (%q)", b.key, b.outside, err, why)
		}
	}
	if p.Type == engine.TypeEnum {
		for _, v := range p.Enum {
			if err := refused(func() error { return fit(v) }); err != nil {
				t.Errorf("%s.%s: ml refuses the declared value %q: %v", stage, p.Name, v, err)
			}
		}
		if refused(func() error { return fit("no-such-" + p.Name) }) == nil {
			t.Errorf("%s.%s: ml takes a value outside the declared %v", stage, p.Name, p.Enum)
		}
	}
}

// TestHyperparameterRangesMatchML checks every train stage type's
// declared ranges and enums directly against ml: an estimator set to a
// declared bound fits, and one set just beyond it is refused by ml
// (SetParams or Fit), unless narrower says why the catalog stops
// earlier; every declared enum value fits and another value is refused.
func TestHyperparameterRangesMatchML(t *testing.T) {
	t.Parallel()
	for _, d := range estimators {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			X, y := smallData(d.task)
			for _, p := range d.params {
				checkBounds(t, d.name, p, func(v any) error {
					m := d.new()
					if err := setParams(m, map[string]any{p.Name: v}); err != nil {
						return err
					}
					return m.Fit(X, y)
				})
			}
		})
	}
}

// preprocessML says, for each preprocess stage type, which of ml's
// hyperparameters each declared parameter sets (columns picks the
// columns: it is the stage's, not ml's), where the fitted step keeps its
// ml transformer, and ml's own default transformer.
var preprocessML = map[string]struct {
	names  map[string]string // declared parameter → ml hyperparameter
	fitted func(s *Step) any
	mlNew  func() interface{ Fit(mat.Matrix) error }
}{
	"standard_scaler": {nil, func(s *Step) any { return s.Scaler }, func() interface{ Fit(mat.Matrix) error } { return &ml.StandardScaler{} }},
	"minmax_scaler": {map[string]string{"min": "feature_range", "max": "feature_range", "clip": "clip"},
		func(s *Step) any { return s.MinMax }, func() interface{ Fit(mat.Matrix) error } { return ml.NewMinMaxScaler() }},
	"one_hot": {nil, func(s *Step) any { return s.OneHot }, nil},
	"impute": {map[string]string{"strategy": "strategy", "fill_value": "fill_value"},
		func(s *Step) any { return s.Imputer }, func() interface{ Fit(mat.Matrix) error } { return &ml.SimpleImputer{} }},
	"pca": {map[string]string{"n_components": "n_components", "whiten": "whiten"},
		func(s *Step) any { return s.PCA }, func() interface{ Fit(mat.Matrix) error } { return &ml.PCA{} }},
}

// TestPreprocessParamsMatchML checks every preprocess stage type against
// ml as TestHyperparameterDefaultsMatchML and
// TestHyperparameterRangesMatchML do the train stages: each declared
// parameter sets one of ml's hyperparameters and each of those is set;
// the step fitted with the declared defaults (through fitStep, as a run
// fits it) is the transformer ml fits with its own defaults; and the
// declared bounds and enums are ml's.
func TestPreprocessParamsMatchML(t *testing.T) {
	t.Parallel()
	X, _ := smallData(taskRegression)
	var b strings.Builder
	b.WriteString("a,b,c,d,kind\n")
	for i := range 60 {
		for j := range 4 {
			b.WriteString(strconv.FormatFloat(X.At(i, j), 'g', -1, 64) + ",")
		}
		b.WriteString([]string{"x", "y", "z"}[i%3] + "\n")
	}
	train, err := frame.ReadCSV(strings.NewReader(b.String()), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	numeric := mat.DenseCopyOf(X)
	stages := preprocessStages()
	if len(stages) != len(preprocessML) {
		t.Errorf("%d preprocess stage types, %d in preprocessML", len(stages), len(preprocessML))
	}
	for _, st := range stages {
		t.Run(st.Name, func(t *testing.T) {
			want, ok := preprocessML[st.Name]
			if !ok {
				t.Fatalf("%s is not in preprocessML", st.Name)
			}
			defaults := map[string]any{}
			for _, p := range st.Params {
				if p.Name == "columns" {
					continue
				}
				if _, ok := want.names[p.Name]; !ok {
					t.Errorf("declared parameter %s sets no hyperparameter of ml", p.Name)
				}
				if p.Default != nil {
					v, err := p.Coerce(p.Default)
					if err != nil {
						t.Fatalf("%s: %v", p.Name, err)
					}
					defaults[p.Name] = v
				}
			}
			s, err := fitStep(st.Name, defaults, nil, train)
			if err != nil {
				t.Fatalf("fitted with the declared defaults: %v", err)
			}
			got := want.fitted(s)
			if reflect.ValueOf(got).IsNil() {
				t.Fatalf("the fitted step keeps no ml transformer")
			}
			for _, name := range ml.ParamNames(got) {
				if !slices.Contains(slices.Collect(maps.Values(want.names)), name) {
					t.Errorf("ml's %T hyperparameter %q is set by no declared parameter", got, name)
				}
			}
			if want.mlNew != nil {
				m := want.mlNew()
				if err := m.Fit(numeric); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, m) {
					t.Errorf("the step fitted with the declared defaults %v is not the %T ml fits with its own defaults on the same rows", defaults, got)
				}
			}
			for _, p := range st.Params {
				checkBounds(t, st.Name, p, func(v any) error {
					params := map[string]any{}
					for k, d := range defaults {
						params[k] = d
					}
					params[p.Name] = v
					_, err := fitStep(st.Name, params, nil, train)
					return err
				})
			}
		})
	}
}

// TestTuningParamsMatchML checks the tuning and cross-validation stage
// types' declarations against ml: cv's default is the number of folds
// ml's searches make when given none, and its minimum is the fewest
// folds ml's splitters make (the stages' own splitters, foldsFor, refuse
// one fewer); scoring lists ml's scorers, each of which ml knows, after
// "default"; model lists the train stage types. Every other numeric or
// enum parameter must be checked here or listed in catalogOnly.
func TestTuningParamsMatchML(t *testing.T) {
	t.Parallel()
	X, y := smallData(taskClassification)
	gs := &ml.GridSearch{Factory: func(map[string]any) (ml.Estimator, error) { return ml.NewGaussianNB(), nil }, Grid: map[string][]any{}}
	if err := gs.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	mlFolds := len(gs.Result.Candidates[0].Scores)
	for _, st := range []*engine.StageType{searchStage("grid_search"), searchStage("random_search"), crossValidateStage()} {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			for _, p := range st.Params {
				key := st.Name + "." + p.Name
				switch p.Name {
				case "cv":
					if p.Default != mlFolds {
						t.Errorf("%s: default %v, ml's searches make %d folds", key, p.Default, mlFolds)
					}
					for _, task := range []string{taskClassification, taskRegression} {
						checkBounds(t, st.Name, p, func(v any) error {
							_, err := foldsFor(task, v.(int)).Split(y)
							return err
						})
					}
				case "scoring":
					if p.Default != "default" || p.Enum[0] != "default" || !slices.Equal(p.Enum[1:], ml.ScorerNames()) {
						t.Errorf("%s: enum %v, default %v; want default, then ml's scorers %v", key, p.Enum, p.Default, ml.ScorerNames())
					}
					checkBounds(t, st.Name, engine.Param{Name: p.Name, Type: p.Type, Enum: p.Enum[1:]}, func(v any) error {
						_, err := ml.ScorerFor(v.(string))
						return err
					})
				case "model":
					if !slices.Equal(p.Enum, estimatorNames()) {
						t.Errorf("%s: enum %v, want the train stage types %v", key, p.Enum, estimatorNames())
					}
				case "n_iter":
					if _, ok := catalogOnly[key]; !ok {
						t.Errorf("%s: not checked against ml", key)
					}
					checkBounds(t, st.Name, p, func(v any) error {
						r := &ml.RandomSearch{Factory: gs.Factory, Lists: map[string][]any{"var_smoothing": {1e-9, 1e-8}}, NIter: v.(int)}
						return r.Fit(X, y)
					})
				default:
					if p.Type == engine.TypeInt || p.Type == engine.TypeFloat || p.Type == engine.TypeEnum {
						if _, ok := catalogOnly[key]; !ok {
							t.Errorf("%s: a %v parameter this test does not check against ml", key, p.Type)
						}
					}
				}
			}
		})
	}
}
