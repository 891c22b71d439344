package ml

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"
)

// RandomForestClassifier is scikit-learn's RandomForestClassifier: an
// average of decision trees, each grown on a bootstrap sample of the rows
// (drawn with replacement; a row drawn twice weighs twice) and drawing
// MaxFeatures features at each node. Class probabilities are the mean of
// the trees' leaf class fractions.
//
// With PerClassTrees and three or more classes, each member of the forest
// is instead one squared-error regression tree per class, grown on the
// class's 0/1 indicator, as XGBoost's random-forest mode grows one tree
// per class: every class gets its own partition of the rows, which at a
// fixed MaxDepth fits the classes' boundaries more closely than one tree
// shared by all classes, for NClasses times the trees. A class's
// probability is then the mean of its trees' leaf values (the class's
// fraction of the leaf's rows), normalised over the classes. With one or
// two classes the setting changes nothing: a Gini split is the
// squared-error split of the class indicator.
//
// The training matrix is binned once for all trees (see
// DecisionTreeClassifier for when splits are exact), and trees are grown
// on all cores. Tree i draws its rows and features from a generator seeded
// with (Seed, i), so the fitted forest is bit-identical whatever the
// number of cores.
type RandomForestClassifier struct {
	NEstimators     int    `json:"n_estimators" ml:"param"`
	Criterion       string `json:"criterion" ml:"param"`         // "gini" or "entropy"
	MaxDepth        int    `json:"max_depth" ml:"param"`         // 0: unlimited
	MinSamplesSplit int    `json:"min_samples_split" ml:"param"` // rows a node needs to be split
	MinSamplesLeaf  int    `json:"min_samples_leaf" ml:"param"`  // rows each child needs
	MaxFeatures     string `json:"max_features" ml:"param"`      // "sqrt", "log2", "all", a count "5" or a fraction "0.5"
	MaxBins         int    `json:"max_bins" ml:"param"`          // 0: exact splits; see DecisionTreeClassifier
	Bootstrap       bool   `json:"bootstrap" ml:"param"`
	PerClassTrees   bool   `json:"per_class_trees" ml:"param"` // one regression tree per class and member (3+ classes)
	Seed            uint64 `json:"seed" ml:"param"`

	NFeatures   int       `json:"n_features_in"`
	NClasses    int       `json:"n_classes"`
	Trees       []Tree    `json:"estimators"`
	Importances []float64 `json:"feature_importances"`

	progress Progress
}

var (
	_ Classifier  = (*RandomForestClassifier)(nil)
	_ Importancer = (*RandomForestClassifier)(nil)
	_ Progressor  = (*RandomForestClassifier)(nil)
)

// NewRandomForestClassifier returns a forest with scikit-learn's
// defaults: 100 trees, gini, unlimited depth, min_samples_split 2,
// min_samples_leaf 1, max_features sqrt, bootstrap.
func NewRandomForestClassifier() *RandomForestClassifier {
	return &RandomForestClassifier{NEstimators: 100, Criterion: "gini", MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "sqrt", MaxBins: TreeDefaultMaxBins, Bootstrap: true}
}

// SetParams sets hyperparameters by scikit-learn name (n_estimators,
// criterion, max_depth, min_samples_split, min_samples_leaf, max_features,
// max_bins, bootstrap, per_class_trees, seed); see SetParams. max_features
// may be a number: an integer counts features, a float is a fraction of
// them, as in scikit-learn.
func (m *RandomForestClassifier) SetParams(params map[string]any) error {
	return SetParams(m, treeHyper(params))
}

// SetProgress sets a hook called as trees finish with (trees done,
// trees in all: NEstimators, times the classes with per-class trees), from
// one goroutine. An error from it stops Fit, which returns it wrapped.
func (m *RandomForestClassifier) SetProgress(p Progress) { m.progress = p }

// NumClasses is the number of classes seen by Fit.
func (m *RandomForestClassifier) NumClasses() int { return m.NClasses }

// Fit grows the forest on rows of X with class codes y (0..k-1). It
// panics if len(y) differs from the rows of X or y holds a non-code, and
// returns ErrEmpty for no rows, ErrNaN for a non-finite value in X, an
// error for an out-of-range hyperparameter, or the progress hook's error.
func (m *RandomForestClassifier) Fit(X mat.Matrix, y []float64) error {
	const name = "RandomForestClassifier"
	in, err := treeInputs(name, X, y, true)
	if err != nil {
		return err
	}
	p, err := treeSettings(name, m.Criterion, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, "sqrt", m.MaxBins, in)
	if err != nil {
		return err
	}
	var targets [][]float64
	if m.PerClassTrees && in.k > 2 {
		if p.crit != treeGini {
			return fmt.Errorf("ml: %s: per_class_trees grows squared-error trees on each class's indicator, the Gini split of that class; criterion must be gini (got %q)", name, m.Criterion)
		}
		// Squared error of a 0/1 indicator is the Gini impurity of the
		// class against the rest, halved.
		p.crit, p.k = treeMSE, 0
		targets = make([][]float64, in.k)
		for c := range targets {
			targets[c] = make([]float64, in.n)
		}
		for i, c := range in.yc {
			targets[c][i] = 1
		}
		in.yc = nil
	}
	trees, imp, err := forestGrow(name, p, in, m.NEstimators, m.Bootstrap, m.Seed, targets, m.progress)
	if err != nil {
		return err
	}
	m.NFeatures, m.NClasses, m.Trees, m.Importances = in.d, in.k, trees, imp
	return nil
}

// perClass reports whether the trees are per class: tree i is class
// i mod NClasses's.
func (m *RandomForestClassifier) perClass() bool { return m.PerClassTrees && m.NClasses > 2 }

// Predict writes the class code with the highest mean probability for
// each row of X into dst (allocated when its length is not the number of
// rows) and returns it. Ties go to the lowest code. It panics if the model
// is not fitted or X has the wrong number of columns.
func (m *RandomForestClassifier) Predict(dst []float64, X mat.Matrix) []float64 {
	proba := m.PredictProba(nil, X)
	r, _ := proba.Dims()
	dst = predictDst(dst, r)
	for i := range r {
		dst[i] = float64(treeArgmax(proba.RawRowView(i)))
	}
	return dst
}

// PredictProba writes the mean over trees of the class fractions of the
// leaf each row reaches (with per-class trees, each class's mean over its
// trees, normalised to sum 1), one row per row of X and one column per
// class, into dst (allocated unless it is r×NumClasses or empty) and
// returns it. It panics as Predict does.
func (m *RandomForestClassifier) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	x := treePredictInput("RandomForestClassifier", X, m.NFeatures, len(m.Trees))
	k := m.NClasses
	if m.perClass() {
		if len(m.Trees)%k != 0 {
			panic(fmt.Sprintf("ml: RandomForestClassifier: %d per-class trees for %d classes", len(m.Trees), k))
		}
		treeCheck("RandomForestClassifier", m.Trees, m.NFeatures, 1)
	} else {
		treeCheck("RandomForestClassifier", m.Trees, m.NFeatures, k)
	}
	r, _ := x.Dims()
	dst = denseDst(dst, r, k)
	scale := 1 / float64(len(m.Trees))
	perClass := m.perClass()
	treeParallelBlocks(r, forestPredictBlock, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			clear(dst.RawRowView(i))
		}
		rows := treeRows(x, lo, hi)
		leaf := make([]int32, hi-lo)
		buf := make([]float64, k)
		// Tree by tree over the block, so each tree stays in cache.
		for t := range m.Trees {
			tr := &m.Trees[t]
			tr.leafBlock(rows, leaf)
			if perClass {
				c := t % k
				for i, l := range leaf {
					dst.RawRowView(lo + i)[c] += tr.Value[l]
				}
				continue
			}
			for i, l := range leaf {
				v := tr.nodeProba(int(l), buf)
				out := dst.RawRowView(lo + i)
				for c, p := range v {
					out[c] += p
				}
			}
		}
		for i := lo; i < hi; i++ {
			out := dst.RawRowView(i)
			s := scale
			if perClass {
				// Each class's mean leaf fraction, normalised to sum 1.
				var sum float64
				for _, v := range out {
					sum += v
				}
				s = 0
				if sum > 0 {
					s = 1 / sum
				}
			}
			for c := range out {
				out[c] *= s
			}
		}
	})
	return dst
}

// FeatureImportances returns the mean over trees of each tree's
// normalised impurity-decrease importances, normalised (scikit-learn's
// feature_importances_), or nil before Fit.
func (m *RandomForestClassifier) FeatureImportances() []float64 {
	return slices.Clone(m.Importances)
}

// RandomForestRegressor is scikit-learn's RandomForestRegressor: the mean
// of regression trees (squared error) each grown on a bootstrap sample of
// the rows, considering MaxFeatures features per node (all by default,
// as scikit-learn since 1.1). Binning, cores and seeding are as for
// RandomForestClassifier.
type RandomForestRegressor struct {
	NEstimators     int    `json:"n_estimators" ml:"param"`
	Criterion       string `json:"criterion" ml:"param"`         // "squared_error"
	MaxDepth        int    `json:"max_depth" ml:"param"`         // 0: unlimited
	MinSamplesSplit int    `json:"min_samples_split" ml:"param"` // rows a node needs to be split
	MinSamplesLeaf  int    `json:"min_samples_leaf" ml:"param"`  // rows each child needs
	MaxFeatures     string `json:"max_features" ml:"param"`      // "all", "sqrt", "log2", a count "5" or a fraction "0.5"
	MaxBins         int    `json:"max_bins" ml:"param"`          // 0: exact splits; see DecisionTreeClassifier
	Bootstrap       bool   `json:"bootstrap" ml:"param"`
	Seed            uint64 `json:"seed" ml:"param"`

	NFeatures   int       `json:"n_features_in"`
	Trees       []Tree    `json:"estimators"`
	Importances []float64 `json:"feature_importances"`

	progress Progress
}

var (
	_ Estimator   = (*RandomForestRegressor)(nil)
	_ Importancer = (*RandomForestRegressor)(nil)
	_ Progressor  = (*RandomForestRegressor)(nil)
)

// NewRandomForestRegressor returns a forest with scikit-learn's defaults:
// 100 trees, squared_error, unlimited depth, min_samples_split 2,
// min_samples_leaf 1, all features (max_features 1.0), bootstrap.
func NewRandomForestRegressor() *RandomForestRegressor {
	return &RandomForestRegressor{NEstimators: 100, Criterion: "squared_error", MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "all", MaxBins: TreeDefaultMaxBins, Bootstrap: true}
}

// SetParams sets hyperparameters by scikit-learn name (n_estimators,
// criterion, max_depth, min_samples_split, min_samples_leaf, max_features,
// max_bins, bootstrap, seed); see SetParams. max_features may be a number: an
// integer counts features, a float is a fraction of them, as in
// scikit-learn.
func (m *RandomForestRegressor) SetParams(params map[string]any) error {
	return SetParams(m, treeHyper(params))
}

// SetProgress sets a hook called as trees finish with (trees done,
// NEstimators), from one goroutine. An error from it stops Fit, which
// returns it wrapped.
func (m *RandomForestRegressor) SetProgress(p Progress) { m.progress = p }

// Fit grows the forest on rows of X with targets y. It panics if len(y)
// differs from the rows of X, and returns ErrEmpty for no rows, ErrNaN for
// a non-finite value, an error for an out-of-range hyperparameter, or the
// progress hook's error.
func (m *RandomForestRegressor) Fit(X mat.Matrix, y []float64) error {
	const name = "RandomForestRegressor"
	in, err := treeInputs(name, X, y, false)
	if err != nil {
		return err
	}
	p, err := treeSettings(name, m.Criterion, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, "all", m.MaxBins, in)
	if err != nil {
		return err
	}
	trees, imp, err := forestGrow(name, p, in, m.NEstimators, m.Bootstrap, m.Seed, nil, m.progress)
	if err != nil {
		return err
	}
	m.NFeatures, m.Trees, m.Importances = in.d, trees, imp
	return nil
}

// Predict writes the mean of the trees' predictions for each row of X
// into dst (allocated when its length is not the number of rows) and
// returns it. It panics if the model is not fitted or X has the wrong
// number of columns.
func (m *RandomForestRegressor) Predict(dst []float64, X mat.Matrix) []float64 {
	x := treePredictInput("RandomForestRegressor", X, m.NFeatures, len(m.Trees))
	treeCheck("RandomForestRegressor", m.Trees, m.NFeatures, 1)
	r, _ := x.Dims()
	dst = predictDst(dst, r)
	treeParallelBlocks(r, forestPredictBlock, func(lo, hi int) {
		clear(dst[lo:hi])
		rows := treeRows(x, lo, hi)
		leaf := make([]int32, hi-lo)
		for t := range m.Trees {
			tr := &m.Trees[t]
			tr.leafBlock(rows, leaf)
			for i, l := range leaf {
				dst[lo+i] += tr.Value[l]
			}
		}
		for i := lo; i < hi; i++ {
			dst[i] /= float64(len(m.Trees))
		}
	})
	return dst
}

// FeatureImportances returns the mean over trees of each tree's
// normalised importances, normalised, or nil before Fit.
func (m *RandomForestRegressor) FeatureImportances() []float64 {
	return slices.Clone(m.Importances)
}

// forestGrow grows n trees on all cores. Tree i's rows and features come
// from PCG(seed, i). With targets, it grows n·len(targets) regression
// trees instead, tree i on targets[i mod len(targets)].
func forestGrow(name string, p treeParams, in *treeIn, n int, bootstrap bool, seed uint64, targets [][]float64, progress Progress) ([]Tree, []float64, error) {
	if n < 1 {
		return nil, nil, fmt.Errorf("ml: %s: need n_estimators >= 1 (got %d)", name, n)
	}
	if targets != nil {
		n *= len(targets)
	}
	bins, err := newTreeBins(in.x, in.n, in.d, in.stride, p.maxBins)
	if err != nil {
		return nil, nil, fmt.Errorf("ml: %s: %w", name, err)
	}
	trees := make([]Tree, n)
	imps := make([][]float64, n)
	var next atomic.Int64
	var stop atomic.Bool
	done := make(chan struct{}, n)
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := newTreeBuilder(p, bins, in.yc, in.y)
			samples := make([]int32, in.n)
			var w []float64
			var cnt []uint8
			if bootstrap {
				w = make([]float64, in.n)
				cnt = make([]uint8, in.n)
			}
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				rng := rand.New(rand.NewPCG(seed, uint64(i)))
				rows := samples[:in.n]
				if bootstrap {
					rows, rng = forestBootstrap(seed, uint64(i), rng, cnt, w, rows, 255)
				} else {
					for j := range rows {
						rows[j] = int32(j)
					}
				}
				if targets != nil {
					t.yr = targets[i%len(targets)]
				}
				tf := t.grow(rows, w, rng)
				imp := make([]float64, in.d)
				tf.importances(imp)
				treeNormalize(imp)
				trees[i] = tf.Tree.compact()
				imps[i] = imp
				done <- struct{}{}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	var hookErr error
	finished := 0
	for range done {
		finished++
		if progress != nil && hookErr == nil {
			if err := progress(finished, n); err != nil {
				hookErr = err
				stop.Store(true)
			}
		}
	}
	if hookErr != nil {
		return nil, nil, fmt.Errorf("%s stopped after %d of %d trees: %w", name, finished, n, hookErr)
	}
	// scikit-learn averages the importances of trees with a split.
	imp := make([]float64, in.d)
	for i, ti := range imps {
		if trees[i].NodeCount() > 1 {
			for j, v := range ti {
				imp[j] += v
			}
		}
	}
	treeNormalize(imp)
	return trees, imp, nil
}

// forestBootstrap draws len(w) rows with replacement from rng, a fresh
// PCG(seed, stream), sets w to the times each row was drawn and returns
// the drawn rows in order (in rows' storage) and the generator after the
// draws. It counts in cnt, a byte per row, which stays in cache where an
// array of floats would not; if a row is drawn limit times or more it
// draws again from a fresh generator, counting in w.
func forestBootstrap(seed, stream uint64, rng *rand.Rand, cnt []uint8, w []float64, rows []int32, limit uint8) ([]int32, *rand.Rand) {
	n := len(w)
	clear(cnt)
	sat := false
	for range n {
		j := rng.IntN(n)
		c := cnt[j]
		sat = sat || c >= limit
		cnt[j] = c + 1
	}
	rows = rows[:0]
	if sat {
		rng = rand.New(rand.NewPCG(seed, stream))
		clear(w)
		for range n {
			w[rng.IntN(n)]++
		}
		for j, c := range w {
			if c > 0 {
				rows = append(rows, int32(j))
			}
		}
		return rows, rng
	}
	for j, c := range cnt[:n] {
		w[j] = float64(c)
		if c > 0 {
			rows = append(rows, int32(j))
		}
	}
	return rows, rng
}

// treeParallel calls fn on consecutive blocks of [0, n) on all cores.
// Each index is handled by exactly one call, so results written per index
// do not depend on the number of cores.
func treeParallel(n int, fn func(lo, hi int)) {
	treeParallelBlocks(n, 256, fn)
}

// treeParallelBlocks is treeParallel with blocks of the given size. fn is
// called once per block, [lo, min(lo+block, n)) with lo a multiple of
// block, however many cores there are: callers may keep per-block results
// at lo/block.
func treeParallelBlocks(n, block int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+block-1)/block)
	if workers <= 1 {
		for lo := 0; lo < n; lo += block {
			fn(lo, min(lo+block, n))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(block))) - block
				if lo >= n {
					return
				}
				fn(lo, min(lo+block, n))
			}
		}()
	}
	wg.Wait()
}

// forestPredictBlock is the number of rows pushed through one tree before
// the next: large, so a deep tree is read from memory a few times per
// prediction rather than once per small block.
const forestPredictBlock = 2048
