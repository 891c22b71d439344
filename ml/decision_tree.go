package ml

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// DecisionTreeClassifier is a classification tree, scikit-learn's
// DecisionTreeClassifier: grown depth first, each node split at the
// feature and threshold that most reduce the Gini index or the entropy of
// the classes, until nodes are pure or a limit is reached.
//
// MaxBins chooses the split method. At 0 every split is scikit-learn's
// exact split (thresholds at the midpoint between the values either side).
// Otherwise (default 256) splits are exact for features with at most
// MaxBins distinct values and for training sets of at most 5,000 rows;
// above that each feature is cut once per fit into MaxBins bins of about
// equal counts, at midpoints between distinct values, and split only
// between bins (as LightGBM and scikit-learn's HistGradientBoosting do):
// much faster, and close to the exact tree's score but not equal to it. Features are visited in a random order
// drawn from Seed, which decides between equally good splits; with
// MaxFeatures below all, each node draws that many features (more when
// all those drawn are constant in the node, as scikit-learn does).
type DecisionTreeClassifier struct {
	Criterion       string `json:"criterion" ml:"param"`         // "gini" or "entropy"
	MaxDepth        int    `json:"max_depth" ml:"param"`         // 0: unlimited
	MinSamplesSplit int    `json:"min_samples_split" ml:"param"` // rows a node needs to be split
	MinSamplesLeaf  int    `json:"min_samples_leaf" ml:"param"`  // rows each child needs
	MaxFeatures     string `json:"max_features" ml:"param"`      // "" or "all", "sqrt", "log2", a count "5" or a fraction "0.5"
	MaxBins         int    `json:"max_bins" ml:"param"`          // 0: exact splits; else bins per feature above 5,000 rows
	Seed            uint64 `json:"seed" ml:"param"`

	NFeatures   int       `json:"n_features_in"`
	NClasses    int       `json:"n_classes"`
	Tree        Tree      `json:"tree"`
	Importances []float64 `json:"feature_importances"`
}

var (
	_ Classifier  = (*DecisionTreeClassifier)(nil)
	_ Importancer = (*DecisionTreeClassifier)(nil)
)

// NewDecisionTreeClassifier returns a tree with scikit-learn's defaults:
// criterion gini, unlimited depth, min_samples_split 2, min_samples_leaf
// 1, all features.
func NewDecisionTreeClassifier() *DecisionTreeClassifier {
	return &DecisionTreeClassifier{Criterion: "gini", MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "all", MaxBins: TreeDefaultMaxBins}
}

// SetParams sets hyperparameters by scikit-learn name (criterion,
// max_depth, min_samples_split, min_samples_leaf, max_features, max_bins, seed); see
// SetParams. max_features may be a number: an integer counts features, a
// float is a fraction of them, as in scikit-learn.
func (m *DecisionTreeClassifier) SetParams(params map[string]any) error {
	return SetParams(m, treeHyper(params))
}

// NumClasses is the number of classes seen by Fit (the largest class
// code plus one).
func (m *DecisionTreeClassifier) NumClasses() int { return m.NClasses }

// Fit grows the tree on rows of X with class codes y (0..k-1). One class
// only is allowed: the tree is then a single leaf.
//
// It panics if len(y) differs from the rows of X or y holds a non-code.
// It returns ErrEmpty for no rows, ErrNaN for a non-finite value in X,
// and an error for an out-of-range hyperparameter.
func (m *DecisionTreeClassifier) Fit(X mat.Matrix, y []float64) error {
	in, tree, imp, err := fitDecisionTree("DecisionTreeClassifier", true, m.Criterion, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, m.MaxBins, m.Seed, X, y)
	if err != nil {
		return err
	}
	m.NFeatures, m.NClasses, m.Tree, m.Importances = in.d, in.k, tree, imp
	return nil
}

// fitDecisionTree fits the one tree of a DecisionTreeClassifier
// (classify) or DecisionTreeRegressor with the given settings, and returns
// the fit's inputs, the tree compacted and its normalised feature
// importances.
func fitDecisionTree(name string, classify bool, criterion string, maxDepth, minSplit, minLeaf int, maxFeatures string,
	maxBins int, seed uint64, X mat.Matrix, y []float64) (*treeIn, Tree, []float64, error) {
	in, err := treeInputs(name, X, y, classify)
	if err != nil {
		return nil, Tree{}, nil, err
	}
	p, err := treeSettings(name, criterion, maxDepth, minSplit, minLeaf, maxFeatures, "all", maxBins, in)
	if err != nil {
		return nil, Tree{}, nil, err
	}
	tf, err := treeGrowOne(name, p, in, seed)
	if err != nil {
		return nil, Tree{}, nil, err
	}
	imp := make([]float64, in.d)
	tf.importances(imp)
	treeNormalize(imp)
	return in, tf.Tree.compact(), imp, nil
}

// Predict writes the most probable class code of each row of X into dst
// (allocated when its length is not the number of rows) and returns it.
// Ties go to the lowest code. It panics if the model is not fitted or X
// has the wrong number of columns.
func (m *DecisionTreeClassifier) Predict(dst []float64, X mat.Matrix) []float64 {
	x := treePredictInput("DecisionTreeClassifier", X, m.NFeatures, len(m.Tree.Feature))
	treeCheck("DecisionTreeClassifier", []Tree{m.Tree}, m.NFeatures, m.NClasses)
	r, _ := x.Dims()
	dst = predictDst(dst, r)
	for i := range r {
		dst[i] = float64(treeArgmax(m.Tree.NodeValue(m.Tree.Leaf(x.RawRowView(i)))))
	}
	return dst
}

// PredictProba writes class probabilities (the class fractions among the
// training rows of the leaf each row reaches), one row per row of X and
// one column per class, into dst (allocated unless it is r×NumClasses or
// empty) and returns it. It panics as Predict does.
func (m *DecisionTreeClassifier) PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	x := treePredictInput("DecisionTreeClassifier", X, m.NFeatures, len(m.Tree.Feature))
	treeCheck("DecisionTreeClassifier", []Tree{m.Tree}, m.NFeatures, m.NClasses)
	r, _ := x.Dims()
	dst = denseDst(dst, r, m.NClasses)
	for i := range r {
		row := dst.RawRowView(i)
		copy(row, m.Tree.NodeValue(m.Tree.Leaf(x.RawRowView(i))))
		treeNormalize(row)
	}
	return dst
}

// FeatureImportances returns each feature's share of the total impurity
// decrease weighted by rows (scikit-learn's feature_importances_), or nil
// before Fit.
func (m *DecisionTreeClassifier) FeatureImportances() []float64 {
	return slices.Clone(m.Importances)
}

// DecisionTreeRegressor is a regression tree, scikit-learn's
// DecisionTreeRegressor with the squared_error criterion: each node split
// where the sum of squared deviations from the children's means drops
// most; a leaf predicts the mean target of its training rows. Splits and
// Seed are as for DecisionTreeClassifier.
type DecisionTreeRegressor struct {
	Criterion       string `json:"criterion" ml:"param"`         // "squared_error"
	MaxDepth        int    `json:"max_depth" ml:"param"`         // 0: unlimited
	MinSamplesSplit int    `json:"min_samples_split" ml:"param"` // rows a node needs to be split
	MinSamplesLeaf  int    `json:"min_samples_leaf" ml:"param"`  // rows each child needs
	MaxFeatures     string `json:"max_features" ml:"param"`      // "" or "all", "sqrt", "log2", a count "5" or a fraction "0.5"
	MaxBins         int    `json:"max_bins" ml:"param"`          // 0: exact splits; else bins per feature above 5,000 rows
	Seed            uint64 `json:"seed" ml:"param"`

	NFeatures   int       `json:"n_features_in"`
	Tree        Tree      `json:"tree"`
	Importances []float64 `json:"feature_importances"`
}

var (
	_ Estimator   = (*DecisionTreeRegressor)(nil)
	_ Importancer = (*DecisionTreeRegressor)(nil)
)

// NewDecisionTreeRegressor returns a tree with scikit-learn's defaults:
// criterion squared_error, unlimited depth, min_samples_split 2,
// min_samples_leaf 1, all features.
func NewDecisionTreeRegressor() *DecisionTreeRegressor {
	return &DecisionTreeRegressor{Criterion: "squared_error", MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "all", MaxBins: TreeDefaultMaxBins}
}

// SetParams sets hyperparameters by scikit-learn name (criterion,
// max_depth, min_samples_split, min_samples_leaf, max_features, max_bins, seed); see
// SetParams. max_features may be a number: an integer counts features, a
// float is a fraction of them, as in scikit-learn.
func (m *DecisionTreeRegressor) SetParams(params map[string]any) error {
	return SetParams(m, treeHyper(params))
}

// Fit grows the tree on rows of X with targets y. It panics if len(y)
// differs from the rows of X, and returns ErrEmpty for no rows, ErrNaN for
// a non-finite value, and an error for an out-of-range hyperparameter.
func (m *DecisionTreeRegressor) Fit(X mat.Matrix, y []float64) error {
	in, tree, imp, err := fitDecisionTree("DecisionTreeRegressor", false, m.Criterion, m.MaxDepth, m.MinSamplesSplit, m.MinSamplesLeaf, m.MaxFeatures, m.MaxBins, m.Seed, X, y)
	if err != nil {
		return err
	}
	m.NFeatures, m.Tree, m.Importances = in.d, tree, imp
	return nil
}

// Predict writes the prediction for each row of X (the mean training
// target of the leaf it reaches) into dst (allocated when its length is
// not the number of rows) and returns it. It panics if the model is not
// fitted or X has the wrong number of columns.
func (m *DecisionTreeRegressor) Predict(dst []float64, X mat.Matrix) []float64 {
	x := treePredictInput("DecisionTreeRegressor", X, m.NFeatures, len(m.Tree.Feature))
	treeCheck("DecisionTreeRegressor", []Tree{m.Tree}, m.NFeatures, 1)
	r, _ := x.Dims()
	dst = predictDst(dst, r)
	for i := range r {
		dst[i] = m.Tree.Value[m.Tree.Leaf(x.RawRowView(i))]
	}
	return dst
}

// FeatureImportances returns each feature's share of the total decrease
// in squared error, or nil before Fit.
func (m *DecisionTreeRegressor) FeatureImportances() []float64 {
	return slices.Clone(m.Importances)
}

// treeGrowOne bins the inputs and grows one tree on all rows.
func treeGrowOne(name string, p treeParams, in *treeIn, seed uint64) (*treeFit, error) {
	bins, err := newTreeBins(in.x, in.n, in.d, in.stride, p.maxBins)
	if err != nil {
		return nil, fmt.Errorf("ml: %s: %w", name, err)
	}
	t := newTreeBuilder(p, bins, in.yc, in.y)
	samples := make([]int32, in.n)
	for i := range samples {
		samples[i] = int32(i)
	}
	return t.grow(samples, nil, rand.New(rand.NewPCG(seed, treeStream))), nil
}

// treeStream is the PCG stream of a single tree's random draws; ensemble
// members use their index.
const treeStream = 0x7472656573
