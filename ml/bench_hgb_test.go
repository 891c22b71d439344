package ml_test

import (
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

// The histogram boosting benchmarks fit XGBoost's benchmark setting
// (100 iterations of depth-3 trees, no early stopping) on the synthetic
// set.

func hgbBenchClassifier() ml.Estimator {
	m := ml.NewHistGradientBoostingClassifier()
	m.MaxDepth, m.EarlyStopping = 3, "false"
	return m
}

func hgbBenchRegressor() ml.Estimator {
	m := ml.NewHistGradientBoostingRegressor()
	m.MaxDepth, m.EarlyStopping = 3, "false"
	return m
}

func BenchmarkHistGradientBoostingClassifier(b *testing.B) {
	treeBenchEstimator(b, false, hgbBenchClassifier)
}

func BenchmarkHistGradientBoostingRegressor(b *testing.B) {
	treeBenchEstimator(b, true, hgbBenchRegressor)
}
