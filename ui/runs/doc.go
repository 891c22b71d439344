// Package runs is the workbench's Runs screen: the history of runs as a
// table, filtered with /, marked with space for comparison, and stepped
// into (enter) to see a run's stages, parameters, metrics, data previews
// and logs; / there filters the stages with the same query language.
package runs
