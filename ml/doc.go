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
