package ml

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Lasso is least squares with an L1 penalty, minimising
//
//	1/(2n)·‖y - Xw - b‖² + Alpha·‖w‖₁
//
// by cyclic coordinate descent, as scikit-learn's Lasso: after a sweep
// whose largest weight change is below Tol times the largest weight, the
// duality gap is computed and the fit stops once it is below Tol·‖y-ȳ‖².
// For data with more rows than columns the sweeps run on the centred
// Gram matrix (XᵀX is formed once, on all cores), otherwise on the
// residual; both give the same iterates.
//
// Running out of iterations is not an error: Converged says whether the
// gap test passed, NIter how many sweeps ran (scikit-learn warns).
type Lasso struct {
	Alpha        float64 `json:"alpha" ml:"param"`
	FitIntercept bool    `json:"fit_intercept" ml:"param"`
	MaxIter      int     `json:"max_iter" ml:"param"`
	Tol          float64 `json:"tol" ml:"param"`

	Coef      []float64 `json:"coef"`
	Intercept float64   `json:"intercept"`
	NIter     int       `json:"n_iter"`
	DualGap   float64   `json:"dual_gap"`
	Converged bool      `json:"converged"`

	progress Progress
}

var (
	_ Estimator  = (*Lasso)(nil)
	_ Progressor = (*Lasso)(nil)
)

// NewLasso returns a model with scikit-learn's defaults: alpha=1,
// fit_intercept=true, max_iter=1000, tol=1e-4.
func NewLasso() *Lasso { return &Lasso{Alpha: 1, FitIntercept: true, MaxIter: 1000, Tol: 1e-4} }

// SetParams sets hyperparameters by scikit-learn name (alpha,
// fit_intercept, max_iter, tol).
func (m *Lasso) SetParams(params map[string]any) error { return SetParams(m, params) }

// SetProgress sets a hook called after every sweep with (sweep,
// MaxIter). An error from it stops Fit, which returns it wrapped.
func (m *Lasso) SetProgress(p Progress) { m.progress = p }

// Fit runs coordinate descent from zero weights. It panics if len(y)
// differs from the rows of X, and returns ErrNaN for non-finite input,
// an error for a negative alpha or max_iter < 1, or the hook's error.
func (m *Lasso) Fit(X mat.Matrix, y []float64) error {
	checkXy("Lasso", X, y)
	if !(m.Alpha >= 0) || m.MaxIter < 1 || m.Tol < 0 {
		return fmt.Errorf("ml: Lasso: need alpha >= 0, max_iter >= 1, tol >= 0 (got alpha=%v, max_iter=%d, tol=%v)", m.Alpha, m.MaxIter, m.Tol)
	}
	r, err := coordinateDescent("Lasso", X, y, m.Alpha, 0, m.FitIntercept, m.MaxIter, m.Tol, m.progress)
	if err != nil {
		return err
	}
	m.Coef, m.Intercept, m.NIter, m.DualGap, m.Converged = r.w, r.intercept, r.iters, r.gap, r.converged
	return nil
}

// cdResult is the outcome of coordinateDescent.
type cdResult struct {
	w         []float64
	intercept float64
	iters     int
	gap       float64
	converged bool
}

// coordinateDescent minimises 0.5‖y-Xw‖² + l1·‖w‖₁ + 0.5·l2·‖w‖² (l1 and
// l2 per row: scaled by n here) on centred data, scikit-learn's
// enet_coordinate_descent: cyclic sweeps, and after a sweep whose largest
// weight change is below tol times the largest weight, the duality gap,
// stopping once it is below tol·‖y-ȳ‖².
func coordinateDescent(name string, X mat.Matrix, y []float64, l1, l2 float64, center bool, maxIter int, tolerance float64, progress Progress) (cdResult, error) {
	n, p := X.Dims()
	alpha, beta := l1*float64(n), l2*float64(n)
	w := make([]float64, p)
	var st gram
	var sw sweeper
	if n >= p && p <= 4096 {
		var err error
		if _, st, err = gramFit(name, X, y, center); err != nil {
			return cdResult{}, err
		}
		sw = newGramSweeper(st)
	} else {
		Xd, err := prepare(name, X, y)
		if err != nil {
			return cdResult{}, err
		}
		st = gram{xmean: make([]float64, p)}
		if center {
			st = columnMeans(Xd, y)
		}
		sw = newResidualSweeper(Xd, y, st)
	}
	tol := tolerance * sw.yy()
	var r cdResult
	for it := 0; it < maxIter; it++ {
		r.iters = it + 1
		wmax, dwmax := sw.sweep(w, alpha, beta)
		if wmax == 0 || dwmax/wmax < tolerance || it == maxIter-1 {
			r.gap = sw.gap(w, alpha, beta)
			if r.gap < tol {
				r.converged = true
			}
		}
		if progress != nil {
			if err := progress(r.iters, maxIter); err != nil {
				return cdResult{}, fmt.Errorf("%s stopped at sweep %d: %w", name, r.iters, err)
			}
		}
		if r.converged {
			break
		}
	}
	r.w = w
	r.intercept = interceptFrom(st, w)
	return r, nil
}

// Predict writes X·Coef + Intercept into dst and returns it. It panics if
// the model is not fitted or X has the wrong number of columns.
func (m *Lasso) Predict(dst []float64, X mat.Matrix) []float64 {
	checkCols("Lasso", X, len(m.Coef))
	return linearPredict(dst, X, m.Coef, m.Intercept)
}

// ElasticNet is least squares with a mix of L1 and L2 penalties,
// minimising
//
//	1/(2n)·‖y - Xw - b‖² + Alpha·L1Ratio·‖w‖₁ + ½·Alpha·(1-L1Ratio)·‖w‖²
//
// by the same coordinate descent and stopping rule as Lasso (which is
// L1Ratio 1), as scikit-learn's ElasticNet.
type ElasticNet struct {
	Alpha        float64 `json:"alpha" ml:"param"`
	L1Ratio      float64 `json:"l1_ratio" ml:"param"`
	FitIntercept bool    `json:"fit_intercept" ml:"param"`
	MaxIter      int     `json:"max_iter" ml:"param"`
	Tol          float64 `json:"tol" ml:"param"`

	Coef      []float64 `json:"coef"`
	Intercept float64   `json:"intercept"`
	NIter     int       `json:"n_iter"`
	DualGap   float64   `json:"dual_gap"`
	Converged bool      `json:"converged"`

	progress Progress
}

var (
	_ Estimator  = (*ElasticNet)(nil)
	_ Progressor = (*ElasticNet)(nil)
)

// NewElasticNet returns a model with scikit-learn's defaults: alpha=1,
// l1_ratio=0.5, fit_intercept=true, max_iter=1000, tol=1e-4.
func NewElasticNet() *ElasticNet {
	return &ElasticNet{Alpha: 1, L1Ratio: 0.5, FitIntercept: true, MaxIter: 1000, Tol: 1e-4}
}

// SetParams sets hyperparameters by scikit-learn name (alpha, l1_ratio,
// fit_intercept, max_iter, tol).
func (m *ElasticNet) SetParams(params map[string]any) error { return SetParams(m, params) }

// SetProgress sets a hook called after every sweep with (sweep,
// MaxIter). An error from it stops Fit, which returns it wrapped.
func (m *ElasticNet) SetProgress(p Progress) { m.progress = p }

// Fit runs coordinate descent from zero weights. It panics if len(y)
// differs from the rows of X, and returns ErrNaN for non-finite input,
// an error for a negative alpha, an l1_ratio outside [0, 1] or max_iter
// < 1, or the hook's error.
func (m *ElasticNet) Fit(X mat.Matrix, y []float64) error {
	checkXy("ElasticNet", X, y)
	if !(m.Alpha >= 0) || !(m.L1Ratio >= 0 && m.L1Ratio <= 1) || m.MaxIter < 1 || m.Tol < 0 {
		return fmt.Errorf("ml: ElasticNet: need alpha >= 0, 0 <= l1_ratio <= 1, max_iter >= 1, tol >= 0 (got alpha=%v, l1_ratio=%v, max_iter=%d, tol=%v)",
			m.Alpha, m.L1Ratio, m.MaxIter, m.Tol)
	}
	r, err := coordinateDescent("ElasticNet", X, y, m.Alpha*m.L1Ratio, m.Alpha*(1-m.L1Ratio), m.FitIntercept, m.MaxIter, m.Tol, m.progress)
	if err != nil {
		return err
	}
	m.Coef, m.Intercept, m.NIter, m.DualGap, m.Converged = r.w, r.intercept, r.iters, r.gap, r.converged
	return nil
}

// Predict writes X·Coef + Intercept into dst and returns it. It panics if
// the model is not fitted or X has the wrong number of columns.
func (m *ElasticNet) Predict(dst []float64, X mat.Matrix) []float64 {
	checkCols("ElasticNet", X, len(m.Coef))
	return linearPredict(dst, X, m.Coef, m.Intercept)
}

func softThreshold(x, a float64) float64 {
	if x > a {
		return x - a
	}
	if x < -a {
		return x + a
	}
	return 0
}

// sweeper runs coordinate-descent sweeps for 0.5‖y-Xw‖² + alpha‖w‖₁ +
// 0.5·beta‖w‖² on centred data and evaluates its duality gap.
type sweeper interface {
	sweep(w []float64, alpha, beta float64) (wmax, dwmax float64)
	gap(w []float64, alpha, beta float64) float64
	yy() float64
}

// lassoGap is the duality gap given Xᵀr, ‖r‖², r·y and w, as in
// scikit-learn's enet_coordinate_descent.
func lassoGap(xtr []float64, rr, ry float64, w []float64, alpha, beta float64) float64 {
	var dual, l1, ww float64
	for j, v := range xtr {
		dual = math.Max(dual, math.Abs(v-beta*w[j]))
		l1 += math.Abs(w[j])
		ww += w[j] * w[j]
	}
	var gap, cst float64
	if dual > alpha {
		cst = alpha / dual
		gap = 0.5 * (rr + rr*cst*cst)
	} else {
		cst = 1
		gap = rr
	}
	return gap + alpha*l1 - cst*ry + 0.5*beta*(1+cst*cst)*ww
}

type gramSweeper struct {
	st gram
	G  []float64 // p×p, full
	h  []float64 // G w
	p  int
}

func newGramSweeper(st gram) *gramSweeper {
	p := len(st.q)
	G := make([]float64, p*p)
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			G[i*p+j] = st.G.At(i, j)
		}
	}
	return &gramSweeper{st: st, G: G, h: make([]float64, p), p: p}
}

func (s *gramSweeper) yy() float64 { return s.st.yy }

func (s *gramSweeper) sweep(w []float64, alpha, beta float64) (wmax, dwmax float64) {
	p := s.p
	for j := 0; j < p; j++ {
		gjj := s.G[j*p+j]
		if gjj == 0 {
			continue
		}
		old := w[j]
		row := s.G[j*p : (j+1)*p]
		tmp := s.st.q[j] - s.h[j] + old*gjj
		nw := softThreshold(tmp, alpha) / (gjj + beta)
		if d := nw - old; d != 0 {
			for k, g := range row {
				s.h[k] += d * g
			}
		}
		w[j] = nw
		dwmax = math.Max(dwmax, math.Abs(nw-old))
		wmax = math.Max(wmax, math.Abs(nw))
	}
	return wmax, dwmax
}

func (s *gramSweeper) gap(w []float64, alpha, beta float64) float64 {
	xtr := make([]float64, s.p)
	var wq, wh float64
	for j := range xtr {
		xtr[j] = s.st.q[j] - s.h[j]
		wq += w[j] * s.st.q[j]
		wh += w[j] * s.h[j]
	}
	rr := s.st.yy - 2*wq + wh
	return lassoGap(xtr, math.Max(rr, 0), s.st.yy-wq, w, alpha, beta)
}

// columnMeans gives the means of X's columns and of y.
func columnMeans(X *mat.Dense, y []float64) gram {
	n, p := X.Dims()
	st := gram{xmean: make([]float64, p)}
	for i := 0; i < n; i++ {
		for j, v := range X.RawRowView(i) {
			st.xmean[j] += v
		}
		st.ymean += y[i]
	}
	for j := range st.xmean {
		st.xmean[j] /= float64(n)
	}
	st.ymean /= float64(n)
	return st
}

type residualSweeper struct {
	cols [][]float64 // centred columns
	norm []float64   // squared column norms
	yc   []float64
	r    []float64 // yc - Xc w
	yy0  float64
}

func newResidualSweeper(X *mat.Dense, y []float64, st gram) *residualSweeper {
	n, p := X.Dims()
	s := &residualSweeper{cols: make([][]float64, p), norm: make([]float64, p), yc: make([]float64, n), r: make([]float64, n)}
	data := make([]float64, n*p)
	for j := range s.cols {
		s.cols[j] = data[j*n : (j+1)*n]
	}
	for i := 0; i < n; i++ {
		for j, v := range X.RawRowView(i) {
			c := v - st.xmean[j]
			s.cols[j][i] = c
			s.norm[j] += c * c
		}
		s.yc[i] = y[i] - st.ymean
		s.yy0 += s.yc[i] * s.yc[i]
	}
	copy(s.r, s.yc)
	return s
}

func (s *residualSweeper) yy() float64 { return s.yy0 }

func (s *residualSweeper) sweep(w []float64, alpha, beta float64) (wmax, dwmax float64) {
	for j, col := range s.cols {
		if s.norm[j] == 0 {
			continue
		}
		old := w[j]
		var tmp float64
		for i, v := range col {
			tmp += v * s.r[i]
		}
		tmp += old * s.norm[j]
		nw := softThreshold(tmp, alpha) / (s.norm[j] + beta)
		if d := nw - old; d != 0 {
			for i, v := range col {
				s.r[i] -= d * v
			}
		}
		w[j] = nw
		dwmax = math.Max(dwmax, math.Abs(nw-old))
		wmax = math.Max(wmax, math.Abs(nw))
	}
	return wmax, dwmax
}

func (s *residualSweeper) gap(w []float64, alpha, beta float64) float64 {
	xtr := make([]float64, len(s.cols))
	for j, col := range s.cols {
		var d float64
		for i, v := range col {
			d += v * s.r[i]
		}
		xtr[j] = d
	}
	var rr, ry float64
	for i, v := range s.r {
		rr += v * v
		ry += v * s.yc[i]
	}
	return lassoGap(xtr, rr, ry, w, alpha, beta)
}
