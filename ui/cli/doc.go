// Package cli is sluice's command line: the headless commands (run,
// validate, stages, runs, show, compare, export, predict) and the wiring
// that opens the store and starts the workbench.
//
// # Overview
//
// Main parses arguments with cobra and returns the process exit status:
// 0 on success, 1 when a pipeline ran and failed (or was cancelled), 2
// for bad usage or an invalid file. Configuration is resolved once, flags
// over environment (SLUICE_DB) over defaults, into a Config that is
// passed on as plain values.
//
// Human output goes to stdout; progress goes to stderr, as bars when
// stderr is a terminal and as plain lines otherwise. Every listing
// command has --json for scripts.
//
// # Errors
//
// Errors are printed to stderr once, by Main, prefixed "sluice: ". A
// located problem in a file is printed as file:line:col: message.
package cli
