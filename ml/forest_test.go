package ml_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

func TestRandomForestScores(t *testing.T) {
	var cases []treeScoreCase
	for _, ds := range []string{"iris", "wine", "breast_cancer", "digits"} {
		cases = append(cases, treeScoreCase{name: "RandomForestClassifier", dataset: ds, make: func(seed uint64) ml.Estimator {
			m := ml.NewRandomForestClassifier()
			m.Seed = seed
			return m
		}})
	}
	cases = append(cases, treeScoreCase{name: "RandomForestRegressor", dataset: "diabetes", tolR2: 0.05, make: func(seed uint64) ml.Estimator {
		m := ml.NewRandomForestRegressor()
		m.Seed = seed
		return m
	}})
	treeCheckMeanScores(t, cases)
}

// forestBytes fits m on GOMAXPROCS procs and returns its JSON.
func forestBytes(t *testing.T, m ml.Estimator, procs int, d *splitData) []byte {
	t.Helper()
	return forestBytesT(t, procs, func() (any, error) { return m, m.Fit(d.Xtr, d.ytr) })
}

// forestBytesT runs fit on GOMAXPROCS procs and returns the JSON of the
// model it returns.
func forestBytesT(t *testing.T, procs int, fit func() (any, error)) []byte {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	m, err := fit()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRandomForestDeterminism checks that the fitted bytes depend on the
// seed only: not on the run, nor on the number of cores.
func TestRandomForestDeterminism(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		make    func() ml.Estimator
	}{
		{"classifier", "digits", func() ml.Estimator {
			m := ml.NewRandomForestClassifier()
			m.NEstimators, m.Seed = 20, 3
			return m
		}},
		{"per-class trees", "digits", func() ml.Estimator {
			m := ml.NewRandomForestClassifier()
			m.NEstimators, m.Seed, m.PerClassTrees = 5, 3, true
			return m
		}},
		{"regressor", "diabetes", func() ml.Estimator {
			m := ml.NewRandomForestRegressor()
			m.NEstimators, m.Seed, m.MinSamplesLeaf = 20, 3, 3
			return m
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := loadSplit(t, tt.dataset)
			one := forestBytes(t, tt.make(), 1, d)
			two := forestBytes(t, tt.make(), 2, d)
			again := forestBytes(t, tt.make(), 2, d)
			if !bytes.Equal(one, two) {
				t.Error("GOMAXPROCS 1 and 2 give different forests")
			}
			if !bytes.Equal(two, again) {
				t.Error("two fits with the same seed give different forests")
			}
			other := tt.make()
			if err := json.Unmarshal(one, other); err != nil {
				t.Fatal(err)
			}
			m := tt.make()
			if err := m.Fit(d.Xtr, d.ytr); err != nil {
				t.Fatal(err)
			}
			if got, want := other.Predict(nil, d.Xte), m.Predict(nil, d.Xte); !slices.Equal(got, want) {
				t.Error("JSON round trip changes predictions")
			}
			if c, ok := m.(ml.Classifier); ok {
				got := other.(ml.Classifier).PredictProba(nil, d.Xte).RawMatrix().Data
				if want := c.PredictProba(nil, d.Xte).RawMatrix().Data; !slices.Equal(got, want) {
					t.Error("JSON round trip changes probabilities")
				}
			}
		})
	}
}

var errTreeStop = errors.New("stop")

// TestRandomForestProgress checks the hook sees every tree and that an
// error from it stops the fit.
func TestRandomForestProgress(t *testing.T) {
	d := loadSplit(t, "breast_cancer")
	m := ml.NewRandomForestClassifier()
	m.NEstimators = 30
	var calls []int
	m.SetProgress(func(done, total int) error {
		if total != 30 {
			t.Errorf("total: got %d, want 30", total)
		}
		calls = append(calls, done)
		return nil
	})
	if err := m.Fit(d.Xtr, d.ytr); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 30 || calls[29] != 30 {
		t.Errorf("progress calls: got %v, want 1..30", calls)
	}

	r := ml.NewRandomForestRegressor()
	r.NEstimators = 1000
	n := 0
	r.SetProgress(func(done, total int) error {
		n++
		if done >= 5 {
			return errTreeStop
		}
		return nil
	})
	dd := loadSplit(t, "diabetes")
	err := r.Fit(dd.Xtr, dd.ytr)
	if !errors.Is(err, errTreeStop) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if n != 5 {
		t.Errorf("hook called %d times, want 5", n)
	}
	if r.Trees != nil {
		t.Error("a stopped fit left trees")
	}
}

func TestRandomForestImportances(t *testing.T) {
	d := loadSplit(t, "breast_cancer")
	m := ml.NewRandomForestClassifier()
	m.NEstimators = 20
	if err := m.Fit(d.Xtr, d.ytr); err != nil {
		t.Fatal(err)
	}
	imp := m.FeatureImportances()
	var s float64
	for _, v := range imp {
		if v < 0 {
			t.Errorf("negative importance %v", v)
		}
		s += v
	}
	if math.Abs(s-1) > 1e-9 {
		t.Errorf("importances sum: got %v, want 1", s)
	}
	// The leaders for scikit-learn 1.2.1's 20-tree forests on this split
	// (random_state 0, 1, 2): one of them should lead here.
	best := d.features[slices.Index(imp, slices.Max(imp))]
	leaders := []string{"concave_points_worst", "radius_worst", "concave_points_mean", "perimeter_worst", "area_worst", "perimeter_mean", "area_mean", "radius_mean"}
	if !slices.Contains(leaders, best) {
		t.Errorf("most important feature: got %q, want one of %v", best, leaders)
	}
	p := m.PredictProba(nil, d.Xte)
	for i := range len(d.yte) {
		row := p.RawRowView(i)
		if s := row[0] + row[1]; math.Abs(s-1) > 1e-12 {
			t.Fatalf("row %d probabilities sum to %v", i, s)
		}
	}
}

func TestRandomForestErrors(t *testing.T) {
	d := loadSplit(t, "iris")
	tests := []struct {
		name string
		m    ml.Estimator
	}{
		{"no trees", &ml.RandomForestClassifier{MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "sqrt"}},
		{"per-class trees with entropy", &ml.RandomForestClassifier{NEstimators: 1, Criterion: "entropy", MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "sqrt", PerClassTrees: true}},
		{"bad max_features", &ml.RandomForestRegressor{NEstimators: 1, MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "2.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.m.Fit(d.Xtr, d.ytr); err == nil {
				t.Error("got no error")
			}
		})
	}
	if err := ml.SetParams(ml.NewRandomForestClassifier(), map[string]any{"n_estimators": 10, "bootstrap": false, "max_features": "log2"}); err != nil {
		t.Errorf("SetParams: %v", err)
	}
}

// TestRandomForestPerClassTrees checks per_class_trees: one regression
// tree per class and member, probabilities that sum to 1, a closer fit
// than shared trees at a fixed depth on three classes (XGBoost's
// random-forest mode grows its trees so), and no change with two classes.
func TestRandomForestPerClassTrees(t *testing.T) {
	s := treeSynth(12000)
	Xtr, Xte, ytr, yte, _, _ := s.split(10000)
	fit := func(perClass bool) *ml.RandomForestClassifier {
		m := ml.NewRandomForestClassifier()
		m.NEstimators, m.MaxDepth, m.Seed, m.PerClassTrees = 20, 6, 1, perClass
		if err := m.Fit(Xtr, ytr); err != nil {
			t.Fatal(err)
		}
		return m
	}
	shared, per := fit(false), fit(true)
	if len(per.Trees) != 60 {
		t.Fatalf("%d trees for 20 members of 3 classes, want 60", len(per.Trees))
	}
	for i := range per.Trees {
		if per.Trees[i].NValues != 1 {
			t.Fatalf("tree %d holds %d values per node, want 1", i, per.Trees[i].NValues)
		}
	}
	proba := per.PredictProba(nil, Xte)
	for i := range len(yte) {
		var sum float64
		for _, p := range proba.RawRowView(i) {
			if p < 0 || p > 1 {
				t.Fatalf("row %d: probability %v", i, p)
			}
			sum += p
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("row %d: probabilities sum to %v", i, sum)
		}
	}
	accShared := treeAccuracy(yte, shared.Predict(nil, Xte))
	accPer := treeAccuracy(yte, per.Predict(nil, Xte))
	t.Logf("depth 6, 20 members: shared trees %.4f, per-class trees %.4f", accShared, accPer)
	if accPer < accShared {
		t.Errorf("per-class trees %.4f below shared trees %.4f", accPer, accShared)
	}

	d := loadSplit(t, "breast_cancer")
	a, b := ml.NewRandomForestClassifier(), ml.NewRandomForestClassifier()
	a.NEstimators, b.NEstimators, b.PerClassTrees = 10, 10, true
	for _, m := range []*ml.RandomForestClassifier{a, b} {
		if err := m.Fit(d.Xtr, d.ytr); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(a.PredictProba(nil, d.Xte).RawMatrix().Data, b.PredictProba(nil, d.Xte).RawMatrix().Data) {
		t.Error("per_class_trees changes a two-class forest")
	}
}
