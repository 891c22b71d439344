package ml_test

import (
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

func BenchmarkKNeighborsClassifier(b *testing.B) {
	benchEstimator(b, false, func() ml.Estimator { return ml.NewKNeighborsClassifier() })
}

func BenchmarkKNeighborsRegressor(b *testing.B) {
	benchEstimator(b, true, func() ml.Estimator { return ml.NewKNeighborsRegressor() })
}
