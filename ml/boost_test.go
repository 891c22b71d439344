package ml_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

func TestGradientBoostingScores(t *testing.T) {
	var cases []treeScoreCase
	for _, ds := range []string{"iris", "wine", "breast_cancer", "digits"} {
		cases = append(cases, treeScoreCase{name: "GradientBoostingClassifier", dataset: ds, make: func(seed uint64) ml.Estimator {
			m := ml.NewGradientBoostingClassifier()
			m.Seed = seed
			return m
		}})
	}
	cases = append(cases, treeScoreCase{name: "GradientBoostingRegressor", dataset: "diabetes", tolR2: 0.05, make: func(seed uint64) ml.Estimator {
		m := ml.NewGradientBoostingRegressor()
		m.Seed = seed
		return m
	}})
	treeCheckMeanScores(t, cases)
}

func TestGradientBoostingDeterminism(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		make    func() ml.Estimator
	}{
		{"multiclass subsample", "wine", func() ml.Estimator {
			m := ml.NewGradientBoostingClassifier()
			m.NEstimators, m.Subsample, m.MaxFeatures, m.Seed = 30, 0.7, "sqrt", 9
			return m
		}},
		{"binary", "breast_cancer", func() ml.Estimator {
			m := ml.NewGradientBoostingClassifier()
			m.NEstimators, m.Seed = 30, 9
			return m
		}},
		{"regressor subsample", "diabetes", func() ml.Estimator {
			m := ml.NewGradientBoostingRegressor()
			m.NEstimators, m.Subsample, m.Seed = 30, 0.5, 9
			return m
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := loadSplit(t, tt.dataset)
			one := forestBytes(t, tt.make(), 1, d)
			two := forestBytes(t, tt.make(), 2, d)
			if !bytes.Equal(one, two) {
				t.Error("GOMAXPROCS 1 and 2 give different models")
			}
			m := tt.make()
			if err := json.Unmarshal(two, m); err != nil {
				t.Fatal(err)
			}
			fresh := tt.make()
			if err := fresh.Fit(d.Xtr, d.ytr); err != nil {
				t.Fatal(err)
			}
			if got, want := m.Predict(nil, d.Xte), fresh.Predict(nil, d.Xte); !slices.Equal(got, want) {
				t.Error("JSON round trip changes predictions")
			}
			if c, ok := m.(ml.Classifier); ok {
				p := c.PredictProba(nil, d.Xte)
				r, k := p.Dims()
				if k != c.NumClasses() {
					t.Errorf("probability columns: got %d, want %d", k, c.NumClasses())
				}
				pred := m.Predict(nil, d.Xte)
				for i := range r {
					row := p.RawRowView(i)
					var s float64
					for _, v := range row {
						s += v
					}
					if math.Abs(s-1) > 1e-12 {
						t.Fatalf("row %d probabilities sum to %v", i, s)
					}
					if best := slices.Index(row, slices.Max(row)); float64(best) != pred[i] {
						t.Fatalf("row %d: predicted %v, most probable %d", i, pred[i], best)
					}
				}
			}
		})
	}
}

// TestGradientBoostingExact checks the first stage against values worked
// by hand: a stump on two separable groups.
func TestGradientBoostingExact(t *testing.T) {
	X := mat.NewDense(4, 1, []float64{0, 1, 2, 3})
	m := ml.NewGradientBoostingClassifier()
	m.NEstimators, m.MaxDepth, m.LearningRate = 1, 1, 1
	if err := m.Fit(X, []float64{0, 0, 1, 1}); err != nil {
		t.Fatal(err)
	}
	// Prior 1/2: init log-odds 0, p = 1/2; residuals ∓1/2; Newton step
	// Σr / Σp(1-p) = ±1 / (2·1/4) = ±2.
	if m.InitScore[0] != 0 {
		t.Errorf("init: got %v, want 0", m.InitScore[0])
	}
	tr := m.Trees[0][0]
	if got := []float64{tr.Value[1], tr.Value[2]}; !slices.Equal(got, []float64{-2, 2}) {
		t.Errorf("leaf values: got %v, want [-2 2]", got)
	}
	p := m.PredictProba(nil, X)
	if got, want := p.At(3, 1), 1/(1+math.Exp(-2)); math.Abs(got-want) > 1e-15 {
		t.Errorf("P(class 1 | x=3): got %v, want %v", got, want)
	}

	r := ml.NewGradientBoostingRegressor()
	r.NEstimators, r.MaxDepth, r.LearningRate = 2, 1, 0.5
	if err := r.Fit(X, []float64{1, 1, 3, 3}); err != nil {
		t.Fatal(err)
	}
	// Mean 2, residuals ∓1: stage 1 moves halfway (1.5, 2.5), stage 2
	// halfway again (1.25, 2.75).
	if got := r.Predict(nil, X); !slices.Equal(got, []float64{1.25, 1.25, 2.75, 2.75}) {
		t.Errorf("predict: got %v, want [1.25 1.25 2.75 2.75]", got)
	}
}

func TestGradientBoostingProgress(t *testing.T) {
	d := loadSplit(t, "iris")
	m := ml.NewGradientBoostingClassifier()
	stages := 0
	m.SetProgress(func(done, total int) error {
		stages = done
		if done == 10 {
			return errTreeStop
		}
		return nil
	})
	err := m.Fit(d.Xtr, d.ytr)
	if !errors.Is(err, errTreeStop) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if stages != 10 {
		t.Errorf("stopped after %d stages, want 10", stages)
	}
}

func TestGradientBoostingErrors(t *testing.T) {
	d := loadSplit(t, "iris")
	tests := []struct {
		name string
		m    ml.Estimator
		y    []float64
		want error
	}{
		{"one class", ml.NewGradientBoostingClassifier(), make([]float64, len(d.ytr)), ml.ErrOneClass},
		{"learning rate", &ml.GradientBoostingRegressor{NEstimators: 10, MaxDepth: 3, MinSamplesSplit: 2, MinSamplesLeaf: 1, Subsample: 1}, d.ytr, nil},
		{"subsample", &ml.GradientBoostingClassifier{LearningRate: 0.1, NEstimators: 10, MaxDepth: 3, MinSamplesSplit: 2, MinSamplesLeaf: 1, Subsample: 1.5}, d.ytr, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Fit(d.Xtr, tt.y)
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}
