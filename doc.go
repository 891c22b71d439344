// Command sluice is a terminal workbench and headless runner for data and
// machine-learning pipelines: one YAML file describes a DAG that reads,
// cleans and writes tables and splits, preprocesses, fits, tunes,
// evaluates and exports models; every run is kept in a local bbolt store.
//
// Usage:
//
//	sluice [PATH...]            the workbench
//	sluice run FILE [--json]    run a pipeline headless
//	sluice --help               every command
//
// main.go only wires the signal context to ui/cli.Main; see README.md.
package main
