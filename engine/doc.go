// Package engine is sluice's core: the pipeline file, its validation
// against the stage catalog, the DAG, the concurrent executor and the
// events it publishes, and the records of runs.
//
// # Overview
//
// LoadSpec parses a pipeline file (YAML) keeping the line and column of
// every node; Spec.Apply sets --set overrides; Validate checks the spec
// against a Registry of stage types and returns a Plan: each stage with
// its parameters typed and defaulted, its inputs wired (needs omitted
// means the previous stage) and what validation knows of the data it
// gives (a Shape: its kind and, when known, its columns as a Schema of
// names and ColumnTypes, which the catalog fills from its tables' own
// schemas). LoadPlan does the three in one. Values themselves are opaque
// to the engine (Value: kind, encode, preview): it imports no table or
// model code.
//
// An Executor runs a Plan. Stages whose inputs are done run at once, up
// to MaxParallel; each gets a StageContext with its parameters, inputs,
// a seed derived from the pipeline seed and its id (StageSeed), and ways
// to log and report progress. A failed attempt is retried with
// exponential backoff as the stage's retries say; a stage that still
// fails fails the run and skips its dependents, while independent
// branches finish.
//
// A stage type whose work splits into independent units (a search's
// candidate × fold fits) declares a FanOut: Units lists them as small
// JSON descriptors, RunUnit does one, Reduce combines the results in unit
// order. The executor runs the units on a pool of GOMAXPROCS goroutines,
// counting them as progress; a distributed engine may run them on other
// machines, and the stage's output is the same bytes either way.
//
// # Stage cache
//
// Every stage gets a fingerprint: its type, resolved parameters,
// upstream fingerprints, the SHA-256 of the bytes of every file it reads
// (not their modification times), its seed and the sluice version.
// Before anything runs, RunWith decides for every stage whether an
// earlier result with the same fingerprint stands in for running it
// (found through a Cache, which the store implements): the result must
// be a success, its artifacts present and passing their SHA-256 check,
// the files it wrote (for a stage that writes files) unchanged, and its
// output loadable if a stage that runs needs it. Such a stage is cached
// ("cached from run N"); every other stage runs with the reason recorded
// ("new", "params changed: model.C 1 → 0.05", "input changed: iris.csv",
// "upstream changed: split", "--no-cache", …). Forecast makes the same
// decisions with the same code without running anything, so a dry run
// says exactly what the run would do. A stage type declares its
// CachePolicy: a command (exec) always runs, and so do its dependents.
//
// The executor records the run through a Recorder (the store implements
// it) a few times a second and once at the end, and publishes Events on a
// Broker. Compare sets finished runs side by side.
//
// # Files
//
// WriteFileAtomic is sluice's one atomic write: a file holds its old
// content or the complete new content, never a part (a temporary file
// beside it, synced, renamed over it). WriteOutput writes a file a user
// asked for the same way, resolved under the write policy (OutputPath)
// and through an os.Root on the folder writes are confined to; model files
// and the workbench's pipeline files (WriteBytesAtomic) go through
// WriteFileAtomic too.
// CleanStaleTemps removes the temporary files of writers that were killed
// (TempOwner names their process).
//
// # Concurrency
//
// A Registry is read-only after start-up. One Executor may run several
// plans at once. Broker.Publish never blocks: a subscriber whose buffer is
// full misses events, and since every event is a full snapshot of what it
// reports, the next one puts it right. Cancelling the context given to
// Executor.Run stops the run within Executor.Grace (one second) and marks
// unfinished stages cancelled; a stage that ignores its context is
// abandoned.
//
// # Errors
//
// Validation returns an ErrorList of *SpecError, each located at
// file:line:col and wrapping one of the sentinels (ErrUnknownStage,
// ErrUnknownParam, ErrCycle, ErrMissingNeed, ErrWiring, ErrNoFile,
// ErrInvalid, ErrSyntax), so callers test with errors.Is. A stage type's
// Check blames a parameter with a *ParamError. Run returns an error only
// when the Recorder fails; a failing pipeline is a Run with
// StatusFailed.
//
// # Caveats
//
// Status, Kind and EventKind numbers are persisted; they never change.
// ColumnType's numbers and names are those of the catalog's column types,
// persisted with models: they never change either.
// Panics in a stage are recovered and fail that stage with the stack in
// its log.
package engine
