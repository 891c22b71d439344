package ml_test

import (
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

func BenchmarkKNeighborsClassifier(b *testing.B) {
	treeBenchEstimator(b, false, func() ml.Estimator { return ml.NewKNeighborsClassifier() })
}

func BenchmarkKNeighborsRegressor(b *testing.B) {
	treeBenchEstimator(b, true, func() ml.Estimator { return ml.NewKNeighborsRegressor() })
}
