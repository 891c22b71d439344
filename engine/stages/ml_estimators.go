package stages

import (
	"sort"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ml"
)

// estimatorDef declares one train stage type: the ml estimator behind it
// and its hyperparameters (scikit-learn's names and defaults).
type estimatorDef struct {
	name   string
	doc    string
	task   string // classification, regression or clustering
	unit   string // what progress counts
	new    func() ml.Estimator
	params []engine.Param
}

const taskClustering = "clustering"

var (
	positive    = engine.Range(1e-12)
	nonNegative = engine.Range(0)
	one         = engine.Range(1)
)

func pC(doc string) engine.Param {
	return engine.Param{Name: "C", Type: engine.TypeFloat, Default: 1.0, Min: positive, Doc: doc}
}
func pMaxIter(d int) engine.Param {
	return engine.Param{Name: "max_iter", Type: engine.TypeInt, Default: d, Min: one, Doc: "most iterations of the solver"}
}
func pTol(d float64) engine.Param {
	return engine.Param{Name: "tol", Type: engine.TypeFloat, Default: d, Min: nonNegative, Doc: "tolerance for the stopping criterion"}
}

var pFitIntercept = engine.Param{Name: "fit_intercept", Type: engine.TypeBool, Default: true, Doc: "fit an intercept term"}
var pAlpha = engine.Param{Name: "alpha", Type: engine.TypeFloat, Default: 1.0, Min: nonNegative, Doc: "regularisation strength"}

// pMaxBins chooses a tree model's split method, as max_bins does in
// scikit-learn's HistGradientBoosting.
var pMaxBins = engine.Param{Name: "max_bins", Type: engine.TypeInt, Default: ml.TreeDefaultMaxBins, Null: 0,
	Min: nonNegative, Max: engine.Range(ml.TreeMaxBinsLimit),
	Doc: "above 5,000 rows, cut each feature into this many bins (null or 0: exact splits)"}

func treeParams(criteria []string, maxFeatures string) []engine.Param {
	var ps []engine.Param
	if len(criteria) > 0 {
		ps = append(ps, engine.Param{Name: "criterion", Type: engine.TypeEnum, Enum: criteria, Default: criteria[0], Doc: "split quality measure"})
	}
	return append(ps,
		engine.Param{Name: "max_depth", Type: engine.TypeInt, Default: 0, Min: nonNegative, Doc: "deepest a tree grows (0: unlimited)"},
		engine.Param{Name: "min_samples_split", Type: engine.TypeInt, Default: 2, Min: engine.Range(2), Doc: "rows a node needs to be split"},
		engine.Param{Name: "min_samples_leaf", Type: engine.TypeInt, Default: 1, Min: one, Doc: "rows each leaf needs"},
		engine.Param{Name: "max_features", Type: engine.TypeString, Scalars: true, Default: maxFeatures, Doc: "features tried per split: sqrt, log2, all, a count or a fraction"},
		pMaxBins,
	)
}

func boostParams() []engine.Param {
	return []engine.Param{
		{Name: "n_estimators", Type: engine.TypeInt, Default: 100, Min: one, Doc: "boosting stages"},
		{Name: "learning_rate", Type: engine.TypeFloat, Default: 0.1, Min: positive, Doc: "shrinks each tree's contribution"},
		{Name: "max_depth", Type: engine.TypeInt, Default: 3, Min: one, Doc: "depth of each tree"},
		{Name: "subsample", Type: engine.TypeFloat, Default: 1.0, Min: positive, Max: engine.Range(1), Doc: "share of rows each tree sees"},
		{Name: "min_samples_split", Type: engine.TypeInt, Default: 2, Min: engine.Range(2), Doc: "rows a node needs to be split"},
		{Name: "min_samples_leaf", Type: engine.TypeInt, Default: 1, Min: one, Doc: "rows each leaf needs"},
		pMaxBins,
	}
}

func histBoostParams() []engine.Param {
	return []engine.Param{
		{Name: "max_iter", Type: engine.TypeInt, Default: 100, Min: one, Doc: "boosting iterations (one tree, or one per class, each)"},
		{Name: "learning_rate", Type: engine.TypeFloat, Default: 0.1, Min: positive, Doc: "shrinks each tree's contribution"},
		{Name: "max_leaf_nodes", Type: engine.TypeInt, Default: 31, Min: nonNegative, Doc: "most leaves per tree, grown best first (0: unlimited)"},
		{Name: "max_depth", Type: engine.TypeInt, Default: 0, Min: nonNegative, Doc: "deepest a tree grows (0: unlimited)"},
		{Name: "min_samples_leaf", Type: engine.TypeInt, Default: 20, Min: one, Doc: "rows each leaf needs"},
		{Name: "l2_regularization", Type: engine.TypeFloat, Default: 0.0, Min: nonNegative, Doc: "L2 penalty on leaf values"},
		{Name: "max_bins", Type: engine.TypeInt, Default: 255, Min: engine.Range(2), Max: engine.Range(255), Doc: "bins per feature (missing values get one more)"},
		{Name: "early_stopping", Type: engine.TypeEnum, Enum: []string{"auto", "true", "false"}, Default: "auto", Doc: "stop when the validation loss stops improving (auto: above 10,000 rows)"},
		{Name: "validation_fraction", Type: engine.TypeFloat, Default: 0.1, Min: positive, Max: engine.Range(0.999), Doc: "share of rows held out for early stopping"},
		{Name: "n_iter_no_change", Type: engine.TypeInt, Default: 10, Min: one, Doc: "iterations without improvement before early stopping"},
		{Name: "tol", Type: engine.TypeFloat, Default: 1e-7, Min: nonNegative, Doc: "improvement that counts for early stopping"},
	}
}

func forestParams(criteria []string, maxFeatures string) []engine.Param {
	ps := []engine.Param{{Name: "n_estimators", Type: engine.TypeInt, Default: 100, Min: one, Doc: "trees in the forest"}}
	ps = append(ps, treeParams(criteria, maxFeatures)...)
	return append(ps, engine.Param{Name: "bootstrap", Type: engine.TypeBool, Default: true, Doc: "fit each tree on a bootstrap sample"})
}

func knnParams() []engine.Param {
	return []engine.Param{
		{Name: "n_neighbors", Type: engine.TypeInt, Default: 5, Min: one, Doc: "neighbours that vote"},
		{Name: "weights", Type: engine.TypeEnum, Enum: []string{"uniform", "distance"}, Default: "uniform", Doc: "how neighbours' votes are weighted"},
	}
}

// estimators is the train stage catalog.
var estimators = []*estimatorDef{
	{name: "logistic_regression", doc: "multinomial logistic regression with L2 penalty (lbfgs)", task: taskClassification, unit: "iterations",
		new:    func() ml.Estimator { return ml.NewLogisticRegression() },
		params: []engine.Param{pC("inverse regularisation strength"), pMaxIter(100), pTol(1e-4), pFitIntercept}},
	{name: "linear_regression", doc: "ordinary least squares", task: taskRegression,
		new:    func() ml.Estimator { return ml.NewLinearRegression() },
		params: []engine.Param{pFitIntercept}},
	{name: "ridge", doc: "least squares with L2 penalty", task: taskRegression,
		new:    func() ml.Estimator { return ml.NewRidge() },
		params: []engine.Param{pAlpha, pFitIntercept}},
	{name: "lasso", doc: "least squares with L1 penalty (coordinate descent)", task: taskRegression, unit: "iterations",
		new:    func() ml.Estimator { return ml.NewLasso() },
		params: []engine.Param{pAlpha, pMaxIter(1000), pTol(1e-4), pFitIntercept}},
	{name: "elastic_net", doc: "least squares with L1 and L2 penalties (coordinate descent)", task: taskRegression, unit: "iterations",
		new: func() ml.Estimator { return ml.NewElasticNet() },
		params: []engine.Param{pAlpha,
			{Name: "l1_ratio", Type: engine.TypeFloat, Default: 0.5, Min: nonNegative, Max: engine.Range(1), Doc: "share of the penalty that is L1 (1: lasso, 0: ridge)"},
			pMaxIter(1000), pTol(1e-4), pFitIntercept}},
	{name: "knn_classifier", doc: "k-nearest neighbours vote", task: taskClassification,
		new:    func() ml.Estimator { return ml.NewKNeighborsClassifier() },
		params: knnParams()},
	{name: "knn_regressor", doc: "k-nearest neighbours average", task: taskRegression,
		new:    func() ml.Estimator { return ml.NewKNeighborsRegressor() },
		params: knnParams()},
	{name: "gaussian_nb", doc: "Gaussian naive Bayes", task: taskClassification,
		new: func() ml.Estimator { return ml.NewGaussianNB() },
		params: []engine.Param{{Name: "var_smoothing", Type: engine.TypeFloat, Default: 1e-9, Min: nonNegative,
			Doc: "share of the largest variance added to every variance"}}},
	{name: "decision_tree_classifier", doc: "a CART classification tree", task: taskClassification,
		new:    func() ml.Estimator { return ml.NewDecisionTreeClassifier() },
		params: treeParams([]string{"gini", "entropy"}, "all")},
	{name: "decision_tree_regressor", doc: "a CART regression tree", task: taskRegression,
		new:    func() ml.Estimator { return ml.NewDecisionTreeRegressor() },
		params: treeParams(nil, "all")},
	{name: "random_forest_classifier", doc: "bagged classification trees, fitted on all cores", task: taskClassification, unit: "trees",
		new: func() ml.Estimator { return ml.NewRandomForestClassifier() },
		params: append(forestParams([]string{"gini", "entropy"}, "sqrt"), engine.Param{Name: "per_class_trees", Type: engine.TypeBool, Default: false,
			Doc: "with 3+ classes, grow one regression tree per class for each tree of the forest, as XGBoost's random-forest mode does (criterion gini)"})},
	{name: "random_forest_regressor", doc: "bagged regression trees, fitted on all cores", task: taskRegression, unit: "trees",
		new:    func() ml.Estimator { return ml.NewRandomForestRegressor() },
		params: forestParams(nil, "all")},
	{name: "gradient_boosting_classifier", doc: "gradient-boosted trees with log-loss", task: taskClassification, unit: "stages",
		new:    func() ml.Estimator { return ml.NewGradientBoostingClassifier() },
		params: boostParams()},
	{name: "gradient_boosting_regressor", doc: "gradient-boosted trees with squared error", task: taskRegression, unit: "stages",
		new:    func() ml.Estimator { return ml.NewGradientBoostingRegressor() },
		params: boostParams()},
	{name: "hist_gradient_boosting_classifier", doc: "histogram gradient-boosted trees with log-loss; takes missing values", task: taskClassification, unit: "iterations",
		new:    func() ml.Estimator { return ml.NewHistGradientBoostingClassifier() },
		params: histBoostParams()},
	{name: "hist_gradient_boosting_regressor", doc: "histogram gradient-boosted trees with squared error; takes missing values", task: taskRegression, unit: "iterations",
		new:    func() ml.Estimator { return ml.NewHistGradientBoostingRegressor() },
		params: histBoostParams()},
	{name: "linear_svc", doc: "linear support vector classifier (squared hinge, one-vs-rest)", task: taskClassification, unit: "iterations",
		new:    func() ml.Estimator { return ml.NewLinearSVC() },
		params: []engine.Param{pC("inverse regularisation strength"), pMaxIter(1000), pTol(1e-4), pFitIntercept}},
	{name: "kmeans", doc: "k-means clustering (k-means++ init)", task: taskClustering, unit: "runs",
		new: func() ml.Estimator { return newKMeansEstimator() },
		params: []engine.Param{
			{Name: "n_clusters", Type: engine.TypeInt, Default: 8, Min: one, Doc: "clusters to find"},
			{Name: "n_init", Type: engine.TypeInt, Default: 10, Min: one, Doc: "runs from different seeds; the best is kept"},
			pMaxIter(300), pTol(1e-4)}},
}

func estimatorByName(name string) (*estimatorDef, bool) {
	for _, e := range estimators {
		if e.name == name {
			return e, true
		}
	}
	return nil, false
}

func estimatorNames() []string {
	out := make([]string, len(estimators))
	for i, e := range estimators {
		out[i] = e.name
	}
	sort.Strings(out)
	return out
}

// newEstimator makes an estimator with params set (hyperparameters by
// their declared names) and its seed drawn from the stage seed.
func (d *estimatorDef) newEstimator(params map[string]any, seed uint64) (ml.Estimator, error) {
	m := d.new()
	set := map[string]any{}
	for _, p := range d.params {
		if v, ok := params[p.Name]; ok {
			set[p.Name] = v
		}
	}
	if name := seedParam(m); name != "" {
		set[name] = seed & (1<<53 - 1)
	}
	if err := setParams(m, set); err != nil {
		return nil, err
	}
	return m, nil
}

// seedParam is the name of the hyperparameter that seeds m's random
// draws (scikit-learn's random_state; some models call it seed), or "" for
// a model that draws nothing at random.
func seedParam(m ml.Estimator) string {
	var model any = m
	if k, ok := m.(*kmeansEstimator); ok {
		model = k.KMeans
	}
	for _, n := range ml.ParamNames(model) {
		if n == "seed" || n == "random_state" {
			return n
		}
	}
	return ""
}

func setParams(m ml.Estimator, p map[string]any) error {
	if ps, ok := m.(interface{ SetParams(map[string]any) error }); ok {
		return ps.SetParams(p)
	}
	return ml.SetParams(m, p)
}
