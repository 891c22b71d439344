package ml

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// GaussianNB is Gaussian naive Bayes, as scikit-learn's GaussianNB:
// per class, each feature is normal with the class's mean and population
// variance, plus VarSmoothing times the largest feature variance over
// all rows for stability; class priors are the class frequencies.
type GaussianNB struct {
	VarSmoothing float64 `json:"var_smoothing" ml:"param"`

	NClasses   int         `json:"n_classes"`
	ClassPrior []float64   `json:"class_prior"`
	ClassCount []float64   `json:"class_count"`
	Theta      [][]float64 `json:"theta"` // per class, per feature mean
	Var        [][]float64 `json:"var"`   // per class, per feature variance (smoothed)
	Epsilon    float64     `json:"epsilon"`
}

var _ Classifier = (*GaussianNB)(nil)

// NewGaussianNB returns a model with var_smoothing=1e-9.
func NewGaussianNB() *GaussianNB { return &GaussianNB{VarSmoothing: 1e-9} }

// SetParams sets hyperparameters by scikit-learn name (var_smoothing).
func (m *GaussianNB) SetParams(params map[string]any) error { return SetParams(m, params) }

// NumClasses is the number of classes seen by Fit.
func (m *GaussianNB) NumClasses() int { return m.NClasses }

// Fit estimates the class priors, means and variances. It panics if
// len(y) differs from the rows of X or y holds a non-code, and returns
// ErrNaN for non-finite input, ErrOneClass, or an error for a negative
// var_smoothing. A class code with no rows gets prior 0 and is never
// predicted.
func (m *GaussianNB) Fit(X mat.Matrix, y []float64) error {
	Xd, err := prepare("GaussianNB", X, y)
	if err != nil {
		return err
	}
	if !(m.VarSmoothing >= 0) {
		return fmt.Errorf("ml: GaussianNB: var_smoothing=%v must be >= 0", m.VarSmoothing)
	}
	k, counts, err := classCodes("GaussianNB", y)
	if err != nil {
		return err
	}
	n, p := Xd.Dims()
	theta := make([][]float64, k)
	vr := make([][]float64, k)
	for c := range theta {
		theta[c] = make([]float64, p)
		vr[c] = make([]float64, p)
	}
	all := make([]float64, p)
	for i := 0; i < n; i++ {
		t := theta[int(y[i])]
		for j, v := range Xd.RawRowView(i) {
			t[j] += v
			all[j] += v
		}
	}
	for j := range all {
		all[j] /= float64(n)
	}
	for c := range theta {
		if counts[c] > 0 {
			for j := range theta[c] {
				theta[c][j] /= float64(counts[c])
			}
		}
	}
	allVar := make([]float64, p)
	for i := 0; i < n; i++ {
		t, v := theta[int(y[i])], vr[int(y[i])]
		for j, x := range Xd.RawRowView(i) {
			d := x - t[j]
			v[j] += d * d
			e := x - all[j]
			allVar[j] += e * e
		}
	}
	maxVar := 0.0
	for j := range allVar {
		maxVar = math.Max(maxVar, allVar[j]/float64(n))
	}
	eps := m.VarSmoothing * maxVar
	prior := make([]float64, k)
	cc := make([]float64, k)
	for c := range vr {
		cc[c] = float64(counts[c])
		prior[c] = float64(counts[c]) / float64(n)
		for j := range vr[c] {
			if counts[c] > 0 {
				vr[c][j] /= float64(counts[c])
			}
			vr[c][j] += eps
		}
	}
	m.NClasses, m.ClassPrior, m.ClassCount, m.Theta, m.Var, m.Epsilon = k, prior, cc, theta, vr, eps
	return nil
}

// jointLogLikelihood writes log P(c) + log P(x|c) per row and class.
func (m *GaussianNB) jointLogLikelihood(X mat.Matrix) *mat.Dense {
	if m.Theta == nil {
		panic("ml: GaussianNB used before Fit")
	}
	checkCols("GaussianNB", X, len(m.Theta[0]))
	Xd := dense(X)
	r, _ := Xd.Dims()
	k := m.NClasses
	// Constant part per class, and 1/var.
	cst := make([]float64, k)
	inv := make([][]float64, k)
	for c := 0; c < k; c++ {
		var s float64
		inv[c] = make([]float64, len(m.Var[c]))
		for j, v := range m.Var[c] {
			s += math.Log(2 * math.Pi * v)
			inv[c][j] = 1 / v
		}
		cst[c] = math.Log(m.ClassPrior[c]) - 0.5*s
	}
	out := mat.NewDense(r, k, nil)
	for i := 0; i < r; i++ {
		x := Xd.RawRowView(i)
		o := out.RawRowView(i)
		for c := 0; c < k; c++ {
			t, iv := m.Theta[c], inv[c]
			var s float64
			for j, v := range x {
				d := v - t[j]
				s += d * d * iv[j]
			}
			o[c] = cst[c] - 0.5*s
		}
	}
	return out
}

// Predict writes the most probable class for each row into dst and
// returns it. It panics if the model is not fitted or X has the wrong
// number of columns.
func (m *GaussianNB) Predict(dst []float64, X mat.Matrix) []float64 {
	return argmaxScores(dst, m.jointLogLikelihood(X))
}

// PredictProba writes the posterior class probabilities into dst and
// returns it. It panics if the model is not fitted or X has the wrong
// number of columns.
func (m *GaussianNB) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	J := m.jointLogLikelihood(X)
	r, k := J.Dims()
	dst = denseDst(dst, r, k)
	for i := 0; i < r; i++ {
		softmaxTo(dst.RawRowView(i), J.RawRowView(i))
	}
	return dst
}
