package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Fold is one cross-validation split: row indices to fit on and to score
// on.
type Fold struct {
	Train []int `json:"train"`
	Test  []int `json:"test"`
}

// Splitter makes cross-validation folds for targets y (one per row).
type Splitter interface {
	Split(y []float64) ([]Fold, error)
}

// KFold splits rows into NSplits consecutive folds (the first n mod
// NSplits one row larger), as scikit-learn's KFold; with Shuffle the rows
// are permuted first, from Seed. Train indices are ascending; test
// indices are in fold order.
type KFold struct {
	NSplits int    `json:"n_splits"`
	Shuffle bool   `json:"shuffle"`
	Seed    uint64 `json:"random_state"`
}

// Split returns the folds. It returns an error if NSplits < 2 and
// ErrTooFewSamples if there are fewer rows than folds.
func (k KFold) Split(y []float64) ([]Fold, error) {
	n := len(y)
	if k.NSplits < 2 {
		return nil, fmt.Errorf("ml: KFold: n_splits=%d must be at least 2", k.NSplits)
	}
	if n < k.NSplits {
		return nil, fmt.Errorf("KFold: %d folds of %d rows: %w", k.NSplits, n, ErrTooFewSamples)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if k.Shuffle {
		r := rand.New(rand.NewPCG(k.Seed, 0x6b666f6c64))
		r.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	folds := make([]Fold, k.NSplits)
	start := 0
	for f := range folds {
		size := n / k.NSplits
		if f < n%k.NSplits {
			size++
		}
		test := append([]int(nil), idx[start:start+size]...)
		folds[f] = Fold{Train: complement(n, test), Test: test}
		start += size
	}
	return folds, nil
}

// complement returns the ascending indices in [0, n) not in test.
func complement(n int, test []int) []int {
	in := make([]bool, n)
	for _, i := range test {
		in[i] = true
	}
	out := make([]int, 0, n-len(test))
	for i := 0; i < n; i++ {
		if !in[i] {
			out = append(out, i)
		}
	}
	return out
}

// StratifiedKFold splits rows into NSplits folds that keep the class
// proportions, exactly as scikit-learn 1.2's StratifiedKFold: classes
// are numbered by first appearance, the per-fold count of each class is
// dealt round-robin over the sorted labels, and each class's rows are
// given to folds in blocks in row order. Without Shuffle the folds are
// the same as scikit-learn's; with Shuffle each class's fold assignment
// is permuted from Seed. Train and test indices are ascending.
type StratifiedKFold struct {
	NSplits int    `json:"n_splits"`
	Shuffle bool   `json:"shuffle"`
	Seed    uint64 `json:"random_state"`
}

// Split returns the folds. It returns an error if NSplits < 2 and
// ErrTooFewSamples if every class has fewer rows than NSplits (with
// some classes that small, scikit-learn warns and so do we not: folds
// then miss that class).
func (s StratifiedKFold) Split(y []float64) ([]Fold, error) {
	n := len(y)
	if s.NSplits < 2 {
		return nil, fmt.Errorf("ml: StratifiedKFold: n_splits=%d must be at least 2", s.NSplits)
	}
	if n < s.NSplits {
		return nil, fmt.Errorf("StratifiedKFold: %d folds of %d rows: %w", s.NSplits, n, ErrTooFewSamples)
	}
	// Encode classes by order of first appearance.
	enc := map[float64]int{}
	ye := make([]int, n)
	for i, v := range y {
		c, ok := enc[v]
		if !ok {
			c = len(enc)
			enc[v] = c
		}
		ye[i] = c
	}
	nc := len(enc)
	counts := make([]int, nc)
	for _, c := range ye {
		counts[c]++
	}
	allSmall := true
	for _, c := range counts {
		if c >= s.NSplits {
			allSmall = false
		}
	}
	if allSmall {
		return nil, fmt.Errorf("StratifiedKFold: n_splits=%d is greater than the rows of every class: %w", s.NSplits, ErrTooFewSamples)
	}
	// allocation[f][c]: rows of class c in fold f, from dealing the
	// sorted codes round-robin (y_order[f::n_splits] in scikit-learn).
	order := append([]int(nil), ye...)
	sort.Ints(order)
	alloc := make([][]int, s.NSplits)
	for f := range alloc {
		alloc[f] = make([]int, nc)
	}
	for i, c := range order {
		alloc[i%s.NSplits][c]++
	}
	var r *rand.Rand
	if s.Shuffle {
		r = rand.New(rand.NewPCG(s.Seed, 0x73746b66))
	}
	testFold := make([]int, n)
	for c := 0; c < nc; c++ {
		var folds []int
		for f := 0; f < s.NSplits; f++ {
			for range alloc[f][c] {
				folds = append(folds, f)
			}
		}
		if r != nil {
			r.Shuffle(len(folds), func(i, j int) { folds[i], folds[j] = folds[j], folds[i] })
		}
		k := 0
		for i, v := range ye {
			if v == c {
				testFold[i] = folds[k]
				k++
			}
		}
	}
	out := make([]Fold, s.NSplits)
	for f := range out {
		var test []int
		for i, tf := range testFold {
			if tf == f {
				test = append(test, i)
			}
		}
		out[f] = Fold{Train: complement(n, test), Test: test}
	}
	return out, nil
}

// SplitOptions controls TrainTestSplit.
type SplitOptions struct {
	// TestSize is the held-out share: a fraction in (0, 1), rounded up
	// to whole rows as scikit-learn does, or a row count >= 1. Zero means
	// 0.25.
	TestSize float64 `json:"test_size"`
	// NoShuffle keeps row order: the last rows are the test set
	// (scikit-learn's shuffle=False). It cannot be combined with
	// Stratify.
	NoShuffle bool `json:"no_shuffle,omitempty"`
	// Stratify, when not nil, holds one class label per row; each class
	// is split in (nearly) the same proportion.
	Stratify []float64 `json:"-"`
	// Seed drives the shuffle.
	Seed uint64 `json:"random_state"`
}

// TrainTestSplit splits n rows into train and test indices, in shuffled
// order (ascending without shuffle). With Stratify each class gets its
// share of the test rows (floor of its proportion, the rest given to the
// classes with the largest remainders, then the larger classes) and its
// rows are drawn at random.
//
// It returns an error for a TestSize that leaves no train or no test
// rows, for NoShuffle with Stratify, and ErrTooFewSamples when a class
// has a single row or there are fewer test (or train) rows than classes.
// It panics if Stratify has a length other than n.
func TrainTestSplit(n int, opt SplitOptions) (train, test []int, err error) {
	ts := opt.TestSize
	if ts == 0 {
		ts = 0.25
	}
	var nTest int
	switch {
	case ts > 0 && ts < 1:
		nTest = int(math.Ceil(ts * float64(n)))
	case ts >= 1 && ts == math.Trunc(ts):
		nTest = int(ts)
	default:
		return nil, nil, fmt.Errorf("ml: TrainTestSplit: test_size=%v must be a fraction in (0, 1) or a whole row count", opt.TestSize)
	}
	if nTest < 1 || nTest >= n {
		return nil, nil, fmt.Errorf("TrainTestSplit: test_size=%v of %d rows leaves %d test and %d train rows: %w", opt.TestSize, n, nTest, n-nTest, ErrTooFewSamples)
	}
	if opt.Stratify != nil && len(opt.Stratify) != n {
		panic(fmt.Sprintf("ml: TrainTestSplit: %d stratify labels for %d rows", len(opt.Stratify), n))
	}
	if opt.NoShuffle {
		if opt.Stratify != nil {
			return nil, nil, fmt.Errorf("ml: TrainTestSplit: stratify needs shuffle")
		}
		for i := 0; i < n; i++ {
			if i < n-nTest {
				train = append(train, i)
			} else {
				test = append(test, i)
			}
		}
		return train, test, nil
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x73706c6974))
	if opt.Stratify == nil {
		perm := r.Perm(n)
		return perm[nTest:], perm[:nTest], nil
	}
	// Group rows by label (sorted labels for a deterministic order).
	groups := map[float64][]int{}
	for i, v := range opt.Stratify {
		groups[v] = append(groups[v], i)
	}
	labels := make([]float64, 0, len(groups))
	for v := range groups {
		labels = append(labels, v)
	}
	sort.Float64s(labels)
	if nTest < len(labels) || n-nTest < len(labels) {
		return nil, nil, fmt.Errorf("TrainTestSplit: %d test and %d train rows for %d classes: %w", nTest, n-nTest, len(labels), ErrTooFewSamples)
	}
	share := make([]int, len(labels))
	rem := make([]float64, len(labels))
	left := nTest
	for c, v := range labels {
		if len(groups[v]) < 2 {
			return nil, nil, fmt.Errorf("TrainTestSplit: class %v has a single row: %w", v, ErrTooFewSamples)
		}
		exact := float64(nTest) * float64(len(groups[v])) / float64(n)
		share[c] = int(math.Floor(exact))
		rem[c] = exact - float64(share[c])
		left -= share[c]
	}
	byRem := make([]int, len(labels))
	for c := range byRem {
		byRem[c] = c
	}
	sort.SliceStable(byRem, func(a, b int) bool {
		ca, cb := byRem[a], byRem[b]
		if rem[ca] != rem[cb] {
			return rem[ca] > rem[cb]
		}
		return len(groups[labels[ca]]) > len(groups[labels[cb]])
	})
	for i := 0; left > 0; i = (i + 1) % len(byRem) {
		if c := byRem[i]; share[c] < len(groups[labels[c]])-1 {
			share[c]++
			left--
		}
	}
	for c, v := range labels {
		g := groups[v]
		r.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		test = append(test, g[:share[c]]...)
		train = append(train, g[share[c]:]...)
	}
	r.Shuffle(len(test), func(i, j int) { test[i], test[j] = test[j], test[i] })
	r.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
	return train, test, nil
}

// Scorer scores a fitted estimator on rows X with targets y; higher is
// better (errors are negated, as in scikit-learn's scoring names).
type Scorer func(m Estimator, X mat.Matrix, y []float64) float64

// scorerNames are the scoring names ScorerFor knows, in the order listed.
var scorerNames = []string{"accuracy", "f1", "f1_macro", "f1_weighted", "precision_macro", "recall_macro",
	"roc_auc", "roc_auc_ovr", "neg_log_loss", "r2", "neg_mean_squared_error",
	"neg_root_mean_squared_error", "neg_mean_absolute_error"}

// ScorerNames lists the scoring names ScorerFor accepts.
func ScorerNames() []string { return append([]string(nil), scorerNames...) }

// ScorerFor returns the scorer with scikit-learn's scoring name: accuracy,
// f1 (binary), f1_macro, f1_weighted, precision_macro, recall_macro,
// roc_auc (binary, from PredictProba column 1), roc_auc_ovr,
// neg_log_loss, r2, neg_mean_squared_error, neg_root_mean_squared_error,
// neg_mean_absolute_error. It returns an error for an unknown name. The
// probability scorers panic on an estimator that is not a Classifier.
func ScorerFor(name string) (Scorer, error) {
	pred := func(f func(y, p []float64) float64) Scorer {
		return func(m Estimator, X mat.Matrix, y []float64) float64 { return f(y, m.Predict(nil, X)) }
	}
	proba := func(f func(y []float64, p mat.Matrix) float64) Scorer {
		return func(m Estimator, X mat.Matrix, y []float64) float64 {
			c, ok := m.(Classifier)
			if !ok {
				panic(fmt.Sprintf("ml: scorer needs a Classifier, got %T", m))
			}
			return f(y, c.PredictProba(nil, X))
		}
	}
	switch name {
	case "accuracy":
		return pred(Accuracy), nil
	case "f1":
		return pred(func(y, p []float64) float64 { return F1(y, p, Binary) }), nil
	case "f1_macro":
		return pred(func(y, p []float64) float64 { return F1(y, p, Macro) }), nil
	case "f1_weighted":
		return pred(func(y, p []float64) float64 { return F1(y, p, Weighted) }), nil
	case "precision_macro":
		return pred(func(y, p []float64) float64 { return Precision(y, p, Macro) }), nil
	case "recall_macro":
		return pred(func(y, p []float64) float64 { return Recall(y, p, Macro) }), nil
	case "roc_auc", "roc_auc_ovr":
		return proba(ROCAUCOvR), nil
	case "neg_log_loss":
		return proba(func(y []float64, p mat.Matrix) float64 { return -LogLoss(y, p) }), nil
	case "r2":
		return pred(R2), nil
	case "neg_mean_squared_error":
		return pred(func(y, p []float64) float64 { return -MSE(y, p) }), nil
	case "neg_root_mean_squared_error":
		return pred(func(y, p []float64) float64 { return -RMSE(y, p) }), nil
	case "neg_mean_absolute_error":
		return pred(func(y, p []float64) float64 { return -MAE(y, p) }), nil
	}
	return nil, fmt.Errorf("ml: unknown scoring %q (want one of %v)", name, scorerNames)
}

// IsClassifier reports whether m is a classifier, looking through a
// Pipeline to its final estimator.
func IsClassifier(m Estimator) bool {
	if p, ok := m.(*Pipeline); ok {
		m = p.Model
	}
	_, ok := m.(Classifier)
	return ok
}

// defaultScorer is what scikit-learn's estimator.score gives: accuracy
// for classifiers, R² otherwise.
func defaultScorer(m Estimator) Scorer {
	if IsClassifier(m) {
		s, _ := ScorerFor("accuracy")
		return s
	}
	s, _ := ScorerFor("r2")
	return s
}

// CrossValScore fits a fresh estimator from newModel(params) on each
// fold's training rows and scores it on the fold's test rows, returning
// one score per fold in fold order. score nil means accuracy for
// classifiers and R² otherwise. Folds run two at a time when there are
// several cores; results do not depend on that.
//
// progress, when not nil, is called once per finished fold with (folds
// done, folds), one call at a time; an error from it stops the run
// (fits under way are stopped too when they accept a progress hook), and
// CrossValScore returns it wrapped. A Fit error is returned wrapped with
// its fold. It panics if len(y) differs from the rows of X.
func CrossValScore(newModel Factory, params map[string]any, X mat.Matrix, y []float64, folds []Fold, score Scorer, progress Progress) ([]float64, error) {
	checkXy("CrossValScore", X, y)
	res, err := runFits(newModel, []map[string]any{params}, dense(X), y, folds, score, progress)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// runFits fits and scores every candidate on every fold (candidate-major
// order), on up to two goroutines.
func runFits(newModel Factory, cands []map[string]any, X *mat.Dense, y []float64, folds []Fold, score Scorer, progress Progress) ([][]float64, error) {
	type job struct{ c, f int }
	total := len(cands) * len(folds)
	out := make([][]float64, len(cands))
	for c := range out {
		out[c] = make([]float64, len(folds))
	}
	// Models are made up front so parameter errors surface before any
	// fit, in candidate order.
	for c, p := range cands {
		if _, err := newModel(p); err != nil {
			return nil, fmt.Errorf("candidate %d %v: %w", c, p, err)
		}
	}
	if score == nil {
		m, _ := newModel(cands[0])
		score = defaultScorer(m)
	}
	jobs := make(chan job)
	var (
		mu       sync.Mutex
		done     int
		firstErr error
		errJob   = total
		stopped  bool
	)
	fail := func(j job, err error) {
		mu.Lock()
		defer mu.Unlock()
		idx := j.c*len(folds) + j.f
		if firstErr == nil || idx < errJob {
			firstErr, errJob = err, idx
		}
		stopped = true
	}
	isStopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return stopped
	}
	var wg sync.WaitGroup
	for range min(2, maxProcs(), total) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if isStopped() {
					continue
				}
				m, err := newModel(cands[j.c])
				if err != nil {
					fail(j, err)
					continue
				}
				if pr, ok := m.(Progressor); ok {
					pr.SetProgress(func(int, int) error {
						if isStopped() {
							return errStopped
						}
						return nil
					})
				}
				fd := folds[j.f]
				Xtr, ytr := rowsSubset(X, fd.Train), valuesSubset(y, fd.Train)
				if err := m.Fit(Xtr, ytr); err != nil {
					if !isStopped() {
						fail(j, fmt.Errorf("fit of candidate %d on fold %d: %w", j.c, j.f, err))
					}
					continue
				}
				s := score(m, rowsSubset(X, fd.Test), valuesSubset(y, fd.Test))
				mu.Lock()
				out[j.c][j.f] = s
				done++
				d := done
				var perr error
				if progress != nil && !stopped {
					perr = progress(d, total)
				}
				mu.Unlock()
				if perr != nil {
					fail(j, fmt.Errorf("cross-validation stopped after %d of %d fits: %w", d, total, perr))
				}
			}
		}()
	}
	for c := range cands {
		for f := range folds {
			jobs <- job{c, f}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}
