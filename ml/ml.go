package ml

import "gonum.org/v1/gonum/mat"

// Progress is the optional hook long fits call as they go: done out of
// total units (iterations, trees, folds, candidates). A non-nil error
// returned by the hook stops the fit, which returns that error wrapped.
type Progress func(done, total int) error

// Estimator is a supervised model: fitted on rows of X with targets y,
// it predicts one value per row. Classifiers take and give class codes
// 0..k-1 as float64; regressors take and give real values.
//
// Fit returns an error for a problem in the data (NaN, one class only, a
// singular system, no convergence) and panics with an "ml: " prefix on a
// caller bug (len(y) != rows of X). Predict writes into dst when it has
// the right length, allocating otherwise, and returns it.
type Estimator interface {
	Fit(X mat.Matrix, y []float64) error
	Predict(dst []float64, X mat.Matrix) []float64
}

// Classifier is an Estimator whose predictions are class codes and that
// gives class probabilities, one column per class code.
type Classifier interface {
	Estimator
	PredictProba(dst *mat.Dense, X mat.Matrix) *mat.Dense
	NumClasses() int
}

// Transformer is a preprocessing step: fitted on training rows only,
// then applied to any rows with the same columns.
type Transformer interface {
	Fit(X mat.Matrix) error
	Transform(dst *mat.Dense, X mat.Matrix) *mat.Dense
}

// Importancer is a model that can say how much each feature mattered.
// The importances are non-negative and sum to 1 (or are all zero).
type Importancer interface {
	FeatureImportances() []float64
}

// MissingValuer is an estimator that takes NaN in X as a missing value
// (in Fit and in prediction) when TakesMissing is true.
type MissingValuer interface {
	TakesMissing() bool
}

// Progressor is an estimator that accepts a progress hook before Fit.
type Progressor interface {
	SetProgress(p Progress)
}

// Factory makes a fresh, unfitted estimator from named hyperparameters
// (scikit-learn's names). It is how model selection builds candidates
// without knowing the concrete types; it returns an error for an unknown
// name or an out-of-range value.
type Factory func(params map[string]any) (Estimator, error)
