// Package ml is sluice's numeric library: preprocessing, supervised and
// unsupervised models, metrics and model selection, built on gonum and
// following scikit-learn's names, defaults and results.
//
// # Overview
//
// Preprocessors implement Transformer (Fit on training rows, Transform
// any rows). Estimators implement Estimator (Fit, Predict with the
// destination first as gonum does); classifiers add PredictProba. Class
// labels are codes 0..k-1 carried as float64; callers map their own
// labels to codes.
//
// Every model is a struct whose exported fields are its hyperparameters
// and learned values, so encoding/json serialises it completely and the
// same fit gives the same bytes.
//
// # Model selection
//
// TrainTestSplit, KFold and StratifiedKFold make index sets (the
// stratified folds without shuffling are scikit-learn's exactly);
// CrossValScore, GridSearch and RandomSearch fit candidates made by a
// Factory on each fold, score them with a Scorer named as in scikit-learn
// (ScorerFor), report every candidate's mean and population standard
// deviation, and refit the best on all rows. A Pipeline of Transformers
// and an Estimator refits its preprocessing inside every fold.
//
// # The L-BFGS solver
//
// LogisticRegression is fitted by a limited-memory BFGS written in this
// package (lbfgs.go): the two-loop recursion over the last 10 step and
// gradient-change pairs (scipy's maxcor), a strong-Wolfe line search by
// bracketing and zoom with safeguarded cubic interpolation (Nocedal and
// Wright, Numerical Optimization, algorithms 3.5 and 3.6) of at most 20
// evaluations (scipy's maxls), a restart along the gradient when the
// history stops giving a descent direction, and the stopping rule of
// scipy's L-BFGS-B, which scikit-learn's LogisticRegression(solver=
// "lbfgs") calls without bounds: the largest gradient component at most
// Tol (scikit-learn passes its tol as gtol), or a relative decrease of the
// objective of at most 2.2e-9 (scipy's default ftol, factr 1e7 times
// machine epsilon). The objective, its gradient and the stopping rule are
// scikit-learn's; the line search is not scipy's (L-BFGS-B uses the
// Moré–Thuente search), so the iterates need not be scipy's step by step;
// the coefficients agree with scikit-learn's to the tolerance
// TestLearnedValues pins.
//
// gonum/optimize's LBFGS stops elsewhere by default (a bisection line
// search, 15 pairs, the gradient norm below 1e-12, or the best value not
// improving by 1e-10 in 100 iterations, and no relative-decrease test).
// Set up alike (10 pairs, its Moré–Thuente search, the same gradient test,
// a Converger for the relative decrease, and a cache so that its separate
// value and gradient calls cost one evaluation), it stops at the same
// point: TestLBFGSAgainstGonum fits the reference splits with both, and
// the objectives agree to 1e-6 relative and the weights to 1e-3 (2e-7 on
// iris, 8e-4 on digits' 650 weights) with the same number of evaluations
// give or take four, and BenchmarkLBFGS spends the same CPU time per fit
// in either. It is kept written here because switching gains neither
// speed nor accuracy, would change fitted models in their last digits
// (and so their bytes), and needs that adapter to reach the same place.
//
// # Progress and cancellation
//
// ml knows no context. Long fits (iterative solvers, forests, boosting,
// k-means, searches) take a Progress hook through SetProgress, called with
// (done, total) per iteration, tree, stage, run or fit; when the hook
// returns an error the fit stops promptly and returns it wrapped. The
// stage adapters pass a hook that reports progress and returns ctx.Err().
//
// # Concurrency
//
// A model is not safe for concurrent Fit. Predict on a fitted model is
// safe for concurrent use. Random forests fit trees on all cores; their
// result does not depend on the number of cores.
//
// # Errors
//
// Caller bugs (shape or length mismatches, predicting before fitting)
// panic with an "ml: " prefix. Problems in the data (NaN values, one
// class only, a singular system, no convergence) are returned as errors
// saying what and where.
//
// # Determinism
//
// Every random choice comes from a seed the caller gives (a Seed field);
// the same seed and data give bit-identical learned values.
package ml
