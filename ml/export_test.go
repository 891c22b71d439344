package ml

import "gonum.org/v1/gonum/mat"

// LogitProblem exposes LogisticRegression's objective and its solver to
// the external tests that compare the solver with gonum/optimize's: the
// number of weights, the objective (value, gradient into g) counting its
// evaluations, and Solve, which runs this package's L-BFGS with Fit's
// settings from w (updated in place).
func LogitProblem(X *mat.Dense, y []float64, C float64, maxIter int, tol float64) (dim int, fg func(w, g []float64) float64, evals *int, solve func(w []float64) (f float64, iters int, converged bool)) {
	k, _, err := classCodes("LogisticRegression", y)
	if err != nil {
		panic(err)
	}
	_, p := X.Dims()
	rows := k
	if k == 2 {
		rows = 1
	}
	obj := newLogitObjective(X, y, rows, C, true)
	n := 0
	fg = func(w, g []float64) float64 { n++; return obj.eval(w, g) }
	solve = func(w []float64) (float64, int, bool) {
		opt := &lbfgs{mem: 10, maxIter: maxIter, maxEvals: 20, gtol: tol, ftol: 2.220446049250313e-09}
		res, _ := opt.minimize(w, fg)
		return res.f, res.iters, res.converged
	}
	return rows * (p + 1), fg, &n, solve
}
