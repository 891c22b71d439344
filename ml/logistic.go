package ml

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// LogisticRegression is a linear classifier fitted by minimising
//
//	C·Σᵢ logloss(yᵢ, softmax(W xᵢ + b)) + ½‖W‖²
//
// (the intercept b is not penalised) with L-BFGS, as scikit-learn's
// LogisticRegression(penalty="l2", solver="lbfgs") does. With more than
// two classes the loss is the multinomial (softmax) one and W has one row
// per class; with two classes it is the binomial (sigmoid) loss with a
// single weight row for class 1, exactly as scikit-learn does, so the
// learned values match scikit-learn's.
//
// The fit stops when the largest gradient component is at most Tol or
// an iteration lowers the objective by a relative 2.2e-9 or less (scipy's
// L-BFGS-B rules), or after MaxIter iterations. Running out of
// iterations is not an error: Converged says whether it stopped by
// itself, and the model holds the last iterate (scikit-learn warns).
//
// On large inputs the loss and gradient are computed on all cores, in
// fixed row blocks summed in order, so the result does not depend on
// the number of cores.
type LogisticRegression struct {
	C            float64 `json:"C" ml:"param"`
	FitIntercept bool    `json:"fit_intercept" ml:"param"`
	MaxIter      int     `json:"max_iter" ml:"param"`
	Tol          float64 `json:"tol" ml:"param"`

	// NClasses is the number of classes (largest class code + 1).
	NClasses int `json:"n_classes"`
	// Coef has one row of weights per class, or a single row (class 1's)
	// for two classes; Intercept matches its rows.
	Coef      [][]float64 `json:"coef"`
	Intercept []float64   `json:"intercept"`
	NIter     int         `json:"n_iter"`
	Converged bool        `json:"converged"`

	progress Progress
}

var (
	_ Classifier = (*LogisticRegression)(nil)
	_ Progressor = (*LogisticRegression)(nil)
)

// NewLogisticRegression returns a model with scikit-learn's defaults:
// C=1, fit_intercept=true, max_iter=100, tol=1e-4.
func NewLogisticRegression() *LogisticRegression {
	return &LogisticRegression{C: 1, FitIntercept: true, MaxIter: 100, Tol: 1e-4}
}

// SetProgress sets a hook called after every L-BFGS iteration with
// (iteration, MaxIter). An error from it stops Fit, which returns it
// wrapped.
func (m *LogisticRegression) SetProgress(p Progress) { m.progress = p }

// SetParams sets hyperparameters by scikit-learn name (C, fit_intercept,
// max_iter, tol); see SetParams.
func (m *LogisticRegression) SetParams(params map[string]any) error { return SetParams(m, params) }

// NumClasses is the number of classes seen by Fit.
func (m *LogisticRegression) NumClasses() int { return m.NClasses }

// Fit learns the weights from rows X and class codes y (0..k-1). It
// panics if len(y) differs from the rows of X or y holds a non-code, and
// returns ErrNaN for non-finite input, ErrOneClass when fewer than two
// classes appear, an error for C <= 0 or MaxIter < 1, or the progress
// hook's error.
func (m *LogisticRegression) Fit(X mat.Matrix, y []float64) error {
	Xd, err := prepare("LogisticRegression", X, y)
	if err != nil {
		return err
	}
	if !(m.C > 0) || m.MaxIter < 1 || m.Tol < 0 {
		return fmt.Errorf("ml: LogisticRegression: need C > 0, max_iter >= 1, tol >= 0 (got C=%v, max_iter=%d, tol=%v)", m.C, m.MaxIter, m.Tol)
	}
	k, _, err := classCodes("LogisticRegression", y)
	if err != nil {
		return err
	}
	_, p := Xd.Dims()
	rowsW := k
	if k == 2 {
		rowsW = 1
	}
	stride := p + 1
	w := make([]float64, rowsW*stride)
	obj := newLogitObjective(Xd, y, rowsW, m.C, m.FitIntercept)
	opt := &lbfgs{mem: 10, maxIter: m.MaxIter, maxEvals: 20, gtol: m.Tol, ftol: 2.220446049250313e-09}
	if m.progress != nil {
		opt.hook = func(it int) error { return m.progress(it, m.MaxIter) }
	}
	res, err := opt.minimize(w, obj.eval)
	if err != nil {
		return fmt.Errorf("LogisticRegression stopped at iteration %d: %w", res.iters, err)
	}
	m.NClasses = k
	m.Coef = make([][]float64, rowsW)
	m.Intercept = make([]float64, rowsW)
	for c := 0; c < rowsW; c++ {
		m.Coef[c] = append([]float64(nil), w[c*stride:c*stride+p]...)
		m.Intercept[c] = w[c*stride+p]
	}
	m.NIter, m.Converged = res.iters, res.converged
	return nil
}

// logitObjective evaluates the penalised loss and its gradient over
// fixed row blocks, in parallel when there are several. Each block of X
// is kept transposed (feature-major), so the scores and the gradient are
// long unit-stride axpy and dot runs rather than many short ones.
type logitObjective struct {
	n, p      int
	xt        [][]float64 // per block: p × m, feature-major
	y         []float64
	k         int // weight rows: 1 (binomial) or the number of classes
	invC      float64
	intercept bool
	z         [][]float64 // per block: k × m scores, then residuals
	partG     [][]float64
	partF     []float64
}

func newLogitObjective(X *mat.Dense, y []float64, k int, C float64, intercept bool) *logitObjective {
	n, p := X.Dims()
	nc := (n + chunkRows - 1) / chunkRows
	o := &logitObjective{n: n, p: p, y: y, k: k, invC: 1 / C, intercept: intercept,
		xt: make([][]float64, nc), z: make([][]float64, nc),
		partG: make([][]float64, nc), partF: make([]float64, nc)}
	parallelChunks(n, func(c, lo, hi int) {
		m := hi - lo
		xt := make([]float64, p*m)
		for i := lo; i < hi; i++ {
			for j, v := range X.RawRowView(i) {
				xt[j*m+i-lo] = v
			}
		}
		o.xt[c] = xt
		o.z[c] = make([]float64, k*m)
		o.partG[c] = make([]float64, k*(p+1))
	})
	return o
}

func (o *logitObjective) eval(w, grad []float64) float64 {
	n, p, k := o.n, o.p, o.k
	stride := p + 1
	nc := parallelChunks(n, func(c, lo, hi int) {
		m := hi - lo
		xt, Z := o.xt[c], o.z[c]
		// Scores: Z[q] = b_q + Σ_j W[q,j] X[:,j].
		for q := 0; q < k; q++ {
			zq := Z[q*m : (q+1)*m]
			b := 0.0
			if o.intercept {
				b = w[q*stride+p]
			}
			for i := range zq {
				zq[i] = b
			}
			for j := 0; j < p; j++ {
				floats.AddScaled(zq, w[q*stride+j], xt[j*m:(j+1)*m])
			}
		}
		var f float64
		if k == 1 {
			for i, t := range Z {
				yi := o.y[lo+i]
				// log(1+e^t) - y t, stably, with e = exp(-|t|); the
				// residual is sigmoid(t) - y.
				e := math.Exp(-math.Abs(t))
				f += math.Max(t, 0) + math.Log1p(e) - yi*t
				s := 1 / (1 + e)
				if t < 0 {
					s = e * s
				}
				Z[i] = s - yi
			}
		} else {
			prod, nprod := 1.0, 0
			for i := 0; i < m; i++ {
				yi := int(o.y[lo+i])
				qmax := 0
				zmax := Z[i]
				for q := 1; q < k; q++ {
					if v := Z[q*m+i]; v > zmax {
						qmax, zmax = q, v
					}
				}
				zy := Z[yi*m+i]
				sum := 1.0 // exp(zmax - zmax)
				for q := 0; q < k; q++ {
					if q == qmax {
						Z[q*m+i] = 1
						continue
					}
					e := math.Exp(Z[q*m+i] - zmax)
					Z[q*m+i] = e
					sum += e
				}
				// Σ log(sum) is taken as the log of a running product of
				// the sums (each in [1, k]): one Log per 32 rows instead
				// of one per row, flushed early before it could overflow.
				f += zmax - zy
				prod *= sum
				if nprod++; nprod == 32 || prod > 1e250 {
					f += math.Log(prod)
					prod, nprod = 1, 0
				}
				inv := 1 / sum
				for q := 0; q < k; q++ {
					Z[q*m+i] *= inv
				}
				Z[yi*m+i] -= 1
			}
			f += math.Log(prod)
		}
		// Gradient: G[q,j] = Σ_i R[q,i] X[i,j]; intercept: Σ_i R[q,i].
		g := o.partG[c]
		for q := 0; q < k; q++ {
			rq := Z[q*m : (q+1)*m]
			for j := 0; j < p; j++ {
				g[q*stride+j] = floats.Dot(rq, xt[j*m:(j+1)*m])
			}
			g[q*stride+p] = 0
			if o.intercept {
				g[q*stride+p] = floats.Sum(rq)
			}
		}
		o.partF[c] = f
	})
	var f float64
	for j := range grad {
		grad[j] = 0
	}
	for c := 0; c < nc; c++ {
		f += o.partF[c]
		for j, v := range o.partG[c] {
			grad[j] += v
		}
	}
	var pen float64
	for q := 0; q < k; q++ {
		for j := 0; j < p; j++ {
			v := w[q*stride+j]
			pen += v * v
			grad[q*stride+j] += o.invC * v
		}
		if !o.intercept {
			grad[q*stride+p] = 0
		}
	}
	return f + 0.5*o.invC*pen
}

func (m *LogisticRegression) checkFitted(X mat.Matrix) {
	if m.Coef == nil {
		panic("ml: LogisticRegression used before Fit")
	}
	checkCols("LogisticRegression", X, len(m.Coef[0]))
}

// DecisionFunction writes the raw scores W x + b into dst (n × 1 for two
// classes, n × k otherwise) and returns it. It panics if the model is
// not fitted or X has the wrong number of columns.
func (m *LogisticRegression) DecisionFunction(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	m.checkFitted(X)
	return linearScores(dst, X, m.Coef, m.Intercept)
}

// linearScores computes X Coefᵀ + intercept.
func linearScores(dst *mat.Dense, X mat.Matrix, coef [][]float64, intercept []float64) *mat.Dense {
	r, _ := X.Dims()
	k, p := len(coef), len(coef[0])
	W := mat.NewDense(k, p, nil)
	for q, row := range coef {
		copy(W.RawRowView(q), row)
	}
	dst = denseDst(dst, r, k)
	dst.Mul(X, W.T())
	for i := 0; i < r; i++ {
		row := dst.RawRowView(i)
		for q := range row {
			row[q] += intercept[q]
		}
	}
	return dst
}

// PredictProba writes the class probabilities (n × NClasses) into dst and
// returns it. It panics if the model is not fitted or X has the wrong
// number of columns.
func (m *LogisticRegression) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	m.checkFitted(X)
	r, _ := X.Dims()
	S := linearScores(nil, X, m.Coef, m.Intercept)
	dst = denseDst(dst, r, m.NClasses)
	for i := 0; i < r; i++ {
		s := S.RawRowView(i)
		out := dst.RawRowView(i)
		if len(m.Coef) == 1 {
			p1 := 1 / (1 + math.Exp(-s[0]))
			out[0], out[1] = 1-p1, p1
			continue
		}
		softmaxTo(out, s)
	}
	return dst
}

// softmaxTo writes softmax(s) into out.
func softmaxTo(out, s []float64) {
	mx := s[0]
	for _, v := range s[1:] {
		mx = math.Max(mx, v)
	}
	var sum float64
	for q, v := range s {
		out[q] = math.Exp(v - mx)
		sum += out[q]
	}
	for q := range out {
		out[q] /= sum
	}
}

// Predict writes the most probable class code for each row into dst and
// returns it. It panics if the model is not fitted or X has the wrong
// number of columns.
func (m *LogisticRegression) Predict(dst []float64, X mat.Matrix) []float64 {
	m.checkFitted(X)
	S := linearScores(nil, X, m.Coef, m.Intercept)
	return argmaxScores(dst, S)
}

// argmaxScores turns scores into class codes: the first largest column,
// or for a single column, 1 when the score is positive.
func argmaxScores(dst []float64, S *mat.Dense) []float64 {
	r, k := S.Dims()
	dst = predictDst(dst, r)
	for i := 0; i < r; i++ {
		s := S.RawRowView(i)
		if k == 1 {
			if s[0] > 0 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
			continue
		}
		best := 0
		for q := 1; q < k; q++ {
			if s[q] > s[best] {
				best = q
			}
		}
		dst[i] = float64(best)
	}
	return dst
}
