package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/floats"
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
// are fitted one-vs-rest. The binary problems are solved in fixed pairs
// that share each sweep over the rows (one fetch of a row from memory
// serves both), and the pairs run concurrently.
//
// The visiting order within a sweep is shuffled from Seed, so the same
// seed and data give the same bits on any number of cores. (liblinear's
// own random sequence is not reproduced, so weights agree with
// scikit-learn's to the solver tolerance, not bit for bit.) Running out of iterations is not an
// error: Converged says whether every binary problem met Tol, NIter is
// the largest number of sweeps any of them ran (scikit-learn warns).
type LinearSVC struct {
	C                float64 `json:"C" ml:"param"`
	FitIntercept     bool    `json:"fit_intercept" ml:"param"`
	InterceptScaling float64 `json:"intercept_scaling" ml:"param"`
	MaxIter          int     `json:"max_iter" ml:"param"`
	Tol              float64 `json:"tol" ml:"param"`
	Seed             uint64  `json:"random_state" ml:"param"`

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
// fit_intercept, intercept_scaling, max_iter, tol, random_state for
// Seed).
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
	// The binary problems are solved in fixed groups of svcGroup that
	// visit rows together, so each row fetched from memory serves every
	// problem in its group; groups run concurrently. The grouping does
	// not depend on the number of cores, nor do the results.
	ngroups := (probs + svcGroup - 1) / svcGroup
	errs := make([]error, ngroups)
	var wg sync.WaitGroup
	for g := 0; g < ngroups; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pos []float64
			for c := g * svcGroup; c < min(probs, (g+1)*svcGroup); c++ {
				if probs == 1 {
					pos = append(pos, 1)
				} else {
					pos = append(pos, float64(c))
				}
			}
			rng := rand.New(rand.NewPCG(m.Seed, uint64(g)))
			ws, its, oks, err := svcDualCD(Xd, y, pos, sq, bias, m.C, m.Tol, m.MaxIter, rng, hook)
			for q := range ws {
				c := g*svcGroup + q
				coef[c] = ws[q][:p]
				icpt[c] = ws[q][p] * bias
				iters[c], conv[c] = its[q], oks[q]
			}
			errs[g] = err
		}()
	}
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

// svcGroup is how many one-vs-rest problems share a pass over the rows.
const svcGroup = 2

// prefetchSink keeps the prefetching loads from being optimised away.
var prefetchSink atomic.Uint64

var errStopped = fmt.Errorf("ml: stopped")

// svcDualCD solves binary L2-loss SVM duals (liblinear's
// solve_l2r_l1l2_svc with the squared hinge, shrinking included), one
// per entry of pos (class pos[q] against the rest), and returns each
// problem's weights with the bias weight last, its sweep count and
// whether it met eps.
//
// The problems share each sweep's visiting order: a random permutation
// of the rows still active in any problem, from which each problem takes
// its own active rows (so each sees a uniformly random order of its
// active set, as in liblinear).
func svcDualCD(X *mat.Dense, y, pos, sq []float64, bias, C, eps float64, maxIter int, rng *rand.Rand, hook func() error) ([][]float64, []int, []bool, error) {
	n, p := X.Dims()
	g := len(pos)
	diag := 0.5 / C
	w := make([][]float64, g)
	alpha := make([][]float64, g)
	active := make([][]bool, g) // not shrunk
	nActive := make([]int, g)
	pgMaxOld, pgMinOld := make([]float64, g), make([]float64, g)
	pgMaxNew, pgMinNew := make([]float64, g), make([]float64, g)
	iters := make([]int, g)
	conv := make([]bool, g)
	live := make([]bool, g)
	for q := range w {
		w[q] = make([]float64, p+1)
		alpha[q] = make([]float64, n)
		active[q] = make([]bool, n)
		for i := range active[q] {
			active[q][i] = true
		}
		nActive[q] = n
		pgMaxOld[q], pgMinOld[q] = math.Inf(1), math.Inf(-1)
		live[q] = true
	}
	qd := make([]float64, n)
	for i := range qd {
		qd[i] = sq[i] + diag
	}
	// index[:ua] holds the rows active in some live problem; cnt counts
	// the live problems a row is active in.
	index := make([]int, n)
	for i := range index {
		index[i] = i
	}
	cnt := make([]int, n)
	ua := n
	recount := func() {
		ua = n
		for i := range cnt {
			c := 0
			for q := 0; q < g; q++ {
				if live[q] && active[q][i] {
					c++
				}
			}
			cnt[i] = c
		}
	}
	recount()
	var pf float64
	nLive := g
	for nLive > 0 {
		for q := 0; q < g; q++ {
			pgMaxNew[q], pgMinNew[q] = math.Inf(-1), math.Inf(1)
		}
		for i := 0; i < ua; i++ {
			j := i + rng.IntN(ua-i)
			index[i], index[j] = index[j], index[i]
		}
		for s := 0; s < ua; s++ {
			i := index[s]
			if cnt[i] == 0 {
				ua--
				index[s], index[ua] = index[ua], index[s]
				s--
				continue
			}
			xi := X.RawRowView(i)
			// Touch a later row's cache lines now so their loads overlap
			// with this row's work: the order is random, and waiting on
			// memory dominates otherwise.
			if s+2 < ua {
				xn := X.RawRowView(index[s+2])
				for off := 0; off < len(xn); off += 8 {
					pf += xn[off]
				}
			}
			for q := 0; q < g; q++ {
				if !live[q] || !active[q][i] {
					continue
				}
				yi := -1.0
				if y[i] == pos[q] {
					yi = 1
				}
				wq := w[q]
				a := alpha[q][i]
				G := yi*(floats.Dot(xi, wq[:p])+bias*wq[p]) - 1 + a*diag
				PG := 0.0
				if a == 0 {
					if G > pgMaxOld[q] {
						active[q][i] = false
						nActive[q]--
						cnt[i]--
						continue
					} else if G < 0 {
						PG = G
					}
				} else {
					PG = G
				}
				pgMaxNew[q] = math.Max(pgMaxNew[q], PG)
				pgMinNew[q] = math.Min(pgMinNew[q], PG)
				if math.Abs(PG) > 1e-12 {
					na := math.Max(a-G/qd[i], 0)
					alpha[q][i] = na
					d := (na - a) * yi
					floats.AddScaled(wq[:p], d, xi)
					wq[p] += d * bias
				}
			}
			if cnt[i] == 0 {
				ua--
				index[s], index[ua] = index[ua], index[s]
				s--
			}
		}
		changed := false
		for q := 0; q < g; q++ {
			if !live[q] {
				continue
			}
			iters[q]++
			if err := hook(); err != nil {
				return w, iters, conv, err
			}
			if pgMaxNew[q]-pgMinNew[q] <= eps {
				if nActive[q] == n {
					conv[q], live[q] = true, false
					nLive--
					changed = true
					continue
				}
				for i := range active[q] {
					active[q][i] = true
				}
				nActive[q] = n
				pgMaxOld[q], pgMinOld[q] = math.Inf(1), math.Inf(-1)
				changed = true
			} else {
				pgMaxOld[q], pgMinOld[q] = pgMaxNew[q], pgMinNew[q]
				if pgMaxOld[q] <= 0 {
					pgMaxOld[q] = math.Inf(1)
				}
				if pgMinOld[q] >= 0 {
					pgMinOld[q] = math.Inf(-1)
				}
			}
			if iters[q] >= maxIter && live[q] {
				live[q] = false
				nLive--
				changed = true
			}
		}
		if changed {
			recount()
		}
	}
	prefetchSink.Store(math.Float64bits(pf))
	return w, iters, conv, nil
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
