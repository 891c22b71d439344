package ml

import (
	"fmt"

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
	// The class codes stay in y, as float64: a copy as int32 would take
	// 4 bytes a row for the whole fit.
	in.k = k
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
