// Package compare is the workbench's Compare screen: runs side by side,
// transposed as `sluice compare` prints them (runs are columns, keys are
// rows): the parameters that differ (a shows all), every metric with its
// delta and the best marked, the first stage whose fingerprint differs,
// a bar chart of one metric across the runs and a line chart of it over
// the pipeline's run history. v puts in their place one curve per run
// from each run's evaluation report: the ROC or precision-recall curve
// of a chosen class for classifiers, the residual distribution for
// regressors.
package compare
