// Package model is the workbench's Model screen: the fitted models of
// recent runs, and for the one selected its chain, parameters, metrics,
// confusion matrix, feature importances (a bar chart) and SHA-256; e
// exports it to a path you type, the same file `sluice export` writes.
package model
