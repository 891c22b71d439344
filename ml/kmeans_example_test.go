package ml_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

func ExampleKMeans() {
	// Three groups of 50 rows around (0, 0), (5, 5) and (0, 5).
	r := rand.New(rand.NewPCG(1, 1))
	centers := [][2]float64{{0, 0}, {5, 5}, {0, 5}}
	X := mat.NewDense(150, 2, nil)
	truth := make([]int, 150)
	for i := range 150 {
		c := i / 50
		X.Set(i, 0, centers[c][0]+r.NormFloat64())
		X.Set(i, 1, centers[c][1]+r.NormFloat64())
		truth[i] = c
	}

	m := ml.NewKMeans()
	m.NClusters, m.Seed = 3, 1
	if err := m.Fit(X); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("inertia %.4f after %d iterations\n", m.Inertia, m.NIter)
	fmt.Printf("adjusted Rand index %.4f\n", ml.AdjustedRandIndex(truth, m.Labels))
	c := m.ClusterCenters[m.Labels[0]]
	fmt.Printf("center of the first group (%.4f, %.4f)\n", c[0], c[1])
	// Output:
	// inertia 284.9479 after 4 iterations
	// adjusted Rand index 0.9601
	// center of the first group (-0.1521, 0.1483)
}
