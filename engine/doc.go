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
// gives (a Shape: kind and columns). LoadPlan does the three in one.
//
// An Executor runs a Plan. Stages whose inputs are done run at once, up
// to MaxParallel; each gets a StageContext with its parameters, inputs,
// a seed derived from the pipeline seed and its id (StageSeed), and ways
// to log and report progress. A failed attempt is retried with
// exponential backoff as the stage's retries say; a stage that still
// fails fails the run and skips its dependents, while independent
// branches finish. Every stage gets a fingerprint (its type, resolved
// parameters, upstream fingerprints, the content of the files it reads
// and the sluice version), the key of the coming stage cache.
//
// The executor records the run through a Recorder (the store implements
// it) a few times a second and once at the end, and publishes Events on a
// Broker. Compare sets finished runs side by side.
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
// Panics in a stage are recovered and fail that stage with the stack in
// its log.
package engine
