package stages

import "github.com/sluice-ml/sluice/ml"

// kmeansInertia returns a fitted k-means model's inertia.
func kmeansInertia(m ml.Estimator) float64 {
	if k, ok := m.(interface{ InertiaValue() float64 }); ok {
		return k.InertiaValue()
	}
	return 0
}

func mlAdjustedRandIndex(a, b []int) float64 { return 0 }
