package ml

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// LinearRegression is ordinary least squares, as scikit-learn's
// LinearRegression: with FitIntercept the columns and target are centred
// first and the intercept recovered from the means.
//
// The normal equations are solved by Cholesky when they are well
// conditioned (condition number below 1e8), which is fast on tall data;
// otherwise the centred design is solved by SVD least squares, giving
// the minimum-norm solution for a rank-deficient design as
// scikit-learn's lstsq does. Rank records the rank found (the number of
// features on the fast path).
type LinearRegression struct {
	FitIntercept bool `json:"fit_intercept" ml:"param"`

	Coef      []float64 `json:"coef"`
	Intercept float64   `json:"intercept"`
	Rank      int       `json:"rank"`
}

var _ Estimator = (*LinearRegression)(nil)

// NewLinearRegression returns a model with fit_intercept=true.
func NewLinearRegression() *LinearRegression { return &LinearRegression{FitIntercept: true} }

// SetParams sets hyperparameters by scikit-learn name (fit_intercept).
func (m *LinearRegression) SetParams(params map[string]any) error { return SetParams(m, params) }

// Fit solves the least-squares problem. It panics if len(y) differs from
// the rows of X, and returns ErrNaN for non-finite input and ErrSingular
// if the SVD fails to converge.
func (m *LinearRegression) Fit(X mat.Matrix, y []float64) error {
	Xd, st, err := gramFit("LinearRegression", X, y, m.FitIntercept)
	if err != nil {
		return err
	}
	_, p := Xd.Dims()
	var chol mat.Cholesky
	w := make([]float64, p)
	if chol.Factorize(st.G) && chol.Cond() < 1e8 {
		if err := chol.SolveVecTo(mat.NewVecDense(p, w), mat.NewVecDense(p, st.q)); err != nil {
			return fmt.Errorf("LinearRegression: %w", ErrSingular)
		}
		m.Rank = p
	} else {
		rank, err := lstsqSVD(Xd, y, st, w)
		if err != nil {
			return fmt.Errorf("LinearRegression: %w", err)
		}
		m.Rank = rank
	}
	m.Coef = w
	m.Intercept = interceptFrom(st, w)
	return nil
}

// Predict writes X·Coef + Intercept into dst and returns it. It panics if
// the model is not fitted or X has the wrong number of columns.
func (m *LinearRegression) Predict(dst []float64, X mat.Matrix) []float64 {
	checkCols("LinearRegression", X, len(m.Coef))
	return linearPredict(dst, X, m.Coef, m.Intercept)
}

// Ridge is least squares with an L2 penalty Alpha·‖w‖² on the weights
// (not the intercept), solved with a Cholesky factorisation of the
// centred normal equations, as scikit-learn's Ridge with its "cholesky"
// solver (the one it picks for dense data).
type Ridge struct {
	Alpha        float64 `json:"alpha" ml:"param"`
	FitIntercept bool    `json:"fit_intercept" ml:"param"`

	Coef      []float64 `json:"coef"`
	Intercept float64   `json:"intercept"`
}

var _ Estimator = (*Ridge)(nil)

// NewRidge returns a model with scikit-learn's defaults: alpha=1,
// fit_intercept=true.
func NewRidge() *Ridge { return &Ridge{Alpha: 1, FitIntercept: true} }

// SetParams sets hyperparameters by scikit-learn name (alpha,
// fit_intercept).
func (m *Ridge) SetParams(params map[string]any) error { return SetParams(m, params) }

// Fit solves (XᵀX + αI) w = Xᵀy on the centred data. It panics if len(y)
// differs from the rows of X, and returns ErrNaN for non-finite input, an
// error for a negative alpha, and ErrSingular when alpha is 0 and the
// system is singular.
func (m *Ridge) Fit(X mat.Matrix, y []float64) error {
	if !(m.Alpha >= 0) {
		checkXy("Ridge", X, y)
		return fmt.Errorf("ml: Ridge: alpha=%v must be >= 0", m.Alpha)
	}
	Xd, st, err := gramFit("Ridge", X, y, m.FitIntercept)
	if err != nil {
		return err
	}
	_, p := Xd.Dims()
	for j := 0; j < p; j++ {
		st.G.SetSym(j, j, st.G.At(j, j)+m.Alpha)
	}
	var chol mat.Cholesky
	if !chol.Factorize(st.G) {
		return fmt.Errorf("Ridge: %w", ErrSingular)
	}
	w := make([]float64, p)
	if err := chol.SolveVecTo(mat.NewVecDense(p, w), mat.NewVecDense(p, st.q)); err != nil {
		return fmt.Errorf("Ridge: %w (%v)", ErrSingular, err)
	}
	m.Coef = w
	m.Intercept = interceptFrom(st, w)
	return nil
}

// Predict writes X·Coef + Intercept into dst and returns it. It panics if
// the model is not fitted or X has the wrong number of columns.
func (m *Ridge) Predict(dst []float64, X mat.Matrix) []float64 {
	checkCols("Ridge", X, len(m.Coef))
	return linearPredict(dst, X, m.Coef, m.Intercept)
}

func linearPredict(dst []float64, X mat.Matrix, coef []float64, b float64) []float64 {
	r, _ := X.Dims()
	dst = predictDst(dst, r)
	v := mat.NewVecDense(r, dst)
	v.MulVec(X, mat.NewVecDense(len(coef), coef))
	for i := range dst {
		dst[i] += b
	}
	return dst
}

// gram holds the centred sufficient statistics of a least-squares fit.
type gram struct {
	xmean []float64
	ymean float64
	G     *mat.SymDense // XcᵀXc
	q     []float64     // Xcᵀyc
	yy    float64       // yc·yc
}

func interceptFrom(st gram, w []float64) float64 {
	b := st.ymean
	for j, v := range w {
		b -= st.xmean[j] * v
	}
	return b
}

// gramFit is the Fit preamble of the least-squares models: shape checks
// (panic), finite y, then the centred statistics in one pass over X.
// Non-finite values in X show up as non-finite statistics, and only then
// is X scanned to say where.
func gramFit(name string, X mat.Matrix, y []float64, center bool) (*mat.Dense, gram, error) {
	checkXy(name, X, y)
	if len(y) == 0 {
		return nil, gram{}, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	if err := checkFiniteVec("y", y); err != nil {
		return nil, gram{}, fmt.Errorf("%s: %w", name, err)
	}
	Xd := dense(X)
	st := gramStats(Xd, y, center)
	ok := st.yy-st.yy == 0
	for j, v := range st.q {
		ok = ok && v-v == 0 && st.G.At(j, j)-st.G.At(j, j) == 0
	}
	if !ok {
		if err := checkFinite(Xd); err != nil {
			return nil, gram{}, fmt.Errorf("%s: %w", name, err)
		}
		return nil, gram{}, fmt.Errorf("%s: %w (overflow in XᵀX)", name, ErrNaN)
	}
	return Xd, st, nil
}

// gramStats computes the statistics in one pass of fixed row blocks (on
// all cores for tall data), summed in block order. With y nil only the
// means and XᵀX are meaningful. Rows are shifted by
// the mean of the first rows, an estimate of the column means, so that
// the sums of products lose little to cancellation; the exact centring
// is then a rank-one correction. Each block is copied shifted into a
// transposed (feature-major) buffer small enough to stay in cache, so
// the Gram update is a run of unit-stride dot products.
func gramStats(X *mat.Dense, y []float64, center bool) gram {
	n, p := X.Dims()
	const sub = 256
	shift := make([]float64, p)
	var yshift float64
	if center {
		m := min(n, sub)
		for i := 0; i < m; i++ {
			floats.Add(shift, X.RawRowView(i))
			if y != nil {
				yshift += y[i]
			}
		}
		floats.Scale(1/float64(m), shift)
		yshift /= float64(m)
	}
	nc := (n + chunkRows - 1) / chunkRows
	// Per block: p*p Gram, p of q, yy, p column sums, y sum.
	width := p*p + p + 1 + p + 1
	parts := make([][]float64, nc)
	raw := X.RawMatrix()
	parallelChunks(n, func(c, lo, hi int) {
		// Feature-major buffer: buf[j*ld+i]. The padded row length keeps
		// the p rows being written from landing in the same cache sets.
		const ld = sub + 8
		buf := make([]float64, p*ld)
		yc := make([]float64, sub)
		part := make([]float64, width)
		G := blas64.Symmetric{Uplo: blas.Upper, N: p, Stride: p, Data: part[:p*p]}
		q := blas64.Vector{N: p, Inc: 1, Data: part[p*p : p*p+p]}
		sx := part[p*p+p+1 : p*p+p+1+p]
		for b := lo; b < hi; b += sub {
			m := min(sub, hi-b)
			i := 0
			for ; i+4 <= m; i += 4 { // four rows at a time: 4-wide writes
				o := (b + i) * raw.Stride
				r0 := raw.Data[o : o+p]
				r1 := raw.Data[o+raw.Stride : o+raw.Stride+p]
				r2 := raw.Data[o+2*raw.Stride : o+2*raw.Stride+p]
				r3 := raw.Data[o+3*raw.Stride : o+3*raw.Stride+p]
				for j, sj := range shift {
					d := buf[j*ld+i : j*ld+i+4]
					d[0], d[1], d[2], d[3] = r0[j]-sj, r1[j]-sj, r2[j]-sj, r3[j]-sj
				}
			}
			for ; i < m; i++ {
				row := raw.Data[(b+i)*raw.Stride : (b+i)*raw.Stride+p]
				for j, v := range row {
					buf[j*ld+i] = v - shift[j]
				}
			}
			for j := range sx {
				sx[j] += floats.Sum(buf[j*ld : j*ld+m])
			}
			A := blas64.General{Rows: p, Cols: m, Stride: ld, Data: buf}
			blas64.Syrk(blas.NoTrans, 1, A, 1, G)
			if y == nil {
				continue
			}
			var sy float64
			for i := 0; i < m; i++ {
				yc[i] = y[b+i] - yshift
				sy += yc[i]
			}
			part[width-1] += sy
			blas64.Gemv(blas.NoTrans, 1, A, blas64.Vector{N: m, Inc: 1, Data: yc[:m]}, 1, q)
			part[p*p+p] += floats.Dot(yc[:m], yc[:m])
		}
		parts[c] = part
	})
	acc := make([]float64, width)
	for _, part := range parts {
		floats.Add(acc, part)
	}
	st := gram{xmean: make([]float64, p)}
	d := acc[p*p+p+1 : p*p+p+1+p] // mean - shift
	dy := 0.0
	if center {
		floats.Scale(1/float64(n), d)
		dy = acc[width-1] / float64(n)
		floats.AddTo(st.xmean, shift, d)
		st.ymean = yshift + dy
	} else {
		for j := range d {
			d[j] = 0
		}
	}
	fn := float64(n)
	st.G = mat.NewSymDense(p, nil)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			st.G.SetSym(i, j, acc[i*p+j]-fn*d[i]*d[j])
		}
	}
	st.q = make([]float64, p)
	for j := range st.q {
		st.q[j] = acc[p*p+j] - fn*d[j]*dy
	}
	st.yy = acc[p*p+p] - fn*dy*dy
	return st
}

// lstsqSVD solves min ‖Xc w - yc‖ by SVD with numpy's default cutoff
// (singular values below eps·max(n,p)·s_max count as zero), writing the
// minimum-norm solution into w and returning the rank.
func lstsqSVD(X *mat.Dense, y []float64, st gram, w []float64) (int, error) {
	n, p := X.Dims()
	Xc := mat.NewDense(n, p, nil)
	yc := make([]float64, n)
	for i := 0; i < n; i++ {
		src, d := X.RawRowView(i), Xc.RawRowView(i)
		for j := range d {
			d[j] = src[j] - st.xmean[j]
		}
		yc[i] = y[i] - st.ymean
	}
	var svd mat.SVD
	if !svd.Factorize(Xc, mat.SVDThin) {
		return 0, fmt.Errorf("SVD did not converge: %w", ErrSingular)
	}
	s := svd.Values(nil)
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	cut := eps64 * float64(max(n, p)) * s[0]
	uty := make([]float64, len(s))
	mat.NewVecDense(len(s), uty).MulVec(U.T(), mat.NewVecDense(n, yc))
	rank := 0
	for k, sv := range s {
		if sv <= cut || sv == 0 {
			uty[k] = 0
			continue
		}
		uty[k] /= sv
		rank++
	}
	mat.NewVecDense(p, w).MulVec(&V, mat.NewVecDense(len(s), uty))
	for j := range w {
		if math.IsNaN(w[j]) {
			return rank, ErrSingular
		}
	}
	return rank, nil
}
