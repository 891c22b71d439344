package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"
)

// LinearSVC is a linear support vector classifier with the squared
// hinge loss and an L2 penalty, minimising
//
//	½‖w‖² + C·Σᵢ max(0, 1 - yᵢ(w·xᵢ + b))²
//
// by dual coordinate descent with shrinking, as liblinear (and so
// scikit-learn's LinearSVC with its defaults) does. The intercept is the
// weight of an extra feature of constant value InterceptScaling, and so
// is penalised like the others, as in liblinear. More than two classes
// are fitted one-vs-rest, the binary problems on all cores.
//
// The visiting order within a sweep is shuffled from Seed, so the same
// seed and data give the same bits. Running out of iterations is not an
// error: Converged says whether every binary problem met Tol, NIter is
// the largest number of sweeps any of them ran (scikit-learn warns).
type LinearSVC struct {
	C                float64 `json:"C" ml:"param"`
	FitIntercept     bool    `json:"fit_intercept" ml:"param"`
	InterceptScaling float64 `json:"intercept_scaling" ml:"param"`
	MaxIter          int     `json:"max_iter" ml:"param"`
	Tol              float64 `json:"tol" ml:"param"`
	Seed             uint64  `json:"seed" ml:"param"`

	NClasses int `json:"n_classes"`
	// Coef has one row per class (one-vs-rest), or a single row (class
	// 1 against class 0) for two classes; Intercept matches its rows.
	Coef      [][]float64 `json:"coef"`
	Intercept []float64   `json:"intercept"`
	NIter     int         `json:"n_iter"`
	Converged bool        `json:"converged"`

	progress Progress
}

var (
	_ Classifier = (*LinearSVC)(nil)
	_ Progressor = (*LinearSVC)(nil)
)

// NewLinearSVC returns a model with scikit-learn's defaults: C=1,
// fit_intercept=true, intercept_scaling=1, max_iter=1000, tol=1e-4.
func NewLinearSVC() *LinearSVC {
	return &LinearSVC{C: 1, FitIntercept: true, InterceptScaling: 1, MaxIter: 1000, Tol: 1e-4}
}

// SetParams sets hyperparameters by scikit-learn name (C,
// fit_intercept, intercept_scaling, max_iter, tol, seed).
func (m *LinearSVC) SetParams(params map[string]any) error { return SetParams(m, params) }

// SetProgress sets a hook called after every sweep of every binary
// problem with (sweeps done, MaxIter × problems); the count can end
// early when the problems converge. It may be called from several
// goroutines, one at a time. An error from it stops Fit, which returns it
// wrapped.
func (m *LinearSVC) SetProgress(p Progress) { m.progress = p }

// NumClasses is the number of classes seen by Fit.
func (m *LinearSVC) NumClasses() int { return m.NClasses }

// Fit trains one binary problem (two classes) or one per class. It
// panics if len(y) differs from the rows of X or y holds a non-code, and
// returns ErrNaN for non-finite input, ErrOneClass, an error for C <= 0
// or max_iter < 1, or the hook's error.
func (m *LinearSVC) Fit(X mat.Matrix, y []float64) error {
	Xd, err := prepare("LinearSVC", X, y)
	if err != nil {
		return err
	}
	if !(m.C > 0) || m.MaxIter < 1 || m.Tol < 0 {
		return fmt.Errorf("ml: LinearSVC: need C > 0, max_iter >= 1, tol >= 0 (got C=%v, max_iter=%d, tol=%v)", m.C, m.MaxIter, m.Tol)
	}
	k, _, err := classCodes("LinearSVC", y)
	if err != nil {
		return err
	}
	n, p := Xd.Dims()
	bias := 0.0
	if m.FitIntercept {
		bias = m.InterceptScaling
	}
	sq := make([]float64, n)
	for i := 0; i < n; i++ {
		var s float64
		for _, v := range Xd.RawRowView(i) {
			s += v * v
		}
		sq[i] = s + bias*bias
	}
	probs := k
	if k == 2 {
		probs = 1
	}
	coef := make([][]float64, probs)
	icpt := make([]float64, probs)
	iters := make([]int, probs)
	conv := make([]bool, probs)
	errs := make([]error, probs)
	total := m.MaxIter * probs
	var done atomic.Int64
	var hookMu sync.Mutex
	var stop atomic.Bool
	hook := func() error {
		if stop.Load() {
			return errStopped
		}
		d := int(done.Add(1))
		if m.progress == nil {
			return nil
		}
		hookMu.Lock()
		defer hookMu.Unlock()
		if err := m.progress(d, total); err != nil {
			stop.Store(true)
			return err
		}
		return nil
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(probs, maxProcs()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				pos := float64(c)
				if probs == 1 {
					pos = 1
				}
				sgn := make([]float64, n)
				for i, v := range y {
					if v == pos {
						sgn[i] = 1
					} else {
						sgn[i] = -1
					}
				}
				rng := rand.New(rand.NewPCG(m.Seed, uint64(c)))
				w, it, ok, err := svcDualCD(Xd, sgn, sq, bias, m.C, m.Tol, m.MaxIter, rng, hook)
				coef[c] = w[:p]
				icpt[c] = w[p] * bias
				iters[c], conv[c], errs[c] = it, ok, err
			}
		}()
	}
	for c := 0; c < probs; c++ {
		work <- c
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil && err != errStopped {
			return fmt.Errorf("LinearSVC stopped: %w", err)
		}
	}
	m.NClasses, m.Coef, m.Intercept = k, coef, icpt
	m.NIter, m.Converged = 0, true
	for c := range iters {
		m.NIter = max(m.NIter, iters[c])
		m.Converged = m.Converged && conv[c]
	}
	return nil
}

var errStopped = fmt.Errorf("ml: stopped")

// svcDualCD solves one binary L2-loss SVM dual (liblinear's
// solve_l2r_l1l2_svc with the squared hinge) and returns the weights with
// the bias weight last.
func svcDualCD(X *mat.Dense, y, sq []float64, bias, C, eps float64, maxIter int, rng *rand.Rand, hook func() error) ([]float64, int, bool, error) {
	n, p := X.Dims()
	w := make([]float64, p+1)
	alpha := make([]float64, n)
	diag := 0.5 / C
	qd := make([]float64, n)
	index := make([]int, n)
	for i := range index {
		index[i] = i
		qd[i] = sq[i] + diag
	}
	active := n
	pgMaxOld, pgMinOld := math.Inf(1), math.Inf(-1)
	iter := 0
	converged := false
	for iter < maxIter {
		pgMaxNew, pgMinNew := math.Inf(-1), math.Inf(1)
		for i := 0; i < active; i++ {
			j := i + rng.IntN(active-i)
			index[i], index[j] = index[j], index[i]
		}
		for s := 0; s < active; s++ {
			i := index[s]
			yi := y[i]
			xi := X.RawRowView(i)
			var dot float64
			for j, v := range xi {
				dot += v * w[j]
			}
			dot += bias * w[p]
			G := yi*dot - 1 + alpha[i]*diag
			PG := 0.0
			if alpha[i] == 0 {
				if G > pgMaxOld {
					active--
					index[s], index[active] = index[active], index[s]
					s--
					continue
				} else if G < 0 {
					PG = G
				}
			} else {
				PG = G
			}
			pgMaxNew = math.Max(pgMaxNew, PG)
			pgMinNew = math.Min(pgMinNew, PG)
			if math.Abs(PG) > 1e-12 {
				old := alpha[i]
				alpha[i] = math.Max(alpha[i]-G/qd[i], 0)
				d := (alpha[i] - old) * yi
				for j, v := range xi {
					w[j] += d * v
				}
				w[p] += d * bias
			}
		}
		iter++
		if err := hook(); err != nil {
			return w, iter, false, err
		}
		if pgMaxNew-pgMinNew <= eps {
			if active == n {
				converged = true
				break
			}
			active = n
			pgMaxOld, pgMinOld = math.Inf(1), math.Inf(-1)
			continue
		}
		pgMaxOld, pgMinOld = pgMaxNew, pgMinNew
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
		if pgMinOld >= 0 {
			pgMinOld = math.Inf(-1)
		}
	}
	_ = pgMinOld
	return w, iter, converged, nil
}

func (m *LinearSVC) checkFitted(X mat.Matrix) {
	if m.Coef == nil {
		panic("ml: LinearSVC used before Fit")
	}
	checkCols("LinearSVC", X, len(m.Coef[0]))
}

// DecisionFunction writes the scores w·x + b into dst (n × 1 for two
// classes, n × k otherwise) and returns it. It panics if the model is
// not fitted or X has the wrong number of columns.
func (m *LinearSVC) DecisionFunction(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	m.checkFitted(X)
	return linearScores(dst, X, m.Coef, m.Intercept)
}

// Predict writes the class with the largest score for each row into dst
// and returns it. It panics if the model is not fitted or X has the
// wrong number of columns.
func (m *LinearSVC) Predict(dst []float64, X mat.Matrix) []float64 {
	m.checkFitted(X)
	return argmaxScores(dst, linearScores(nil, X, m.Coef, m.Intercept))
}

// PredictProba gives pseudo-probabilities, which scikit-learn's
// LinearSVC does not have: the softmax of the decision scores (the
// sigmoid for two classes). They rank rows as the scores do, which is
// what ROC AUC needs; they are not calibrated. It panics if the model is
// not fitted or X has the wrong number of columns.
func (m *LinearSVC) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	m.checkFitted(X)
	r, _ := X.Dims()
	S := linearScores(nil, X, m.Coef, m.Intercept)
	dst = denseDst(dst, r, m.NClasses)
	for i := 0; i < r; i++ {
		s, out := S.RawRowView(i), dst.RawRowView(i)
		if len(m.Coef) == 1 {
			p1 := 1 / (1 + math.Exp(-s[0]))
			out[0], out[1] = 1-p1, p1
			continue
		}
		softmaxTo(out, s)
	}
	return dst
}

func maxProcs() int { return max(1, runtimeProcs()) }
