// Package stages is sluice's stage catalog: every stage type a pipeline
// file can use, declared once with its parameters, and the adapters that
// run them on engine/frame tables and the ml library. It is the only
// package that imports both engine and ml.
//
// # Overview
//
// Registry returns the catalog. Each stage type is a *engine.StageType:
// name, group, the kind of data it takes and gives, its parameters (type,
// default, range, one-line doc) and a Run func; many also have a Check
// func that validates parameters against the columns flowing in before
// anything runs (expressions are compiled and type-checked there).
//
// # Determinism
//
// A stage draws every random choice from StageContext.Seed, which the
// engine derives from the pipeline seed and the stage id.
//
// # Errors
//
// Run funcs return errors that say what and where (file:line:col for
// files read, the column and row for bad values); the engine marks the
// stage failed and retries it as the pipeline file says.
package stages
