package ml_test

import (
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

func BenchmarkDecisionTreeClassifier(b *testing.B) {
	treeBenchEstimator(b, false, func() ml.Estimator { return ml.NewDecisionTreeClassifier() })
}

func BenchmarkDecisionTreeRegressor(b *testing.B) {
	treeBenchEstimator(b, true, func() ml.Estimator { return ml.NewDecisionTreeRegressor() })
}
