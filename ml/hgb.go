package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// HistGradientBoostingClassifier is scikit-learn's
// HistGradientBoostingClassifier: gradient boosting with the log-loss on
// binned features. Each iteration fits one tree (two classes) or one tree
// per class to the loss's gradients and hessians; a leaf's value is the
// Newton step −G/(H + l2_regularization) times the learning rate.
// Probabilities are the logistic (two classes) or the softmax of the
// summed scores.
//
// Every feature is binned once per fit into at most MaxBins bins of one
// byte each, stored column by column. A node's split is found from
// per-bin sums of gradients, hessians and counts over its rows; only the
// smaller child of a split has its histogram built from rows, the larger
// child's being the parent's minus the smaller's. Trees grow best first
// (the leaf with the largest gain is split next) up to MaxLeafNodes
// leaves and MaxDepth levels. The histograms of a node are built one
// feature per core; every sum is taken in row order by one goroutine,
// so a fit is identical on any number of cores.
//
// Missing values (NaN) need no imputation: they have a bin of their own,
// and each split learns which side they go to (for a feature without
// missing values in training, the side with more rows).
//
// With early stopping (EarlyStopping "auto" turns it on above 10,000
// rows) a stratified ValidationFraction of the rows is held out, and
// fitting stops once the validation loss has not improved by more than
// Tol for NIterNoChange iterations. Seed drives that split and the row
// sample used to find the bin thresholds on more than 200,000 rows.
type HistGradientBoostingClassifier struct {
	LearningRate       float64 `json:"learning_rate" ml:"param"`
	MaxIter            int     `json:"max_iter" ml:"param"`
	MaxLeafNodes       int     `json:"max_leaf_nodes" ml:"param"` // 0: unlimited
	MaxDepth           int     `json:"max_depth" ml:"param"`      // 0: unlimited
	MinSamplesLeaf     int     `json:"min_samples_leaf" ml:"param"`
	L2Regularization   float64 `json:"l2_regularization" ml:"param"`
	MaxBins            int     `json:"max_bins" ml:"param"`
	EarlyStopping      string  `json:"early_stopping" ml:"param"` // "auto", "true" or "false"
	ValidationFraction float64 `json:"validation_fraction" ml:"param"`
	NIterNoChange      int     `json:"n_iter_no_change" ml:"param"`
	Tol                float64 `json:"tol" ml:"param"`
	Seed               uint64  `json:"seed" ml:"param"`

	NFeatures int `json:"n_features_in"`
	NClasses  int `json:"n_classes"`
	// InitScore is the initial raw score: one log-odds for two classes,
	// else one centred log prior per class.
	InitScore []float64 `json:"init_score"`
	// Trees has one row per iteration, of one tree (two classes) or one
	// per class.
	Trees [][]HistTree `json:"estimators"`

	progress Progress
}

var (
	_ Classifier    = (*HistGradientBoostingClassifier)(nil)
	_ Progressor    = (*HistGradientBoostingClassifier)(nil)
	_ MissingValuer = (*HistGradientBoostingClassifier)(nil)
)

// NewHistGradientBoostingClassifier returns a model with scikit-learn's
// defaults: learning_rate 0.1, max_iter 100, max_leaf_nodes 31, no depth
// limit, min_samples_leaf 20, no l2 regularisation, 255 bins, early
// stopping "auto" with validation_fraction 0.1, n_iter_no_change 10 and
// tol 1e-7.
func NewHistGradientBoostingClassifier() *HistGradientBoostingClassifier {
	return &HistGradientBoostingClassifier{LearningRate: 0.1, MaxIter: 100, MaxLeafNodes: 31, MinSamplesLeaf: 20,
		MaxBins: 255, EarlyStopping: "auto", ValidationFraction: 0.1, NIterNoChange: 10, Tol: 1e-7}
}

// SetParams sets hyperparameters by scikit-learn name (learning_rate,
// max_iter, max_leaf_nodes, max_depth, min_samples_leaf,
// l2_regularization, max_bins, early_stopping, validation_fraction,
// n_iter_no_change, tol, seed); see SetParams. A null max_leaf_nodes or
// max_depth means no limit; early_stopping takes true, false or "auto".
func (m *HistGradientBoostingClassifier) SetParams(params map[string]any) error {
	return SetParams(m, hgbHyper(params))
}

// SetProgress sets a hook called after every iteration with (iterations
// done, MaxIter). An error from it stops Fit, which returns it wrapped.
func (m *HistGradientBoostingClassifier) SetProgress(p Progress) { m.progress = p }

// TakesMissing is true: NaN in X is a missing value.
func (m *HistGradientBoostingClassifier) TakesMissing() bool { return true }

// NumClasses is the number of classes seen by Fit.
func (m *HistGradientBoostingClassifier) NumClasses() int { return m.NClasses }

// NIter is the number of iterations fitted (fewer than MaxIter when
// early stopping ended the fit).
func (m *HistGradientBoostingClassifier) NIter() int { return len(m.Trees) }

// Fit boosts trees on rows of X with class codes y (0..k-1); NaN in X is
// a missing value. It panics if len(y) differs from the rows of X or y
// holds a non-code, and returns ErrEmpty for no rows, ErrNaN for an
// infinite value in X, ErrOneClass when fewer than two classes appear,
// ErrTooFewSamples when early stopping leaves no rows to fit or validate
// on, an error for an out-of-range hyperparameter, or the progress hook's
// error.
func (m *HistGradientBoostingClassifier) Fit(X mat.Matrix, y []float64) error {
	const name = "HistGradientBoostingClassifier"
	in, err := hgbInputs(name, X, y)
	if err != nil {
		return err
	}
	k, _, err := classCodes(name, y)
	if err != nil {
		return err
	}
	in.k = k
	in.yc = make([]int32, len(y))
	for i, v := range y {
		in.yc[i] = int32(v)
	}
	loss := hgbBinomial
	if k > 2 {
		loss = hgbMultinomial
	}
	f, err := hgbSetup(name, loss, m.LearningRate, m.MaxIter, m.MaxLeafNodes, m.MaxDepth, m.MinSamplesLeaf, m.L2Regularization,
		m.MaxBins, m.EarlyStopping, m.ValidationFraction, m.NIterNoChange, m.Tol, m.Seed, in)
	if err != nil {
		return err
	}
	if err := f.run(m.progress); err != nil {
		return err
	}
	m.NFeatures, m.NClasses, m.InitScore, m.Trees = in.d, k, f.init, f.trees
	return nil
}

// decision returns the raw scores of the rows of X, one column per tree
// of an iteration.
func (m *HistGradientBoostingClassifier) decision(X mat.Matrix) *mat.Dense {
	const name = "HistGradientBoostingClassifier"
	x := treePredictInput(name, X, m.NFeatures, len(m.Trees))
	if k := len(m.InitScore); (k == 1) != (m.NClasses == 2) || (k > 1 && k != m.NClasses) {
		panic(fmt.Sprintf("ml: %s: %d initial scores for %d classes", name, k, m.NClasses))
	}
	hgbCheck(name, m.Trees, len(m.InitScore), m.NFeatures)
	return hgbRaw(x, m.InitScore, m.Trees)
}

// Predict writes the most probable class code of each row of X into dst
// (allocated when its length is not the number of rows) and returns it.
// Ties go to the lowest code. It panics if the model is not fitted or X
// has the wrong number of columns.
func (m *HistGradientBoostingClassifier) Predict(dst []float64, X mat.Matrix) []float64 {
	raw := m.decision(X)
	r, _ := raw.Dims()
	dst = predictDst(dst, r)
	for i := range r {
		row := raw.RawRowView(i)
		if len(row) == 1 {
			dst[i] = 0
			if row[0] > 0 {
				dst[i] = 1
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
func (m *HistGradientBoostingClassifier) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	raw := m.decision(X)
	r, _ := raw.Dims()
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

// HistGradientBoostingRegressor is scikit-learn's
// HistGradientBoostingRegressor with the squared error: starting from the
// mean target, each iteration fits one tree to the residuals. Binning,
// tree growth, missing values, early stopping (on a random, unstratified
// share of the rows) and Seed are as for HistGradientBoostingClassifier.
type HistGradientBoostingRegressor struct {
	LearningRate       float64 `json:"learning_rate" ml:"param"`
	MaxIter            int     `json:"max_iter" ml:"param"`
	MaxLeafNodes       int     `json:"max_leaf_nodes" ml:"param"` // 0: unlimited
	MaxDepth           int     `json:"max_depth" ml:"param"`      // 0: unlimited
	MinSamplesLeaf     int     `json:"min_samples_leaf" ml:"param"`
	L2Regularization   float64 `json:"l2_regularization" ml:"param"`
	MaxBins            int     `json:"max_bins" ml:"param"`
	EarlyStopping      string  `json:"early_stopping" ml:"param"` // "auto", "true" or "false"
	ValidationFraction float64 `json:"validation_fraction" ml:"param"`
	NIterNoChange      int     `json:"n_iter_no_change" ml:"param"`
	Tol                float64 `json:"tol" ml:"param"`
	Seed               uint64  `json:"seed" ml:"param"`

	NFeatures int        `json:"n_features_in"`
	InitScore float64    `json:"init_score"` // the mean training target
	Trees     []HistTree `json:"estimators"`

	progress Progress
}

var (
	_ Estimator     = (*HistGradientBoostingRegressor)(nil)
	_ Progressor    = (*HistGradientBoostingRegressor)(nil)
	_ MissingValuer = (*HistGradientBoostingRegressor)(nil)
)

// NewHistGradientBoostingRegressor returns a model with scikit-learn's
// defaults, as NewHistGradientBoostingClassifier.
func NewHistGradientBoostingRegressor() *HistGradientBoostingRegressor {
	return &HistGradientBoostingRegressor{LearningRate: 0.1, MaxIter: 100, MaxLeafNodes: 31, MinSamplesLeaf: 20,
		MaxBins: 255, EarlyStopping: "auto", ValidationFraction: 0.1, NIterNoChange: 10, Tol: 1e-7}
}

// SetParams sets hyperparameters by scikit-learn name, as
// HistGradientBoostingClassifier.SetParams.
func (m *HistGradientBoostingRegressor) SetParams(params map[string]any) error {
	return SetParams(m, hgbHyper(params))
}

// SetProgress sets a hook called after every iteration with (iterations
// done, MaxIter). An error from it stops Fit, which returns it wrapped.
func (m *HistGradientBoostingRegressor) SetProgress(p Progress) { m.progress = p }

// TakesMissing is true: NaN in X is a missing value.
func (m *HistGradientBoostingRegressor) TakesMissing() bool { return true }

// NIter is the number of iterations fitted.
func (m *HistGradientBoostingRegressor) NIter() int { return len(m.Trees) }

// Fit boosts trees on rows of X with targets y; NaN in X is a missing
// value. It panics if len(y) differs from the rows of X, and returns
// ErrEmpty for no rows, ErrNaN for an infinite value in X or a
// non-finite target, ErrTooFewSamples when early stopping leaves no rows
// to fit or validate on, an error for an out-of-range hyperparameter, or
// the progress hook's error.
func (m *HistGradientBoostingRegressor) Fit(X mat.Matrix, y []float64) error {
	const name = "HistGradientBoostingRegressor"
	in, err := hgbInputs(name, X, y)
	if err != nil {
		return err
	}
	f, err := hgbSetup(name, hgbSquared, m.LearningRate, m.MaxIter, m.MaxLeafNodes, m.MaxDepth, m.MinSamplesLeaf, m.L2Regularization,
		m.MaxBins, m.EarlyStopping, m.ValidationFraction, m.NIterNoChange, m.Tol, m.Seed, in)
	if err != nil {
		return err
	}
	if err := f.run(m.progress); err != nil {
		return err
	}
	m.NFeatures, m.InitScore = in.d, f.init[0]
	m.Trees = make([]HistTree, len(f.trees))
	for i, it := range f.trees {
		m.Trees[i] = it[0]
	}
	return nil
}

// Predict writes the model's prediction for each row of X into dst
// (allocated when its length is not the number of rows) and returns it.
// It panics if the model is not fitted or X has the wrong number of
// columns.
func (m *HistGradientBoostingRegressor) Predict(dst []float64, X mat.Matrix) []float64 {
	const name = "HistGradientBoostingRegressor"
	x := treePredictInput(name, X, m.NFeatures, len(m.Trees))
	trees := make([][]HistTree, len(m.Trees))
	for i := range m.Trees {
		trees[i] = m.Trees[i : i+1]
	}
	hgbCheck(name, trees, 1, m.NFeatures)
	raw := hgbRaw(x, []float64{m.InitScore}, trees)
	r, _ := raw.Dims()
	dst = predictDst(dst, r)
	copy(dst, raw.RawMatrix().Data)
	return dst
}

// Losses of histogram boosting.
const (
	hgbSquared = iota
	hgbBinomial
	hgbMultinomial
)

// PCG streams of histogram boosting's random draws.
const (
	hgbStreamBins       = 0x686762696e73 // "hgbins"
	hgbStreamValidation = 0x686762766171 // "hgbvaq"
)

// hgbHyper adapts decoded parameters: null max_leaf_nodes or max_depth
// mean no limit (0), and a boolean early_stopping becomes "true" or
// "false".
func hgbHyper(params map[string]any) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = v
	}
	for _, k := range []string{"max_leaf_nodes", "max_depth"} {
		if v, ok := params[k]; ok && v == nil {
			out[k] = 0
		}
	}
	if b, ok := params["early_stopping"].(bool); ok {
		out["early_stopping"] = fmt.Sprint(b)
	}
	return out
}

// hgbInputs checks X and y: panics on a length mismatch, ErrEmpty,
// ErrNaN for an infinite feature value or a non-finite target. NaN
// features are allowed.
func hgbInputs(name string, X mat.Matrix, y []float64) (*treeIn, error) {
	checkXy(name, X, y)
	if len(y) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	Xd := dense(X)
	g := Xd.RawMatrix()
	if g.Rows >= math.MaxInt32 {
		return nil, fmt.Errorf("ml: %s: %d rows is more than a tree takes", name, g.Rows)
	}
	for i := range g.Rows {
		for j, v := range g.Data[i*g.Stride : i*g.Stride+g.Cols] {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: %w at row %d, column %d", name, ErrNaN, i, j)
			}
		}
	}
	if err := checkFiniteVec("y", y); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &treeIn{x: g.Data, n: g.Rows, d: g.Cols, stride: g.Stride, y: y}, nil
}

// hgbFit is one histogram boosting fit in progress.
type hgbFit struct {
	name     string
	loss     int
	k        int // trees per iteration
	in       *treeIn
	lr       float64
	maxIter  int
	p        hgbParams
	maxBins  int
	early    bool
	valFrac  float64
	noChange int
	tol      float64
	seed     uint64

	init  []float64
	trees [][]HistTree
}

func hgbSetup(name string, loss int, lr float64, maxIter, maxLeaves, maxDepth, minLeaf int, l2 float64, maxBins int,
	early string, valFrac float64, noChange int, tol float64, seed uint64, in *treeIn) (*hgbFit, error) {
	var errs []string
	if !(lr > 0) || math.IsInf(lr, 0) {
		errs = append(errs, fmt.Sprintf("learning_rate must be > 0 (got %v)", lr))
	}
	if maxIter < 1 {
		errs = append(errs, fmt.Sprintf("max_iter must be >= 1 (got %d)", maxIter))
	}
	if maxLeaves != 0 && maxLeaves < 2 {
		errs = append(errs, fmt.Sprintf("max_leaf_nodes must be >= 2 or unlimited (got %d)", maxLeaves))
	}
	if maxDepth < 0 {
		errs = append(errs, fmt.Sprintf("max_depth must be >= 1 or unlimited (got %d)", maxDepth))
	}
	if minLeaf < 1 {
		errs = append(errs, fmt.Sprintf("min_samples_leaf must be >= 1 (got %d)", minLeaf))
	}
	if !(l2 >= 0) || math.IsInf(l2, 0) {
		errs = append(errs, fmt.Sprintf("l2_regularization must be >= 0 (got %v)", l2))
	}
	if maxBins < 2 || maxBins > 255 {
		errs = append(errs, fmt.Sprintf("max_bins must be from 2 to 255 (got %d)", maxBins))
	}
	if !(valFrac > 0 && valFrac < 1) {
		errs = append(errs, fmt.Sprintf("validation_fraction must be in (0, 1) (got %v)", valFrac))
	}
	if noChange < 1 {
		errs = append(errs, fmt.Sprintf("n_iter_no_change must be >= 1 (got %d)", noChange))
	}
	if !(tol >= 0) {
		errs = append(errs, fmt.Sprintf("tol must be >= 0 (got %v)", tol))
	}
	var on bool
	switch strings.ToLower(early) {
	case "auto", "":
		on = in.n > 10000
	case "true":
		on = true
	case "false":
		on = false
	default:
		errs = append(errs, fmt.Sprintf("early_stopping must be auto, true or false (got %q)", early))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ml: %s: %s", name, strings.Join(errs, "; "))
	}
	f := &hgbFit{name: name, loss: loss, k: 1, in: in, lr: lr, maxIter: maxIter,
		p:       hgbParams{maxLeaves: maxLeaves, maxDepth: maxDepth, minLeaf: minLeaf, l2: l2, minHess: 1e-3},
		maxBins: maxBins, early: on, valFrac: valFrac, noChange: noChange, tol: tol, seed: seed}
	if loss == hgbMultinomial {
		f.k = in.k
	}
	return f, nil
}

// split returns the training and validation rows, each ascending: nil
// (every row) and nil without early stopping, else a random
// validation_fraction held out (stratified by class for classifiers).
func (f *hgbFit) split() (train, val []int32, err error) {
	n := f.in.n
	if !f.early {
		return nil, nil, nil
	}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	rng := rand.New(rand.NewPCG(f.seed, hgbStreamValidation))
	rng.Shuffle(n, func(i, j int) { all[i], all[j] = all[j], all[i] })
	hold := make([]bool, n)
	if f.in.yc == nil {
		nv := int(math.Ceil(f.valFrac * float64(n)))
		for _, r := range all[:min(nv, n)] {
			hold[r] = true
		}
	} else {
		counts := make([]int, f.in.k)
		for _, c := range f.in.yc {
			counts[c]++
		}
		want := make([]int, f.in.k)
		for c, m := range counts {
			want[c] = int(math.Round(f.valFrac * float64(m)))
		}
		for _, r := range all {
			c := f.in.yc[r]
			if want[c] > 0 {
				hold[r] = true
				want[c]--
			}
		}
	}
	train, val = all[:0:0], nil
	for i := range n {
		if hold[i] {
			val = append(val, int32(i))
		} else {
			train = append(train, int32(i))
		}
	}
	if len(train) == 0 || len(val) == 0 {
		return nil, nil, fmt.Errorf("%s: early stopping on %d rows leaves %d to fit and %d to validate on: %w",
			f.name, n, len(train), len(val), ErrTooFewSamples)
	}
	return train, val, nil
}

// run fits the iterations.
func (f *hgbFit) run(progress Progress) error {
	in, K := f.in, f.k
	train, val, err := f.split()
	if err != nil {
		return err
	}
	binner := newHgbBinner(in.x, in.n, in.stride, in.d, train, f.maxBins, f.seed)
	codes, hasMiss := binner.codes(in.x, in.n, in.stride, train)
	var vcodes []uint8
	if val != nil {
		vcodes, _ = binner.codes(in.x, in.n, in.stride, val)
	}
	n, nv := len(train), len(val)
	if train == nil {
		n = in.n
	}
	// Targets of the training and validation rows.
	// Without a validation split the training rows are all rows, in order.
	y, yc := in.y, in.yc
	var yv []float64
	var ycv []int32
	if in.yc != nil {
		y = nil
	}
	if val != nil {
		if in.yc != nil {
			yc, ycv = make([]int32, n), make([]int32, nv)
			for i, r := range train {
				yc[i] = in.yc[r]
			}
			for i, r := range val {
				ycv[i] = in.yc[r]
			}
		} else {
			y, yv = make([]float64, n), make([]float64, nv)
			for i, r := range train {
				y[i] = in.y[r]
			}
			for i, r := range val {
				yv[i] = in.y[r]
			}
		}
	}
	f.init = hgbInit(f.loss, K, y, yc)
	raw, rawv := make([]float64, K*n), make([]float64, K*nv) // class k's scores at raw[k*n:]
	for k := range K {
		for i := range n {
			raw[k*n+i] = f.init[k]
		}
		for i := range nv {
			rawv[k*nv+i] = f.init[k]
		}
	}
	// Gradients and hessians in float32, as scikit-learn and LightGBM
	// keep them (histogram sums are float64); no hessians for the squared
	// error, whose hessian is 1.
	g := make([]float32, K*n)
	var h []float32
	if f.loss != hgbSquared {
		h = make([]float32, K*n)
	}
	grower := newHgbGrower(f.p, codes, n, in.d, binner, hasMiss, f.loss == hgbSquared)
	var scores []float64
	if f.early {
		scores = append(scores, -hgbLoss(f.loss, K, rawv, yv, ycv))
	}
	f.trees = make([][]HistTree, 0, f.maxIter)
	for it := range f.maxIter {
		hgbGradients(f.loss, K, raw, y, yc, g, h)
		row := make([]HistTree, K)
		for k := range K {
			var hk []float32
			if h != nil {
				hk = h[k*n : (k+1)*n]
			}
			tree := grower.grow(g[k*n:(k+1)*n], hk, f.lr)
			col := raw[k*n : (k+1)*n]
			grower.leafRows(tree, func(leaf int, rows []int32) {
				v := tree.Value[leaf]
				for _, r := range rows {
					col[r] += v
				}
			})
			if nv > 0 {
				colv := rawv[k*nv : (k+1)*nv]
				for i := range colv {
					colv[i] += tree.Value[tree.leafBinned(vcodes, nv, i, f.maxBins)]
				}
			}
			tree.bins = nil
			row[k] = *tree
		}
		f.trees = append(f.trees, row)
		if progress != nil {
			if err := progress(it+1, f.maxIter); err != nil {
				f.trees = nil
				return fmt.Errorf("%s stopped after %d of %d iterations: %w", f.name, it+1, f.maxIter, err)
			}
		}
		if f.early {
			scores = append(scores, -hgbLoss(f.loss, K, rawv, yv, ycv))
			if hgbShouldStop(scores, f.noChange, f.tol) {
				break
			}
		}
	}
	return nil
}

// hgbShouldStop is scikit-learn's rule: stop when none of the last
// noChange scores beats the one before them by more than tol.
func hgbShouldStop(scores []float64, noChange int, tol float64) bool {
	ref := noChange + 1
	if len(scores) < ref {
		return false
	}
	base := scores[len(scores)-ref] + tol
	for _, s := range scores[len(scores)-ref+1:] {
		if s > base {
			return false
		}
	}
	return true
}

// hgbInit returns the initial raw scores: the mean target, the log-odds
// of class 1, or the centred log class priors, with probabilities clipped
// to [eps, 1-eps].
func hgbInit(loss, K int, y []float64, yc []int32) []float64 {
	const eps = 0x1p-52
	switch loss {
	case hgbSquared:
		var s float64
		for _, v := range y {
			s += v
		}
		return []float64{s / float64(len(y))}
	case hgbBinomial:
		var s float64
		for _, c := range yc {
			s += float64(c)
		}
		p := math.Min(math.Max(s/float64(len(yc)), eps), 1-eps)
		return []float64{math.Log(p / (1 - p))}
	}
	out := make([]float64, K)
	for _, c := range yc {
		out[c]++
	}
	var mean float64
	for k := range out {
		p := math.Min(math.Max(out[k]/float64(len(yc)), eps), 1-eps)
		out[k] = math.Log(p)
		mean += out[k]
	}
	mean /= float64(K)
	for k := range out {
		out[k] -= mean
	}
	return out
}

// hgbGradients sets g and h to the gradients and hessians of the loss at
// raw (both laid out as raw), on all cores.
func hgbGradients(loss, K int, raw, y []float64, yc []int32, g, h []float32) {
	n := len(raw) / K
	treeParallelBlocks(n, 8192, func(lo, hi int) {
		switch loss {
		case hgbSquared:
			for i := lo; i < hi; i++ {
				g[i] = float32(raw[i] - y[i])
			}
		case hgbBinomial:
			for i := lo; i < hi; i++ {
				p := 1 / (1 + math.Exp(-raw[i]))
				g[i] = float32(p - float64(yc[i]))
				h[i] = float32(p * (1 - p))
			}
		default:
			var buf [16]float64
			p := buf[:0]
			if K > len(buf) {
				p = make([]float64, K)
			} else {
				p = buf[:K]
			}
			for i := lo; i < hi; i++ {
				mx := raw[i]
				for k := 1; k < K; k++ {
					mx = max(mx, raw[k*n+i])
				}
				var s float64
				for k := range K {
					p[k] = math.Exp(raw[k*n+i] - mx)
					s += p[k]
				}
				c := int(yc[i])
				inv := 1 / s
				for k := range K {
					q := p[k] * inv
					h[k*n+i] = float32(q * (1 - q))
					if k == c {
						q--
					}
					g[k*n+i] = float32(q)
				}
			}
		}
	})
}

// hgbLoss is the mean loss at raw: half the squared error, the log-loss.
func hgbLoss(loss, K int, raw, y []float64, yc []int32) float64 {
	n := len(raw) / K
	var s float64
	switch loss {
	case hgbSquared:
		for i, v := range y {
			d := v - raw[i]
			s += d * d / 2
		}
	case hgbBinomial:
		for i, c := range yc {
			r := raw[i]
			s += math.Max(r, 0) + math.Log1p(math.Exp(-math.Abs(r))) - float64(c)*r
		}
	default:
		for i, c := range yc {
			mx := raw[i]
			for k := 1; k < K; k++ {
				mx = max(mx, raw[k*n+i])
			}
			var e float64
			for k := range K {
				e += math.Exp(raw[k*n+i] - mx)
			}
			s += mx + math.Log(e) - raw[int(c)*n+i]
		}
	}
	return s / float64(n)
}

// hgbCheck panics unless every iteration has k trees testing features
// below d.
func hgbCheck(name string, trees [][]HistTree, k, d int) {
	for i, it := range trees {
		if len(it) != k {
			panic(fmt.Sprintf("ml: %s: iteration %d has %d trees, want %d", name, i, len(it), k))
		}
		for j := range it {
			if f := it[j].maxFeature(); f >= d {
				panic(fmt.Sprintf("ml: %s: iteration %d tree %d tests feature %d of %d", name, i, j, f, d))
			}
			if len(it[j].Feature) == 0 {
				panic(fmt.Sprintf("ml: %s: iteration %d tree %d is empty", name, i, j))
			}
		}
	}
}

// hgbRaw returns init plus the sum of the trees' values for each row of
// x, one column per tree of an iteration, on all cores.
func hgbRaw(x *mat.Dense, init []float64, trees [][]HistTree) *mat.Dense {
	r, _ := x.Dims()
	K := len(init)
	raw := mat.NewDense(r, K, nil)
	data := raw.RawMatrix().Data
	treeParallelBlocks(r, forestPredictBlock, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(data[i*K:(i+1)*K], init)
		}
		rows := treeRows(x, lo, hi)
		for _, it := range trees {
			for k := range it {
				t := &it[k]
				for i, row := range rows {
					data[(lo+i)*K+k] += t.Value[t.leaf(row)]
				}
			}
		}
	})
	return raw
}
