package ml_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

// treeExampleBlobs returns n rows of two features: class 1 where x0 + x1 plus
// a little noise is positive, else class 0.
func treeExampleBlobs(r *rand.Rand, n int) (*mat.Dense, []float64) {
	X := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	for i := range n {
		a, b := r.NormFloat64(), r.NormFloat64()
		X.Set(i, 0, a)
		X.Set(i, 1, b)
		if a+b+0.3*r.NormFloat64() > 0 {
			y[i] = 1
		}
	}
	return X, y
}

func ExampleDecisionTreeClassifier() {
	r := rand.New(rand.NewPCG(1, 1))
	Xtr, ytr := treeExampleBlobs(r, 300)
	Xte, yte := treeExampleBlobs(r, 100)

	m := ml.NewDecisionTreeClassifier()
	m.MaxDepth, m.Seed = 4, 1
	if err := m.Fit(Xtr, ytr); err != nil {
		fmt.Println(err)
		return
	}
	pred := m.Predict(nil, Xte)
	correct := 0
	for i := range pred {
		if pred[i] == yte[i] {
			correct++
		}
	}
	imp := m.FeatureImportances()
	p := m.PredictProba(nil, mat.NewDense(1, 2, []float64{1, 1}))
	fmt.Printf("depth %d, %d nodes\n", m.Tree.Depth(), m.Tree.NodeCount())
	fmt.Printf("test accuracy %.4f\n", float64(correct)/float64(len(pred)))
	fmt.Printf("importances %.4f %.4f\n", imp[0], imp[1])
	fmt.Printf("P(class 1 | x=(1, 1)) = %.4f\n", p.At(0, 1))
	// Output:
	// depth 4, 23 nodes
	// test accuracy 0.8900
	// importances 0.4961 0.5039
	// P(class 1 | x=(1, 1)) = 1.0000
}
