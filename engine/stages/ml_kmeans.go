package stages

import (
	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/ml"
)

// kmeansEstimator lets k-means sit in a split → model stage: Fit ignores
// the target (which evaluate uses for the adjusted Rand index).
type kmeansEstimator struct{ *ml.KMeans }

func newKMeansEstimator() ml.Estimator { return &kmeansEstimator{ml.NewKMeans()} }

// Fit clusters the rows of X.
func (k *kmeansEstimator) Fit(X mat.Matrix, _ []float64) error { return k.KMeans.Fit(X) }

// kmeansInertia returns a fitted k-means model's inertia (0 for other models).
func kmeansInertia(m ml.Estimator) float64 {
	if k, ok := m.(*kmeansEstimator); ok {
		return k.Inertia
	}
	return 0
}
