package stages

import "github.com/sluice-ml/sluice/engine"

// The metrics the ML stages report, each declared once with which way it
// improves (engine.Metric): Compare marks the best run by these, never by
// a metric's name. The scores follow scikit-learn's convention (a scorer
// is higher-is-better); the raw losses and errors are reported as they
// are, lower-is-better. TestEveryReportedMetricIsDeclared runs the stages
// and checks each metric they report against these lists.

var splitMetrics = []engine.Metric{
	{Name: "train_rows", Better: engine.Unranked, Doc: "rows in the training set"},
	{Name: "test_rows", Better: engine.Unranked, Doc: "rows held out for testing"},
}

// fitMetrics are a train stage's headline scores on the held-out rows.
var fitMetrics = []engine.Metric{
	{Name: "accuracy", Better: engine.Higher, Doc: "share of test rows classified right"},
	{Name: "f1_macro", Better: engine.Higher, Doc: "F1 averaged over classes"},
	{Name: "r2", Better: engine.Higher, Doc: "coefficient of determination on the test rows"},
	{Name: "rmse", Better: engine.Lower, Doc: "root mean squared error on the test rows"},
	{Name: "inertia", Better: engine.Lower, Doc: "k-means: sum of squared distances to the nearest centre"},
	{Name: "ari", Better: engine.Higher, Doc: "k-means: adjusted Rand index against the target"},
}

// searchMetrics are a tuning stage's: the refitted best model's scores
// and the search's own.
var searchMetrics = append(append([]engine.Metric(nil), fitMetrics...),
	engine.Metric{Name: "best_cv_score", Better: engine.Higher, Doc: "the best candidate's mean cross-validation score (a scorer: higher is better)"},
	engine.Metric{Name: "candidates", Better: engine.Unranked, Doc: "parameter combinations tried"},
	engine.Metric{Name: "best_*", Better: engine.Unranked, Doc: "the best candidate's value of a numeric parameter"},
)

var evaluateMetrics = []engine.Metric{
	{Name: "accuracy", Better: engine.Higher, Doc: "share of test rows classified right"},
	{Name: "precision_macro", Better: engine.Higher, Doc: "precision averaged over classes"},
	{Name: "recall_macro", Better: engine.Higher, Doc: "recall averaged over classes"},
	{Name: "f1_macro", Better: engine.Higher, Doc: "F1 averaged over classes"},
	{Name: "roc_auc", Better: engine.Higher, Doc: "area under the ROC curve (two classes)"},
	{Name: "roc_auc_ovr", Better: engine.Higher, Doc: "mean one-vs-rest ROC AUC (several classes)"},
	{Name: "log_loss", Better: engine.Lower, Doc: "cross-entropy of the predicted probabilities"},
	{Name: "r2", Better: engine.Higher, Doc: "coefficient of determination"},
	{Name: "rmse", Better: engine.Lower, Doc: "root mean squared error"},
	{Name: "mae", Better: engine.Lower, Doc: "mean absolute error"},
	{Name: "residual_mean", Better: engine.Unranked, Doc: "mean residual (best near zero, either side)"},
	{Name: "residual_std", Better: engine.Lower, Doc: "spread of the residuals"},
	{Name: "inertia", Better: engine.Lower, Doc: "k-means: sum of squared distances to the nearest centre"},
	{Name: "ari", Better: engine.Higher, Doc: "k-means: adjusted Rand index against the target"},
}

// crossValidateMetrics: the scorer's value per fold, their mean and
// spread.
var crossValidateMetrics = []engine.Metric{
	{Name: "fold*", Better: engine.Higher, Doc: "the score on one fold (a scorer: higher is better)"},
	{Name: "mean", Better: engine.Higher, Doc: "the mean score over the folds"},
	{Name: "std", Better: engine.Lower, Doc: "the spread of the fold scores"},
}

// withMetrics sets t's metric declarations and returns t.
func withMetrics(t *engine.StageType, m []engine.Metric) *engine.StageType {
	t.Metrics = m
	return t
}
