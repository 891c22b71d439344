package ml_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

func ExampleRandomForestClassifier() {
	r := rand.New(rand.NewPCG(1, 1))
	Xtr, ytr := treeExampleBlobs(r, 300)
	Xte, yte := treeExampleBlobs(r, 100)

	m := ml.NewRandomForestClassifier()
	m.NEstimators, m.Seed = 50, 1
	trees := 0
	m.SetProgress(func(done, total int) error {
		trees = done
		return nil
	})
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
	p := m.PredictProba(nil, mat.NewDense(1, 2, []float64{0.1, -0.05}))
	fmt.Printf("%d trees grown\n", trees)
	fmt.Printf("test accuracy %.4f\n", float64(correct)/float64(len(pred)))
	fmt.Printf("P(class 1 | x=(0.1, -0.05)) = %.4f\n", p.At(0, 1))
	// Output:
	// 50 trees grown
	// test accuracy 0.8900
	// P(class 1 | x=(0.1, -0.05)) = 0.3400
}
