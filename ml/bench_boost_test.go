package ml_test

import (
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

func BenchmarkGradientBoostingClassifier(b *testing.B) {
	treeBenchEstimator(b, false, func() ml.Estimator { return ml.NewGradientBoostingClassifier() })
}

func BenchmarkGradientBoostingRegressor(b *testing.B) {
	treeBenchEstimator(b, true, func() ml.Estimator { return ml.NewGradientBoostingRegressor() })
}
