// Package report reads what a run's evaluation and tuning stages kept
// (the "report" and "search" artifacts) into one document, and renders
// it as text for `sluice report` and as terminal charts for the
// workbench's report view.
//
// # Overview
//
// Load gathers, for a run (or one of its stages), every report: the
// metrics, the confusion matrix, per-class ROC and precision-recall
// curves of classifiers, residuals of regressors (points and a
// histogram), feature importances, and the leaderboard of each tuning
// stage. Text writes it for a terminal or a log; Charts draws it with
// ntcharts in a given width and height.
//
// # Errors
//
// Load returns an error wrapping engine.ErrNotFound when the run has no
// report (or the stage named is not one that keeps one).
package report
