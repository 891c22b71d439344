// Package compare is the workbench's Compare screen: runs side by side,
// transposed as `sluice compare` prints them (runs are columns, keys are
// rows): the parameters that differ (a shows all), every metric with its
// delta and the best marked, the first stage whose fingerprint differs,
// a bar chart of one metric across the runs and a line chart of it over
// the pipeline's run history.
package compare
