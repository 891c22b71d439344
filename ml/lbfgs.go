package ml

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/floats"
)

// lbfgs minimises a smooth function with limited-memory BFGS and a
// strong-Wolfe line search (see linesearch), stopping the way scipy's
// L-BFGS-B (which scikit-learn uses) stops: when the largest gradient component is at
// most gtol, or the relative decrease of f in an iteration is at most
// ftol.
type lbfgs struct {
	mem      int     // history pairs kept (scipy's maxcor, 10)
	maxIter  int     // iterations (line searches)
	maxEvals int     // evaluations per line search (scipy's maxls, 20)
	gtol     float64 // gradient infinity norm to stop at
	ftol     float64 // relative decrease to stop at
	hook     func(iter int) error
}

type lbfgsResult struct {
	f         float64
	iters     int
	converged bool
}

// errLinesearch marks a line search that found no acceptable step.
var errLinesearch = errors.New("line search failed")

// minimize runs from x (updated in place). fg evaluates f at x and
// writes the gradient into grad. A hook error stops it and is returned.
func (o *lbfgs) minimize(x []float64, fg func(x, grad []float64) float64) (lbfgsResult, error) {
	n := len(x)
	g := make([]float64, n)
	f := fg(x, g)
	if floats.Norm(g, math.Inf(1)) <= o.gtol {
		return lbfgsResult{f: f, converged: true}, nil
	}
	m := o.mem
	S := make([][]float64, m)
	Y := make([][]float64, m)
	for i := range S {
		S[i] = make([]float64, n)
		Y[i] = make([]float64, n)
	}
	rho := make([]float64, m)
	alpha := make([]float64, m)
	head, count := 0, 0 // ring buffer: newest at (head-1) mod m
	d := make([]float64, n)
	xNew := make([]float64, n)
	gNew := make([]float64, n)
	res := lbfgsResult{f: f}
	for iter := 1; iter <= o.maxIter; iter++ {
		// Two-loop recursion: d = -H g.
		copy(d, g)
		for k := 0; k < count; k++ {
			i := (head - 1 - k + m) % m
			alpha[i] = rho[i] * floats.Dot(S[i], d)
			floats.AddScaled(d, -alpha[i], Y[i])
		}
		if count > 0 {
			i := (head - 1 + m) % m
			floats.Scale(floats.Dot(S[i], Y[i])/floats.Dot(Y[i], Y[i]), d)
		}
		for k := count - 1; k >= 0; k-- {
			i := (head - 1 - k + m) % m
			b := rho[i] * floats.Dot(Y[i], d)
			floats.AddScaled(d, alpha[i]-b, S[i])
		}
		floats.Scale(-1, d)
		dg := floats.Dot(d, g)
		if !(dg < 0) { // not a descent direction: restart from steepest descent
			count = 0
			copy(d, g)
			floats.Scale(-1, d)
			dg = floats.Dot(d, g)
		}
		step := 1.0
		if count == 0 {
			step = 1 / floats.Norm(d, 2)
		}
		fNew, err := o.linesearch(x, d, f, dg, step, xNew, gNew, fg)
		if err != nil {
			if count > 0 && errors.Is(err, errLinesearch) {
				count = 0 // retry once along the gradient
				iter--
				continue
			}
			res.iters = iter - 1
			return res, nil // no further progress possible; not converged
		}
		// Update the history.
		s, y := S[head], Y[head]
		floats.SubTo(s, xNew, x)
		floats.SubTo(y, gNew, g)
		if sy := floats.Dot(s, y); sy > 2.2e-16*floats.Dot(y, y) {
			rho[head] = 1 / sy
			head = (head + 1) % m
			count = min(count+1, m)
		}
		copy(x, xNew)
		copy(g, gNew)
		fOld := f
		f = fNew
		res.f, res.iters = f, iter
		if o.hook != nil {
			if err := o.hook(iter); err != nil {
				return res, err
			}
		}
		if floats.Norm(g, math.Inf(1)) <= o.gtol ||
			(fOld-f)/math.Max(math.Max(math.Abs(fOld), math.Abs(f)), 1) <= o.ftol {
			res.converged = true
			return res, nil
		}
	}
	return res, nil
}

// linesearch finds a step along d satisfying the strong Wolfe conditions
// (Nocedal & Wright, Numerical Optimization, algorithms 3.5 and 3.6, with
// safeguarded cubic interpolation), leaving the accepted point in xNew
// and its gradient in gNew. f and dg are the value and the directional
// derivative at x; step is the first trial.
func (o *lbfgs) linesearch(x, d []float64, f, dg, step float64, xNew, gNew []float64, fg func(x, grad []float64) float64) (float64, error) {
	const c1, c2 = 1e-4, 0.9
	evals := 0
	eval := func(a float64) (float64, float64) {
		evals++
		floats.AddScaledTo(xNew, x, a, d)
		fa := fg(xNew, gNew)
		return fa, floats.Dot(gNew, d)
	}
	armijo := func(a, fa float64) bool { return fa <= f+c1*a*dg }
	curv := func(ga float64) bool { return math.Abs(ga) <= -c2*dg }

	// zoom narrows [lo, hi], where lo satisfies the sufficient decrease
	// condition with the lower value, until a step meets both conditions.
	zoom := func(lo, flo, glo, hi, fhi, ghi float64) (float64, error) {
		for evals < o.maxEvals {
			a := cubicMin(lo, flo, glo, hi, fhi, ghi)
			w := math.Abs(hi - lo)
			if lb, ub := math.Min(lo, hi)+0.1*w, math.Max(lo, hi)-0.1*w; !(a >= lb && a <= ub) {
				a = (lo + hi) / 2
			}
			if w <= 1e-16*math.Max(1, math.Abs(lo)) {
				break
			}
			fa, ga := eval(a)
			if !armijo(a, fa) || fa >= flo {
				hi, fhi, ghi = a, fa, ga
				continue
			}
			if curv(ga) {
				return fa, nil
			}
			if ga*(hi-lo) >= 0 {
				hi, fhi, ghi = lo, flo, glo
			}
			lo, flo, glo = a, fa, ga
		}
		if lo > 0 && flo < f {
			fa, _ := eval(lo) // settle for sufficient decrease only
			return fa, nil
		}
		return 0, errLinesearch
	}

	prev, fprev, gprev := 0.0, f, dg
	a := step
	for evals < o.maxEvals {
		fa, ga := eval(a)
		if math.IsNaN(fa) || math.IsInf(fa, 1) {
			a = (prev + a) / 2 // overflow: step back
			continue
		}
		if !armijo(a, fa) || (evals > 1 && fa >= fprev) {
			return zoom(prev, fprev, gprev, a, fa, ga)
		}
		if curv(ga) {
			return fa, nil
		}
		if ga >= 0 {
			return zoom(a, fa, ga, prev, fprev, gprev)
		}
		prev, fprev, gprev = a, fa, ga
		a *= 4
	}
	return 0, errLinesearch
}

// cubicMin is the minimiser of the cubic matching values and slopes at
// a and b (Nocedal & Wright eq. 3.59), or NaN when it has none.
func cubicMin(a, fa, ga, b, fb, gb float64) float64 {
	d1 := ga + gb - 3*(fa-fb)/(a-b)
	disc := d1*d1 - ga*gb
	if disc < 0 {
		return math.NaN()
	}
	d2 := math.Copysign(math.Sqrt(disc), b-a)
	return b - (b-a)*(gb+d2-d1)/(gb-ga+2*d2)
}
