package ml_test

import (
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

func BenchmarkRandomForestClassifier(b *testing.B) {
	treeBenchEstimator(b, false, func() ml.Estimator { return ml.NewRandomForestClassifier() })
}

func BenchmarkRandomForestRegressor(b *testing.B) {
	treeBenchEstimator(b, true, func() ml.Estimator { return ml.NewRandomForestRegressor() })
}
