package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// GradientBoostingClassifier is scikit-learn's GradientBoostingClassifier
// with the log-loss: an additive model of regression trees fitted stage by
// stage to the negative gradient of the loss, each leaf then set to a
// Newton step. With two classes each stage has one tree on the log-odds
// of class 1; with k > 2 classes each stage has k trees, one per class,
// and probabilities are the softmax of the k sums. The initial scores are
// the log prior odds (two classes) or log priors (more), as
// scikit-learn's.
//
// The training matrix is binned once for all stages (see
// DecisionTreeClassifier for when splits are exact). With Subsample below
// 1 each stage fits on a random subset of the rows drawn without
// replacement (stochastic gradient boosting). The k trees of a stage are
// grown on all cores; every random draw comes from Seed, stage and class,
// so results do not depend on the number of cores.
type GradientBoostingClassifier struct {
	LearningRate    float64 `json:"learning_rate" ml:"param"`
	NEstimators     int     `json:"n_estimators" ml:"param"`
	MaxDepth        int     `json:"max_depth" ml:"param"` // 0: unlimited
	MinSamplesSplit int     `json:"min_samples_split" ml:"param"`
	MinSamplesLeaf  int     `json:"min_samples_leaf" ml:"param"`
	Subsample       float64 `json:"subsample" ml:"param"`
	MaxFeatures     string  `json:"max_features" ml:"param"` // "all", "sqrt", "log2", a count "5" or a fraction "0.5"
	MaxBins         int     `json:"max_bins" ml:"param"`     // 0: exact splits; see DecisionTreeClassifier
	Seed            uint64  `json:"seed" ml:"param"`

	NFeatures int `json:"n_features_in"`
	NClasses  int `json:"n_classes"`
	// InitScore is the initial score: one log-odds for two classes, else
	// one log prior per class.
	InitScore []float64 `json:"init_score"`
	// Trees has one row per stage, of one tree (two classes) or one per
	// class; a leaf's Value is its step before LearningRate.
	Trees       [][]Tree  `json:"estimators"`
	Importances []float64 `json:"feature_importances"`

	progress Progress
}

var (
	_ Classifier  = (*GradientBoostingClassifier)(nil)
	_ Importancer = (*GradientBoostingClassifier)(nil)
	_ Progressor  = (*GradientBoostingClassifier)(nil)
)

// NewGradientBoostingClassifier returns a model with scikit-learn's
// defaults: learning_rate 0.1, 100 stages, max_depth 3, min_samples_split
// 2, min_samples_leaf 1, subsample 1, all features.
func NewGradientBoostingClassifier() *GradientBoostingClassifier {
	return &GradientBoostingClassifier{LearningRate: 0.1, NEstimators: 100, MaxDepth: 3, MinSamplesSplit: 2, MinSamplesLeaf: 1, Subsample: 1, MaxFeatures: "all", MaxBins: TreeDefaultMaxBins}
}

// SetParams sets hyperparameters by scikit-learn name (learning_rate,
// n_estimators, max_depth, min_samples_split, min_samples_leaf, subsample,
// max_features, max_bins, seed); see SetParams. max_features may be a number: an
// integer counts features, a float is a fraction of them, as in
// scikit-learn.
func (m *GradientBoostingClassifier) SetParams(params map[string]any) error {
	return SetParams(m, treeHyper(params))
}

// SetProgress sets a hook called after every stage with (stages done,
// NEstimators). An error from it stops Fit, which returns it wrapped.
func (m *GradientBoostingClassifier) SetProgress(p Progress) { m.progress = p }

// NumClasses is the number of classes seen by Fit.
func (m *GradientBoostingClassifier) NumClasses() int { return m.NClasses }

// Fit boosts trees on rows of X with class codes y (0..k-1). It panics if
// len(y) differs from the rows of X or y holds a non-code, and returns
// ErrEmpty for no rows, ErrNaN for a non-finite value in X, ErrOneClass
// when fewer than two classes appear, an error for an out-of-range
// hyperparameter, or the progress hook's error.
func (m *GradientBoostingClassifier) Fit(X mat.Matrix, y []float64) error {
	const name = "GradientBoostingClassifier"
	in, err := treeInputs(name, X, y, true)
	if err != nil {
		return err
	}
	if _, _, err := classCodes(name, y); err != nil {
		return err
	}
	loss := boostBinomial
	if in.k > 2 {
		loss = boostMultinomial
	}
	b, err := boostSetup(name, loss, m.LearningRate, m.NEstimators, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.Subsample, m.MaxFeatures, m.MaxBins, m.Seed, in)
	if err != nil {
		return err
	}
	if err := b.run(m.progress); err != nil {
		return err
	}
	m.NFeatures, m.NClasses = in.d, in.k
	m.InitScore, m.Trees, m.Importances = b.init, b.trees, b.importances()
	return nil
}

// decision returns the raw scores of the rows of X, NumClasses columns
// (one for two classes).
func (m *GradientBoostingClassifier) decision(X mat.Matrix) (*mat.Dense, int) {
	x := treePredictInput("GradientBoostingClassifier", X, m.NFeatures, len(m.Trees))
	for i, stage := range m.Trees {
		if len(stage) != len(m.InitScore) {
			panic(fmt.Sprintf("ml: GradientBoostingClassifier: stage %d has %d trees, want %d", i, len(stage), len(m.InitScore)))
		}
		treeCheck("GradientBoostingClassifier", stage, m.NFeatures, 1)
	}
	if k := len(m.InitScore); (k == 1) != (m.NClasses == 2) || (k > 1 && k != m.NClasses) {
		panic(fmt.Sprintf("ml: GradientBoostingClassifier: %d initial scores for %d classes", k, m.NClasses))
	}
	r, _ := x.Dims()
	return boostRaw(x, m.InitScore, m.Trees, m.LearningRate), r
}

// Predict writes the most probable class code of each row of X into dst
// (allocated when its length is not the number of rows) and returns it.
// Ties go to the lowest code. It panics if the model is not fitted or X
// has the wrong number of columns.
func (m *GradientBoostingClassifier) Predict(dst []float64, X mat.Matrix) []float64 {
	raw, r := m.decision(X)
	dst = predictDst(dst, r)
	for i := range r {
		row := raw.RawRowView(i)
		if len(row) == 1 {
			if boostExpit(row[0]) > 0.5 {
				dst[i] = 1
			} else {
				dst[i] = 0
			}
			continue
		}
		dst[i] = float64(treeArgmax(row))
	}
	return dst
}

// PredictProba writes class probabilities, one row per row of X and one
// column per class, into dst (allocated unless it is r×NumClasses or
// empty) and returns it. It panics as Predict does.
func (m *GradientBoostingClassifier) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	raw, r := m.decision(X)
	dst = denseDst(dst, r, m.NClasses)
	for i := range r {
		row, out := raw.RawRowView(i), dst.RawRowView(i)
		if len(row) == 1 {
			p := boostExpit(row[0])
			out[0], out[1] = 1-p, p
			continue
		}
		boostSoftmax(out, row)
	}
	return dst
}

// FeatureImportances returns the impurity-decrease importances averaged
// over the trees and normalised (scikit-learn's feature_importances_), or
// nil before Fit.
func (m *GradientBoostingClassifier) FeatureImportances() []float64 {
	return slices.Clone(m.Importances)
}

// GradientBoostingRegressor is scikit-learn's GradientBoostingRegressor
// with the squared error: starting from the mean target, each stage fits
// a regression tree to the residuals and adds LearningRate times its
// prediction. Binning, Subsample and Seed are as for
// GradientBoostingClassifier.
type GradientBoostingRegressor struct {
	LearningRate    float64 `json:"learning_rate" ml:"param"`
	NEstimators     int     `json:"n_estimators" ml:"param"`
	MaxDepth        int     `json:"max_depth" ml:"param"` // 0: unlimited
	MinSamplesSplit int     `json:"min_samples_split" ml:"param"`
	MinSamplesLeaf  int     `json:"min_samples_leaf" ml:"param"`
	Subsample       float64 `json:"subsample" ml:"param"`
	MaxFeatures     string  `json:"max_features" ml:"param"` // "all", "sqrt", "log2", a count "5" or a fraction "0.5"
	MaxBins         int     `json:"max_bins" ml:"param"`     // 0: exact splits; see DecisionTreeClassifier
	Seed            uint64  `json:"seed" ml:"param"`

	NFeatures   int       `json:"n_features_in"`
	InitScore   float64   `json:"init_score"` // the mean training target
	Trees       []Tree    `json:"estimators"`
	Importances []float64 `json:"feature_importances"`

	progress Progress
}

var (
	_ Estimator   = (*GradientBoostingRegressor)(nil)
	_ Importancer = (*GradientBoostingRegressor)(nil)
	_ Progressor  = (*GradientBoostingRegressor)(nil)
)

// NewGradientBoostingRegressor returns a model with scikit-learn's
// defaults: learning_rate 0.1, 100 stages, max_depth 3, min_samples_split
// 2, min_samples_leaf 1, subsample 1, all features.
func NewGradientBoostingRegressor() *GradientBoostingRegressor {
	return &GradientBoostingRegressor{LearningRate: 0.1, NEstimators: 100, MaxDepth: 3, MinSamplesSplit: 2, MinSamplesLeaf: 1, Subsample: 1, MaxFeatures: "all", MaxBins: TreeDefaultMaxBins}
}

// SetParams sets hyperparameters by scikit-learn name (learning_rate,
// n_estimators, max_depth, min_samples_split, min_samples_leaf, subsample,
// max_features, max_bins, seed); see SetParams. max_features may be a number: an
// integer counts features, a float is a fraction of them, as in
// scikit-learn.
func (m *GradientBoostingRegressor) SetParams(params map[string]any) error {
	return SetParams(m, treeHyper(params))
}

// SetProgress sets a hook called after every stage with (stages done,
// NEstimators). An error from it stops Fit, which returns it wrapped.
func (m *GradientBoostingRegressor) SetProgress(p Progress) { m.progress = p }

// Fit boosts trees on rows of X with targets y. It panics if len(y)
// differs from the rows of X, and returns ErrEmpty for no rows, ErrNaN for
// a non-finite value, an error for an out-of-range hyperparameter, or the
// progress hook's error.
func (m *GradientBoostingRegressor) Fit(X mat.Matrix, y []float64) error {
	const name = "GradientBoostingRegressor"
	in, err := treeInputs(name, X, y, false)
	if err != nil {
		return err
	}
	b, err := boostSetup(name, boostSquared, m.LearningRate, m.NEstimators, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.Subsample, m.MaxFeatures, m.MaxBins, m.Seed, in)
	if err != nil {
		return err
	}
	if err := b.run(m.progress); err != nil {
		return err
	}
	m.NFeatures, m.InitScore, m.Importances = in.d, b.init[0], b.importances()
	m.Trees = make([]Tree, len(b.trees))
	for i, st := range b.trees {
		m.Trees[i] = st[0]
	}
	return nil
}

// Predict writes the model's prediction for each row of X into dst
// (allocated when its length is not the number of rows) and returns it.
// It panics if the model is not fitted or X has the wrong number of
// columns.
func (m *GradientBoostingRegressor) Predict(dst []float64, X mat.Matrix) []float64 {
	x := treePredictInput("GradientBoostingRegressor", X, m.NFeatures, len(m.Trees))
	treeCheck("GradientBoostingRegressor", m.Trees, m.NFeatures, 1)
	r, _ := x.Dims()
	dst = predictDst(dst, r)
	treeParallelBlocks(r, forestPredictBlock, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = m.InitScore
		}
		rows := treeRows(x, lo, hi)
		leaf := make([]int32, hi-lo)
		for t := range m.Trees {
			tr := &m.Trees[t]
			tr.leafBlock(rows, leaf)
			for i, l := range leaf {
				dst[lo+i] += m.LearningRate * tr.Value[l]
			}
		}
	})
	return dst
}

// FeatureImportances returns the impurity-decrease importances averaged
// over the trees and normalised, or nil before Fit.
func (m *GradientBoostingRegressor) FeatureImportances() []float64 {
	return slices.Clone(m.Importances)
}

// Losses.
const (
	boostSquared = iota
	boostBinomial
	boostMultinomial
)

// boost is one gradient boosting fit in progress.
type boost struct {
	name      string
	loss      int
	p         treeParams
	in        *treeIn
	lr        float64
	stages    int
	subsample float64
	seed      uint64
	k         int // trees per stage

	init  []float64
	trees [][]Tree
	imp   []float64
}

func boostSetup(name string, loss int, lr float64, stages, maxDepth, minSplit, minLeaf int, subsample float64, maxFeatures string, maxBins int, seed uint64, in *treeIn) (*boost, error) {
	if !(lr > 0) || stages < 1 || !(subsample > 0 && subsample <= 1) {
		return nil, fmt.Errorf("ml: %s: need learning_rate > 0, n_estimators >= 1, 0 < subsample <= 1 (got %v, %d, %v)", name, lr, stages, subsample)
	}
	// The trees fit gradients: regression trees, whatever the loss.
	reg := *in
	reg.yc = nil
	p, err := treeSettings(name, "squared_error", maxDepth, minSplit, minLeaf, maxFeatures, "all", maxBins, &reg)
	if err != nil {
		return nil, err
	}
	b := &boost{name: name, loss: loss, p: p, in: in, lr: lr, stages: stages, subsample: subsample, seed: seed, k: 1}
	if loss == boostMultinomial {
		b.k = in.k
	}
	return b, nil
}

// run fits the stages.
func (b *boost) run(progress Progress) error {
	in, n, K := b.in, b.in.n, b.k
	bins, err := newTreeBins(in.x, in.n, in.d, in.stride, b.p.maxBins)
	if err != nil {
		return fmt.Errorf("ml: %s: %w", b.name, err)
	}
	raw := make([]float64, K*n) // column-major: class k's scores at raw[k*n:]
	b.init = b.initial()
	for k := range K {
		for i := range n {
			raw[k*n+i] = b.init[k]
		}
	}
	resid := make([][]float64, K)
	workers := min(runtime.GOMAXPROCS(0), K)
	builders := make([]*treeBuilder, K)
	samples := make([][]int32, K)
	for k := range K {
		resid[k] = make([]float64, n)
		builders[k] = newTreeBuilder(b.p, bins, nil, resid[k])
		samples[k] = make([]int32, n)
	}
	inbag := make([]int32, n)
	for i := range inbag {
		inbag[i] = int32(i)
	}
	nIn := n
	if b.subsample < 1 {
		nIn = max(1, int(b.subsample*float64(n)))
	}
	b.trees = make([][]Tree, 0, b.stages)
	b.imp = make([]float64, in.d)
	prob := make([]float64, K)
	for stage := range b.stages {
		b.residuals(raw, resid, prob)
		if nIn < n {
			rng := rand.New(rand.NewPCG(b.seed, uint64(stage)*uint64(K+1)))
			for i := range inbag {
				inbag[i] = int32(i)
			}
			for i := range nIn {
				j := i + rng.IntN(n-i)
				inbag[i], inbag[j] = inbag[j], inbag[i]
			}
			slices.Sort(inbag[:nIn])
		}
		row := make([]Tree, K)
		fits := make([]*treeFit, K)
		grow := func(k int) {
			s := samples[k][:nIn]
			copy(s, inbag[:nIn])
			rng := rand.New(rand.NewPCG(b.seed, uint64(stage)*uint64(K+1)+uint64(k)+1))
			tf := builders[k].grow(s, nil, rng)
			b.newton(tf, s, resid[k], k)
			// Scores of every row, in-bag or not, through the binned splits.
			col := raw[k*n : (k+1)*n]
			for i := range col {
				col[i] += b.lr * tf.Value[tf.leafBinned(bins, i)]
			}
			row[k] = tf.Tree.compact()
			fits[k] = tf
		}
		if workers > 1 {
			var wg sync.WaitGroup
			next := make(chan int, K)
			for k := range K {
				next <- k
			}
			close(next)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range next {
						grow(k)
					}
				}()
			}
			wg.Wait()
		} else {
			for k := range K {
				grow(k)
			}
		}
		for _, tf := range fits {
			if len(tf.Feature) > 1 {
				tf.importances(b.imp)
			}
		}
		b.trees = append(b.trees, row)
		if progress != nil {
			if err := progress(stage+1, b.stages); err != nil {
				b.trees = nil
				return fmt.Errorf("%s stopped after %d of %d stages: %w", b.name, stage+1, b.stages, err)
			}
		}
	}
	return nil
}

// initial returns the starting scores: the mean target, the log odds of
// class 1, or the log class priors, with probabilities clipped to
// [eps, 1-eps] (float32 eps) as scikit-learn does.
func (b *boost) initial() []float64 {
	const eps = 0x1p-23
	in := b.in
	switch b.loss {
	case boostSquared:
		var s float64
		for _, v := range in.y {
			s += v
		}
		return []float64{s / float64(in.n)}
	case boostBinomial:
		var s float64
		for _, c := range in.yc {
			s += float64(c)
		}
		p := math.Min(math.Max(s/float64(in.n), eps), 1-eps)
		return []float64{math.Log(p / (1 - p))}
	}
	counts := make([]float64, b.k)
	for _, c := range in.yc {
		counts[c]++
	}
	for k := range counts {
		p := math.Min(math.Max(counts[k]/float64(in.n), eps), 1-eps)
		counts[k] = math.Log(p)
	}
	return counts
}

// residuals sets resid to the negative gradient of the loss at raw.
func (b *boost) residuals(raw []float64, resid [][]float64, prob []float64) {
	in, n := b.in, b.in.n
	switch b.loss {
	case boostSquared:
		for i, v := range in.y {
			resid[0][i] = v - raw[i]
		}
	case boostBinomial:
		for i, c := range in.yc {
			resid[0][i] = float64(c) - boostExpit(raw[i])
		}
	default:
		K := b.k
		sc := make([]float64, K)
		for i, c := range in.yc {
			for k := range K {
				sc[k] = raw[k*n+i]
			}
			boostSoftmax(prob, sc)
			for k := range K {
				y := 0.0
				if int(c) == k {
					y = 1
				}
				resid[k][i] = y - prob[k]
			}
		}
	}
}

// newton sets each leaf of a classification tree to scikit-learn's
// one-step Newton update from the residuals of its in-bag rows.
func (b *boost) newton(tf *treeFit, samples []int32, resid []float64, k int) {
	if b.loss == boostSquared {
		return
	}
	scale := 1.0
	if b.loss == boostMultinomial {
		scale = float64(b.k-1) / float64(b.k)
	}
	for i, f := range tf.Feature {
		if f >= 0 {
			continue
		}
		var num, den float64
		for _, s := range samples[tf.start[i]:tf.end[i]] {
			r := resid[s]
			y := float64(b.in.yc[s]) // two classes: 0 or 1
			if b.loss == boostMultinomial {
				y = 0
				if int(b.in.yc[s]) == k {
					y = 1
				}
			}
			num += r
			den += (y - r) * (1 - y + r)
		}
		if math.Abs(den) < 1e-150 {
			tf.Value[i] = 0
		} else {
			tf.Value[i] = scale * num / den
		}
	}
}

// importances averages the unnormalised importances of the trees with a
// split and normalises them.
func (b *boost) importances() []float64 {
	imp := slices.Clone(b.imp)
	treeNormalize(imp)
	return imp
}

// boostRaw returns init plus lr times the sum of the trees' values for
// each row of x: one column per tree in a stage.
func boostRaw(x *mat.Dense, init []float64, trees [][]Tree, lr float64) *mat.Dense {
	r, _ := x.Dims()
	K := len(init)
	raw := mat.NewDense(r, K, nil)
	data := raw.RawMatrix().Data
	treeParallelBlocks(r, forestPredictBlock, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(data[i*K:(i+1)*K], init)
		}
		rows := treeRows(x, lo, hi)
		leaf := make([]int32, hi-lo)
		for _, stage := range trees {
			for k := range stage {
				tr := &stage[k]
				tr.leafBlock(rows, leaf)
				for i, l := range leaf {
					data[(lo+i)*K+k] += lr * tr.Value[l]
				}
			}
		}
	})
	return raw
}

func boostExpit(x float64) float64 {
	return 1 / (1 + math.Exp(-x))
}

// boostSoftmax sets dst to the softmax of x.
func boostSoftmax(dst, x []float64) {
	mx := x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	var s float64
	for k, v := range x {
		dst[k] = math.Exp(v - mx)
		s += dst[k]
	}
	for k := range dst {
		dst[k] /= s
	}
}
