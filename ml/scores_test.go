package ml_test

import (
	"math"
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

// TestClassifierScores checks test accuracy against scikit-learn 1.2.1's
// on the same standardised splits (testdata/reference.json): within one
// test sample.
func TestClassifierScores(t *testing.T) {
	models := []struct {
		name string // estimator name in reference.json
		make func() ml.Classifier
	}{
		{"LogisticRegression", func() ml.Classifier {
			m := ml.NewLogisticRegression()
			m.MaxIter = 1000
			return m
		}},
		{"LinearSVC", func() ml.Classifier { return ml.NewLinearSVC() }},
		{"GaussianNB", func() ml.Classifier { return ml.NewGaussianNB() }},
	}
	for _, mm := range models {
		for _, ds := range []string{"iris", "wine", "breast_cancer", "digits"} {
			t.Run(mm.name+"/"+ds, func(t *testing.T) {
				t.Parallel()
				d := loadSplit(t, ds)
				m := mm.make()
				if err := m.Fit(d.Xtr, d.ytr); err != nil {
					t.Fatal(err)
				}
				got := ml.Accuracy(d.yte, m.Predict(nil, d.Xte))
				want := reference(t, ds, mm.name)["accuracy"]
				t.Logf("accuracy %.4f, scikit-learn %.4f", got, want)
				if tol := 1/float64(len(d.yte)) + 1e-9; math.Abs(got-want) > tol {
					t.Errorf("accuracy: got %.4f, want %.4f ± %.4f", got, want, tol)
				}
			})
		}
	}
}

// TestRegressorScores checks test R² on diabetes against scikit-learn's
// (testdata/reference.json): within 0.01.
func TestRegressorScores(t *testing.T) {
	tests := []struct {
		name string
		make func() ml.Estimator
	}{
		{"LinearRegression", func() ml.Estimator { return ml.NewLinearRegression() }},
		{"Ridge", func() ml.Estimator { return ml.NewRidge() }},
		{"Lasso", func() ml.Estimator { return ml.NewLasso() }},
	}
	d := loadSplit(t, "diabetes")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.make()
			if err := m.Fit(d.Xtr, d.ytr); err != nil {
				t.Fatal(err)
			}
			got := ml.R2(d.yte, m.Predict(nil, d.Xte))
			want := reference(t, "diabetes", tt.name)["r2"]
			t.Logf("R² %.4f, scikit-learn %.4f", got, want)
			if math.Abs(got-want) > 0.01 {
				t.Errorf("R²: got %.4f, want %.4f ± 0.01", got, want)
			}
		})
	}
}
