// Package itest holds the tests of sluice on a real Temporal server: an
// in-process server (go.temporal.io/server/temporaltest, no network
// beyond the loopback), in-process workers and `sluice worker` child
// processes built from this tree, and the `sluice` command line against
// them. It is a module of its own so that the server's large dependency
// tree stays out of the main module: run it with `make temporal-test`
// (cd engine/temporal/itest && go test ./...).
//
// harness_test.go starts the server once for the package and gives each
// test its own task queue, folder, run store and artifact store; the test
// files are one per group of cases.
package itest
