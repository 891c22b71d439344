package ml

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// pcaGramRows is the row count from which PCA works from XᵀX rather
// than an SVD of X (when there are also at least ten rows per column):
// much faster on tall data, and as accurate for the leading components.
const pcaGramRows = 5000

// PCA projects rows onto the principal axes of the centred training
// data, found with a singular value decomposition, as scikit-learn's PCA
// with svd_solver="full" does (for tall data, at least 5,000 rows and
// ten per column, from the eigenvectors of the centred XᵀX instead:
// the same axes, found faster). Signs are made deterministic the way
// scikit-learn's svd_flip does: in each component, the row of U with the
// largest absolute value is made positive.
type PCA struct {
	// NComponents is how many components to keep; 0 keeps min(n, p).
	NComponents int `json:"n_components" ml:"param"`
	// Whiten divides each projected column by its standard deviation.
	Whiten bool `json:"whiten" ml:"param"`

	Mean []float64 `json:"mean"`
	// Components holds the principal axes, one row of p values each,
	// in order of decreasing explained variance.
	Components             [][]float64 `json:"components"`
	ExplainedVariance      []float64   `json:"explained_variance"`
	ExplainedVarianceRatio []float64   `json:"explained_variance_ratio"`
	SingularValues         []float64   `json:"singular_values"`
	NSamples               int         `json:"n_samples"`
}

var _ Transformer = (*PCA)(nil)

// Fit finds the principal axes. It returns ErrEmpty for no rows, ErrNaN
// for a non-finite value, an error if NComponents is negative or above
// min(n, p), and ErrSingular if the decomposition fails.
func (p *PCA) Fit(X mat.Matrix) error {
	Xd := dense(X)
	n, c := Xd.Dims()
	if n == 0 || c == 0 {
		return fmt.Errorf("PCA: %w", ErrEmpty)
	}
	if err := checkFinite(Xd); err != nil {
		return fmt.Errorf("PCA: %w", err)
	}
	kmax := min(n, c)
	k := p.NComponents
	if k == 0 {
		k = kmax
	}
	if k < 0 || k > kmax {
		return fmt.Errorf("ml: PCA: n_components=%d must be between 1 and min(n_samples, n_features)=%d", p.NComponents, kmax)
	}
	var (
		mean []float64
		s    []float64  // singular values of the centred X, descending
		V    *mat.Dense // p × min(n,p) right singular vectors
		U    *mat.Dense // n × k left singular vectors (up to scale)
	)
	if n >= pcaGramRows && n >= 10*c {
		// Tall data: eigenvectors of the centred XᵀX (formed in one
		// pass on all cores), then U ∝ Xc V for the signs only.
		st := gramStats(Xd, nil, true)
		mean = st.xmean
		var eig mat.EigenSym
		if !eig.Factorize(st.G, true) {
			return fmt.Errorf("PCA: eigendecomposition did not converge: %w", ErrSingular)
		}
		lam := eig.Values(nil) // ascending
		var E mat.Dense
		eig.VectorsTo(&E)
		s = make([]float64, c)
		V = mat.NewDense(c, c, nil)
		for q := 0; q < c; q++ {
			src := c - 1 - q
			s[q] = math.Sqrt(math.Max(lam[src], 0))
			for j := 0; j < c; j++ {
				V.Set(j, q, E.At(j, src))
			}
		}
		Vk := V.Slice(0, c, 0, k)
		U = mat.NewDense(n, k, nil)
		U.Mul(Xd, Vk)
		off := make([]float64, k) // mean · V, subtracted from every row
		for q := 0; q < k; q++ {
			off[q] = floats.Dot(mean, mat.Col(nil, q, Vk))
		}
		for i := 0; i < n; i++ {
			floats.Sub(U.RawRowView(i), off)
		}
	} else {
		mean = make([]float64, c)
		for i := 0; i < n; i++ {
			floats.Add(mean, Xd.RawRowView(i))
		}
		floats.Scale(1/float64(n), mean)
		Xc := mat.NewDense(n, c, nil)
		for i := 0; i < n; i++ {
			floats.SubTo(Xc.RawRowView(i), Xd.RawRowView(i), mean)
		}
		var svd mat.SVD
		if !svd.Factorize(Xc, mat.SVDThin) {
			return fmt.Errorf("PCA: SVD did not converge: %w", ErrSingular)
		}
		s = svd.Values(nil)
		U, V = &mat.Dense{}, &mat.Dense{}
		svd.UTo(U)
		svd.VTo(V)
	}
	var total float64
	for _, v := range s {
		total += v * v
	}
	total /= float64(max(n-1, 1))
	comps := make([][]float64, k)
	ev := make([]float64, k)
	evr := make([]float64, k)
	for q := 0; q < k; q++ {
		// svd_flip, u-based: the largest |U[i,q]| (first on ties) decides.
		best, bi := -1.0, 0
		for i := 0; i < n; i++ {
			if a := math.Abs(U.At(i, q)); a > best {
				best, bi = a, i
			}
		}
		sign := 1.0
		if U.At(bi, q) < 0 {
			sign = -1
		}
		comps[q] = make([]float64, c)
		for j := 0; j < c; j++ {
			comps[q][j] = sign * V.At(j, q)
		}
		ev[q] = s[q] * s[q] / float64(max(n-1, 1))
		if total > 0 {
			evr[q] = ev[q] / total
		}
	}
	p.Mean, p.Components, p.ExplainedVariance, p.ExplainedVarianceRatio = mean, comps, ev, evr
	p.SingularValues = append([]float64(nil), s[:k]...)
	p.NSamples = n
	return nil
}

// Transform writes the projections of X's rows onto the components into
// dst (n × NComponents) and returns it. It panics if the PCA is not
// fitted or X has the wrong number of columns.
func (p *PCA) Transform(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	checkCols("PCA", X, len(p.Mean))
	r, c := X.Dims()
	k := len(p.Components)
	Xc := mat.NewDense(r, c, nil)
	Xc.Copy(X)
	for i := 0; i < r; i++ {
		row := Xc.RawRowView(i)
		for j := range row {
			row[j] -= p.Mean[j]
		}
	}
	W := mat.NewDense(k, c, nil)
	for q, comp := range p.Components {
		copy(W.RawRowView(q), comp)
	}
	if xd, ok := X.(*mat.Dense); ok && xd == dst {
		dst = nil // cannot write the projection over its own input
	}
	dst = denseDst(dst, r, k)
	dst.Mul(Xc, W.T())
	if p.Whiten {
		for i := 0; i < r; i++ {
			row := dst.RawRowView(i)
			for q := range row {
				if p.ExplainedVariance[q] > 0 {
					row[q] /= math.Sqrt(p.ExplainedVariance[q])
				}
			}
		}
	}
	return dst
}
