package ml_test

import (
	"math"
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

// TestTreeExactSplitsMatchScikitLearn fits trees on 8,000 training rows of
// the synthetic set (treeSynth(10000), first 8,000 rows to train) with
// max_bins 0, where every split is exact, and checks the mean test score
// over treeSeeds against scikit-learn 1.2.1's mean over random_state 0..9
// on the same rows (written out by TestWriteSynthCSV's code with n =
// 10,000): DecisionTreeClassifier accuracy 0.5439 (fully grown), 0.5854
// (max_depth 8); DecisionTreeRegressor R² 0.3474 and 0.4595. With the
// default max_bins the same trees split on 256 bins per feature instead;
// the test logs both.
func TestTreeExactSplitsMatchScikitLearn(t *testing.T) {
	if testing.Short() {
		t.Skip("fits 40 trees on 8,000 rows")
	}
	s := treeSynth(10000)
	Xtr, Xte, ctr, cte, ttr, tte := s.split(8000)
	tests := []struct {
		name     string
		maxDepth int
		regress  bool
		want     float64
	}{
		{"classifier", 0, false, 0.5439},
		{"classifier/max_depth=8", 8, false, 0.5854},
		{"regressor", 0, true, 0.3474},
		{"regressor/max_depth=8", 8, true, 0.4595},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			score := func(maxBins int) float64 {
				var sum float64
				for _, seed := range treeSeeds {
					if tt.regress {
						m := ml.NewDecisionTreeRegressor()
						m.MaxDepth, m.MaxBins, m.Seed = tt.maxDepth, maxBins, seed
						if err := m.Fit(Xtr, ttr); err != nil {
							t.Fatal(err)
						}
						sum += treeR2(tte, m.Predict(nil, Xte))
						continue
					}
					m := ml.NewDecisionTreeClassifier()
					m.MaxDepth, m.MaxBins, m.Seed = tt.maxDepth, maxBins, seed
					if err := m.Fit(Xtr, ctr); err != nil {
						t.Fatal(err)
					}
					sum += treeAccuracy(cte, m.Predict(nil, Xte))
				}
				return sum / float64(len(treeSeeds))
			}
			exact, binned := score(0), score(ml.TreeDefaultMaxBins)
			t.Logf("exact %.4f, binned (max_bins %d) %.4f, scikit-learn %.4f", exact, ml.TreeDefaultMaxBins, binned, tt.want)
			tol := 0.01 + 1e-9
			if math.Abs(exact-tt.want) > tol {
				t.Errorf("exact splits: got %.4f, want %.4f ± %.2f", exact, tt.want, tol)
			}
		})
	}
}
