package ml_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

// exampleData makes n rows of two features from a seeded generator,
// with a class (1 when x0 + x1 plus noise is positive) and a linear
// target 3·x0 - 2·x1 + 1 plus noise.
func exampleData(n int) (X *mat.Dense, class, target []float64) {
	r := rand.New(rand.NewPCG(1, 1))
	X = mat.NewDense(n, 2, nil)
	class = make([]float64, n)
	target = make([]float64, n)
	for i := 0; i < n; i++ {
		x0, x1 := 10+2*r.NormFloat64(), r.NormFloat64()
		X.SetRow(i, []float64{x0, x1})
		if (x0-10)/2+x1+0.5*r.NormFloat64() > 0 {
			class[i] = 1
		}
		target[i] = 3*x0 - 2*x1 + 1 + 0.1*r.NormFloat64()
	}
	return X, class, target
}

func ExampleStandardScaler() {
	X, _, _ := exampleData(100)
	var s ml.StandardScaler
	if err := s.Fit(X); err != nil {
		fmt.Println(err)
		return
	}
	Z := s.Transform(nil, X)
	fmt.Printf("mean %.4f %.4f, scale %.4f %.4f\n", s.Mean[0], s.Mean[1], s.Scale[0], s.Scale[1])
	fmt.Printf("first row scaled: %.4f %.4f\n", Z.At(0, 0), Z.At(0, 1))
	// Output:
	// mean 9.9215 -0.0237, scale 2.0458 1.0075
	// first row scaled: 0.9244 0.4642
}

func ExampleLogisticRegression() {
	X, y, _ := exampleData(200)
	m := ml.NewLogisticRegression()
	if err := m.Fit(X, y); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("coef %.4f %.4f, intercept %.4f\n", m.Coef[0][0], m.Coef[0][1], m.Intercept[0])
	p := m.PredictProba(nil, X.Slice(0, 1, 0, 2))
	fmt.Printf("P(class 1 | row 0) = %.4f\n", p.At(0, 1))
	fmt.Printf("training accuracy %.4f\n", ml.Accuracy(y, m.Predict(nil, X)))
	// Output:
	// coef 1.3601 2.2392, intercept -13.6898
	// P(class 1 | row 0) = 0.9668
	// training accuracy 0.8650
}

func ExampleRidge() {
	X, _, y := exampleData(100)
	m := ml.NewRidge()
	if err := m.Fit(X, y); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("coef %.4f %.4f, intercept %.4f\n", m.Coef[0], m.Coef[1], m.Intercept)
	fmt.Printf("R² %.4f\n", ml.R2(y, m.Predict(nil, X)))
	// Output:
	// coef 2.9828 -1.9818, intercept 1.1586
	// R² 0.9997
}

func ExampleGridSearch() {
	X, y, _ := exampleData(200)
	g := &ml.GridSearch{
		// A pipeline factory: the scaler is refitted inside every fold.
		Factory: func(params map[string]any) (ml.Estimator, error) {
			lr := ml.NewLogisticRegression()
			if err := lr.SetParams(params); err != nil {
				return nil, err
			}
			return ml.NewPipeline(lr, &ml.StandardScaler{}), nil
		},
		Grid: map[string][]any{"C": {0.001, 0.1, 10.0}},
		CV:   ml.StratifiedKFold{NSplits: 5},
	}
	if err := g.Fit(X, y); err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range g.Result.Candidates {
		fmt.Printf("C=%-5v mean %.4f std %.4f rank %d\n", c.Params["C"], c.Mean, c.Std, c.Rank)
	}
	fmt.Println("best C:", g.Result.BestParams["C"])
	// Output:
	// C=0.001 mean 0.6650 std 0.0860 rank 3
	// C=0.1   mean 0.8550 std 0.0510 rank 1
	// C=10    mean 0.8550 std 0.0510 rank 1
	// best C: 0.1
}
