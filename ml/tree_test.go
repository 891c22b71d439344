package ml_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

// treeScoreCase is one randomised model scored against scikit-learn's
// reference over treeSeeds.
type treeScoreCase struct {
	name    string // estimator name in testdata/reference.json
	dataset string
	make    func(seed uint64) ml.Estimator
	tolR2   float64 // regression tolerance
}

// treeCheckMeanScores fits each case once per seed and compares the mean test
// accuracy (or R²) with scikit-learn's.
func treeCheckMeanScores(t *testing.T, cases []treeScoreCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.dataset, func(t *testing.T) {
			t.Parallel()
			d := loadSplit(t, tc.dataset)
			var sum float64
			for _, seed := range treeSeeds {
				m := tc.make(seed)
				if err := m.Fit(d.Xtr, d.ytr); err != nil {
					t.Fatal(err)
				}
				pred := m.Predict(nil, d.Xte)
				if d.regression {
					sum += treeR2(d.yte, pred)
				} else {
					sum += treeAccuracy(d.yte, pred)
				}
			}
			got := sum / float64(len(treeSeeds))
			ref := reference(t, tc.dataset, tc.name)
			if d.regression {
				want := ref["r2"]
				t.Logf("%s on %s: mean R² %.4f, scikit-learn %.4f", tc.name, tc.dataset, got, want)
				if math.Abs(got-want) > tc.tolR2 {
					t.Errorf("mean R²: got %.4f, want %.4f ± %.2f", got, want, tc.tolR2)
				}
				return
			}
			want, tol := ref["accuracy"], treeAccTol(len(d.yte))
			t.Logf("%s on %s: mean accuracy %.4f, scikit-learn %.4f", tc.name, tc.dataset, got, want)
			if math.Abs(got-want) > tol {
				t.Errorf("mean accuracy: got %.4f, want %.4f ± %.4f", got, want, tol)
			}
		})
	}
}

func TestDecisionTreeScores(t *testing.T) {
	var cases []treeScoreCase
	for _, ds := range []string{"iris", "wine", "breast_cancer", "digits"} {
		cases = append(cases, treeScoreCase{name: "DecisionTreeClassifier", dataset: ds, make: func(seed uint64) ml.Estimator {
			m := ml.NewDecisionTreeClassifier()
			m.Seed = seed
			return m
		}})
	}
	cases = append(cases, treeScoreCase{name: "DecisionTreeRegressor", dataset: "diabetes", tolR2: 0.1, make: func(seed uint64) ml.Estimator {
		m := ml.NewDecisionTreeRegressor()
		m.Seed = seed
		return m
	}})
	treeCheckMeanScores(t, cases)
}

// TestDecisionTreeExact checks small cases worked by hand.
func TestDecisionTreeExact(t *testing.T) {
	X := mat.NewDense(6, 2, []float64{
		1, 5,
		2, 5,
		3, 5,
		4, 6,
		5, 6,
		6, 6,
	})
	y := []float64{0, 0, 0, 1, 1, 1}
	tests := []struct {
		name      string
		feature   int
		threshold float64
	}{
		{"gini", -2, 0},
		{"entropy", -2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ml.NewDecisionTreeClassifier()
			m.Criterion = tt.name
			if err := m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			tr := m.Tree
			if got := tr.NodeCount(); got != 3 {
				t.Fatalf("nodes: got %d, want 3", got)
			}
			// Both features separate the classes; either may be chosen.
			switch tr.Feature[0] {
			case 0:
				if tr.Threshold[0] != 3.5 {
					t.Errorf("threshold on feature 0: got %v, want 3.5", tr.Threshold[0])
				}
			case 1:
				if tr.Threshold[0] != 5.5 {
					t.Errorf("threshold on feature 1: got %v, want 5.5", tr.Threshold[0])
				}
			default:
				t.Errorf("root feature: got %d", tr.Feature[0])
			}
			if got, want := tr.NodeValue(tr.Left[0]), []float64{3, 0}; !slices.Equal(got, want) {
				t.Errorf("left value: got %v, want %v", got, want)
			}
			pred := m.Predict(nil, mat.NewDense(2, 2, []float64{0, 0, 10, 10}))
			if !slices.Equal(pred, []float64{0, 1}) {
				t.Errorf("predict: got %v, want [0 1]", pred)
			}
			imp := m.FeatureImportances()
			if s := imp[0] + imp[1]; math.Abs(s-1) > 1e-12 {
				t.Errorf("importances sum: got %v, want 1", s)
			}
		})
	}

	// Regression: the best first split of 1,2,3 | 10,11,12.
	r := ml.NewDecisionTreeRegressor()
	r.MaxDepth = 1
	Xr := mat.NewDense(6, 1, []float64{1, 2, 3, 4, 5, 6})
	if err := r.Fit(Xr, []float64{1, 2, 3, 10, 11, 12}); err != nil {
		t.Fatal(err)
	}
	if got := r.Tree.Threshold[0]; got != 3.5 {
		t.Errorf("regression threshold: got %v, want 3.5", got)
	}
	if got := r.Predict(nil, mat.NewDense(2, 1, []float64{0, 9})); !slices.Equal(got, []float64{2, 11}) {
		t.Errorf("regression predict: got %v, want [2 11]", got)
	}
}

// TestDecisionTreeLimits checks max_depth, min_samples_leaf and
// max_features on the digits data.
func TestDecisionTreeLimits(t *testing.T) {
	d := loadSplit(t, "digits")
	tests := []struct {
		name     string
		depth    int
		minLeaf  int
		features string
	}{
		{"depth 3", 3, 1, ""},
		{"depth 8 min leaf 5", 8, 5, ""},
		{"sqrt features", 0, 1, "sqrt"},
		{"count 10", 0, 3, "10"},
		{"fraction", 5, 1, "0.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ml.NewDecisionTreeClassifier()
			m.MaxDepth, m.MinSamplesLeaf, m.MaxFeatures = tt.depth, tt.minLeaf, tt.features
			if err := m.Fit(d.Xtr, d.ytr); err != nil {
				t.Fatal(err)
			}
			tr := &m.Tree
			if tt.depth > 0 && tr.Depth() > tt.depth {
				t.Errorf("depth: got %d, want <= %d", tr.Depth(), tt.depth)
			}
			for i, f := range tr.Feature {
				if f >= 0 {
					continue
				}
				var n float64
				for _, v := range tr.NodeValue(i) {
					n += v
				}
				if n < float64(tt.minLeaf) {
					t.Errorf("leaf %d has %v rows, want >= %d", i, n, tt.minLeaf)
					break
				}
			}
			if acc := treeAccuracy(d.yte, m.Predict(nil, d.Xte)); acc < 0.4 {
				t.Errorf("accuracy: got %.3f, want > 0.4", acc)
			}
		})
	}
}

func TestDecisionTreeDeterminism(t *testing.T) {
	d := loadSplit(t, "digits")
	fit := func() []byte {
		m := ml.NewDecisionTreeClassifier()
		m.Seed = 7
		m.MaxFeatures = "sqrt"
		if err := m.Fit(d.Xtr, d.ytr); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := fit(), fit()
	if !bytes.Equal(a, b) {
		t.Fatal("two fits with the same seed give different JSON")
	}
	var m ml.DecisionTreeClassifier
	if err := json.Unmarshal(a, &m); err != nil {
		t.Fatal(err)
	}
	var orig ml.DecisionTreeClassifier
	_ = json.Unmarshal(b, &orig)
	if got, want := m.Predict(nil, d.Xte), orig.Predict(nil, d.Xte); !slices.Equal(got, want) {
		t.Error("round trip changes predictions")
	}
}

func TestDecisionTreeErrors(t *testing.T) {
	X := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6})
	nan := mat.NewDense(3, 2, []float64{1, 2, 3, math.NaN(), 5, 6})
	tests := []struct {
		name string
		m    ml.Estimator
		X    mat.Matrix
		y    []float64
		want error  // sentinel, or nil
		msg  string // substring of the message
	}{
		{"nan", ml.NewDecisionTreeClassifier(), nan, []float64{0, 1, 0}, ml.ErrNaN, "row 1, column 1"},
		{"nan y", ml.NewDecisionTreeRegressor(), X, []float64{0, math.NaN(), 0}, ml.ErrNaN, "row 1"},
		{"criterion", &ml.DecisionTreeClassifier{Criterion: "mse", MinSamplesSplit: 2, MinSamplesLeaf: 1}, X, []float64{0, 1, 0}, nil, "criterion"},
		{"min leaf", &ml.DecisionTreeRegressor{MinSamplesSplit: 2}, X, []float64{0, 1, 0}, nil, "min_samples_leaf"},
		{"max features", &ml.DecisionTreeRegressor{MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "3"}, X, []float64{0, 1, 0}, nil, "max_features"},
		{"max features word", &ml.DecisionTreeRegressor{MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "half"}, X, []float64{0, 1, 0}, nil, "max_features"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Fit(tt.X, tt.y)
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("got %q, want it to mention %q", err, tt.msg)
			}
		})
	}

	// One class is fine for a tree.
	m := ml.NewDecisionTreeClassifier()
	if err := m.Fit(X, []float64{0, 0, 0}); err != nil {
		t.Fatalf("one class: %v", err)
	}
	if got := m.Predict(nil, X); !slices.Equal(got, []float64{0, 0, 0}) {
		t.Errorf("one class predict: got %v", got)
	}

	panics := []struct {
		name string
		f    func()
	}{
		{"length mismatch", func() { _ = ml.NewDecisionTreeClassifier().Fit(X, []float64{0, 1}) }},
		{"non-code", func() { _ = ml.NewDecisionTreeClassifier().Fit(X, []float64{0, 1.5, 0}) }},
		{"predict before fit", func() { ml.NewDecisionTreeRegressor().Predict(nil, X) }},
		{"wrong columns", func() { m.Predict(nil, mat.NewDense(1, 3, nil)) }},
	}
	for _, p := range panics {
		t.Run(p.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "ml: ") {
					t.Errorf("panic %v, want an \"ml: \" message", r)
				}
			}()
			p.f()
		})
	}
}

// TestTreeSetParams checks that numbers decoded from YAML or JSON set
// max_features as scikit-learn reads them, through FactoryOf.
func TestTreeSetParams(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		want   string
		depth  int
	}{
		{"fraction", map[string]any{"max_features": 0.5}, "0.5", 0},
		{"whole float is a fraction", map[string]any{"max_features": 1.0}, "1.0", 0},
		{"int is a count", map[string]any{"max_features": 3}, "3", 0},
		{"uint64 is a count", map[string]any{"max_features": uint64(2)}, "2", 0},
		{"word", map[string]any{"max_features": "log2", "max_depth": 4}, "log2", 4},
		{"null", map[string]any{"max_features": nil, "max_depth": nil}, "all", 0},
	}
	f := ml.FactoryOf(ml.NewRandomForestClassifier)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := f(tt.params)
			if err != nil {
				t.Fatal(err)
			}
			m := e.(*ml.RandomForestClassifier)
			if m.MaxFeatures != tt.want || m.MaxDepth != tt.depth {
				t.Errorf("got max_features %q, max_depth %d; want %q, %d", m.MaxFeatures, m.MaxDepth, tt.want, tt.depth)
			}
		})
	}
	if _, err := f(map[string]any{"n_estimators": "many"}); err == nil {
		t.Error("n_estimators \"many\": got no error")
	}
}

// TestTreeDecode checks that decoding rejects arrays that are not a tree
// and that prediction rejects a tree testing a feature X lacks.
func TestTreeDecode(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"lengths", `{"feature":[0,-1],"threshold":[0.5],"left":[1,-1],"right":[2,-1],"value":[1,2],"n_values":1}`},
		{"left not next", `{"feature":[0,-1,-1],"threshold":[0.5,0,0],"left":[2,-1,-1],"right":[1,-1,-1],"value":[1,2,3],"n_values":1}`},
		{"cycle", `{"feature":[0,0,-1],"threshold":[0.5,0,0],"left":[1,2,-1],"right":[2,0,-1],"value":[1,2,3],"n_values":1}`},
		{"leaf with child", `{"feature":[-1],"threshold":[0],"left":[1],"right":[-1],"value":[1],"n_values":1}`},
		{"empty", `{"feature":[],"threshold":[],"left":[],"right":[],"value":[],"n_values":1}`},
		// 3 nodes × 6148914691236517206 values overflows to 2 values: the
		// product check passed and pack panicked.
		{"n_values overflow", `{"feature":[0,-1,-1],"threshold":[0.5,0,0],"left":[1,-1,-1],"right":[2,-1,-1],"value":[1,2],"n_values":6148914691236517206}`},
		{"feature beyond int32", `{"feature":[4294967296,-1,-1],"threshold":[0.5,0,0],"left":[1,-1,-1],"right":[2,-1,-1],"value":[1,2,3],"n_values":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr ml.Tree
			if err := json.Unmarshal([]byte(tt.json), &tr); err == nil {
				t.Error("got no error")
			}
		})
	}
	var m ml.DecisionTreeRegressor
	good := `{"n_features_in":1,"tree":{"feature":[3,-1,-1],"threshold":[0.5,0,0],"left":[1,-1,-1],"right":[2,-1,-1],"value":[0,1,2],"n_values":1}}`
	if err := json.Unmarshal([]byte(good), &m); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("predict with a tree testing feature 3 of 1: no panic")
		}
	}()
	m.Predict(nil, mat.NewDense(1, 1, []float64{0}))
}

// TestTreeViews checks that models fit and predict the same on a matrix
// view (row stride wider than its columns) as on a copy.
func TestTreeViews(t *testing.T) {
	d := loadSplit(t, "wine")
	n, c := d.Xtr.Dims()
	m, _ := d.Xte.Dims()
	viewTr := d.Xtr.Slice(0, n, 2, c).(*mat.Dense)
	viewTe := d.Xte.Slice(0, m, 2, c).(*mat.Dense)
	copyTr, copyTe := mat.DenseCopyOf(viewTr), mat.DenseCopyOf(viewTe)
	tests := []struct {
		name string
		make func() ml.Estimator
	}{
		{"tree", func() ml.Estimator { return ml.NewDecisionTreeClassifier() }},
		{"forest", func() ml.Estimator {
			f := ml.NewRandomForestRegressor()
			f.NEstimators = 10
			return f
		}},
		{"boosting", func() ml.Estimator {
			g := ml.NewGradientBoostingClassifier()
			g.NEstimators = 10
			return g
		}},
		{"knn brute", func() ml.Estimator {
			k := ml.NewKNeighborsClassifier()
			k.Algorithm = "brute"
			return k
		}},
		{"knn kd", func() ml.Estimator { return ml.NewKNeighborsRegressor() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.make(), tt.make()
			if err := a.Fit(viewTr, d.ytr); err != nil {
				t.Fatal(err)
			}
			if err := b.Fit(copyTr, d.ytr); err != nil {
				t.Fatal(err)
			}
			if got, want := a.Predict(nil, viewTe), b.Predict(nil, copyTe); !slices.Equal(got, want) {
				t.Errorf("view and copy predict differently")
			}
			if got, want := a.Predict(nil, copyTe), b.Predict(nil, viewTe); !slices.Equal(got, want) {
				t.Errorf("view and copy predict differently")
			}
		})
	}
	km, kc := ml.NewKMeans(), ml.NewKMeans()
	km.NClusters, kc.NClusters = 3, 3
	if err := km.Fit(viewTr); err != nil {
		t.Fatal(err)
	}
	if err := kc.Fit(copyTr); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(km.Labels, kc.Labels) || km.Inertia != kc.Inertia {
		t.Error("k-means on a view and a copy differ")
	}
}

// TestTreeEdgeCases fits the models on degenerate data: one row,
// constant features, all rows equal.
func TestTreeEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		X    *mat.Dense
		y    []float64
	}{
		{"one row", mat.NewDense(1, 2, []float64{1, 2}), []float64{1}},
		{"constant features", mat.NewDense(4, 2, []float64{1, 5, 1, 5, 1, 5, 1, 5}), []float64{0, 1, 0, 1}},
		{"equal rows, one class", mat.NewDense(3, 1, []float64{2, 2, 2}), []float64{1, 1, 1}},
	}
	models := []struct {
		name string
		make func() ml.Estimator
	}{
		{"tree", func() ml.Estimator { return ml.NewDecisionTreeClassifier() }},
		{"regression tree", func() ml.Estimator { return ml.NewDecisionTreeRegressor() }},
		{"forest", func() ml.Estimator { return ml.NewRandomForestClassifier() }},
		{"regression forest", func() ml.Estimator { return ml.NewRandomForestRegressor() }},
		{"boosting regressor", func() ml.Estimator { return ml.NewGradientBoostingRegressor() }},
		{"knn", func() ml.Estimator {
			k := ml.NewKNeighborsClassifier()
			k.NNeighbors = 1
			return k
		}},
	}
	for _, tt := range tests {
		for _, mm := range models {
			t.Run(tt.name+"/"+mm.name, func(t *testing.T) {
				m := mm.make()
				if err := m.Fit(tt.X, tt.y); err != nil {
					t.Fatal(err)
				}
				pred := m.Predict(nil, tt.X)
				// With no feature telling rows apart, every row gets the
				// same prediction.
				for i := range pred {
					if pred[i] != pred[0] && tt.name != "one row" {
						t.Errorf("rows predicted differently: %v", pred)
						break
					}
				}
				if im, ok := m.(ml.Importancer); ok {
					for _, v := range im.FeatureImportances() {
						if v != 0 {
							t.Errorf("importances: got %v, want all zero", im.FeatureImportances())
							break
						}
					}
				}
			})
		}
	}
	km := ml.NewKMeans()
	km.NClusters = 2
	if err := km.Fit(mat.NewDense(3, 1, []float64{2, 2, 2})); err != nil {
		t.Fatalf("k-means on equal rows: %v", err)
	}
	if km.Inertia != 0 {
		t.Errorf("k-means on equal rows: inertia %v, want 0", km.Inertia)
	}
}
