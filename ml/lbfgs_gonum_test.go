package ml_test

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"

	"github.com/sluice-ml/sluice/ml"
)

// relDecrease is scipy's L-BFGS-B relative-decrease test as a gonum
// Converger: stop when an iteration lowers f by a relative ftol or less.
type relDecrease struct {
	ftol, prev float64
	started    bool
}

func (c *relDecrease) Init(int) { c.started = false }

func (c *relDecrease) Converged(l *optimize.Location) optimize.Status {
	if !c.started {
		c.started, c.prev = true, l.F
		return optimize.NotTerminated
	}
	d := (c.prev - l.F) / math.Max(math.Max(math.Abs(c.prev), math.Abs(l.F)), 1)
	c.prev = l.F
	if d <= c.ftol {
		return optimize.FunctionConvergence
	}
	return optimize.NotTerminated
}

// gonumLBFGS minimises fg from w with gonum/optimize's LBFGS set up as
// close to this package's solver as gonum allows: 10 pairs, the
// Moré–Thuente line search, the same gradient and relative-decrease
// tests. gonum asks for the value and the gradient separately; a cache
// keyed by the point keeps that to one evaluation of fg per point.
func gonumLBFGS(t testing.TB, dim int, fg func(w, g []float64) float64, w []float64, maxIter int, tol float64) *optimize.Result {
	var cx, cg []float64
	var cf float64
	eval := func(x []float64) {
		if cx != nil && slices.Equal(cx, x) {
			return
		}
		cx = append(cx[:0], x...)
		if cg == nil {
			cg = make([]float64, dim)
		}
		cf = fg(x, cg)
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 { eval(x); return cf },
		Grad: func(g, x []float64) { eval(x); copy(g, cg) },
	}
	res, err := optimize.Minimize(p, w, &optimize.Settings{
		GradientThreshold: tol,
		MajorIterations:   maxIter,
		Converger:         &relDecrease{ftol: 2.220446049250313e-09},
	}, &optimize.LBFGS{Store: 10, Linesearcher: &optimize.MoreThuente{}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestLBFGSAgainstGonum fits LogisticRegression's objective (C=1, the
// intercept included) on the reference splits with this package's L-BFGS
// and with gonum/optimize's, set up alike, and compares where they stop:
// the objective, the iterations, the evaluations and the largest weight
// difference. The weights agree to well inside the 1e-3 the scikit-learn
// comparison (TestLearnedValues) allows; the counts are logged (go test
// -v -run LBFGSAgainstGonum ./ml).
func TestLBFGSAgainstGonum(t *testing.T) {
	for _, name := range []string{"iris", "wine", "breast_cancer", "digits"} {
		t.Run(name, func(t *testing.T) {
			d := loadSplit(t, name)
			dim, fg, evals, solve := ml.LogitProblem(d.Xtr, d.ytr, 1, 1000, 1e-4)
			ours := make([]float64, dim)
			f1, it1, conv1 := solve(ours)
			e1 := *evals
			*evals = 0
			theirs := gonumLBFGS(t, dim, fg, make([]float64, dim), 1000, 1e-4)
			e2 := *evals
			diff := 0.0
			for i := range ours {
				diff = math.Max(diff, math.Abs(ours[i]-theirs.X[i]))
			}
			t.Logf("%s (%d weights): here f=%.10g after %d iterations, %d evaluations (converged %v); gonum f=%.10g after %d iterations, %d evaluations (%v); largest weight difference %.2g",
				name, dim, f1, it1, e1, conv1, theirs.F, theirs.Stats.MajorIterations, e2, theirs.Status, diff)
			if !conv1 {
				t.Errorf("this package's L-BFGS did not converge")
			}
			if rel := math.Abs(f1-theirs.F) / math.Max(1, math.Abs(f1)); rel > 1e-6 || diff > 1e-3 || math.IsNaN(floats.Sum(theirs.X)) {
				t.Errorf("the two solvers stop at different points: objective %v vs %v, weights apart by %v", f1, theirs.F, diff)
			}
		})
	}
}

// BenchmarkLBFGS times one fit of LogisticRegression's objective on the
// digits split (650 weights) by each solver.
func BenchmarkLBFGS(b *testing.B) {
	d := loadSplit(b, "digits")
	dim, fg, _, solve := ml.LogitProblem(d.Xtr, d.ytr, 1, 1000, 1e-4)
	b.Run("here", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			solve(make([]float64, dim))
		}
	})
	b.Run("gonum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			gonumLBFGS(b, dim, fg, make([]float64, dim), 1000, 1e-4)
		}
	})
}
