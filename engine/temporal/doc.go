// Package temporal runs sluice pipelines on Temporal: the stages of a run
// execute as activities inside `sluice worker` processes on any number of
// machines, ordered by a deterministic workflow, with their outputs in a
// shared artifact store.
//
// # Overview
//
// A run has three parts. The client (Runner, behind `sluice run --engine
// temporal`) validates the pipeline file, decides with the local stage
// cache which stages an earlier result stands in for (engine.Executor.Track,
// the code a local run decides with), records the run in the local store
// and starts the workflow PipelineWorkflow (registered as "sluice.pipeline")
// with a RunInput: the pipeline file's text, its folder, the --set values,
// the logical time and the stage graph it decided. The workflow orders the
// stages: a stage starts when its inputs have finished, independent stages
// run at once, a failed stage skips its dependents while independent
// branches finish. It does no I/O: every stage runs as the activity
// "sluice.stage" (Activities.Stage), which rebuilds the plan from the file's
// text with the worker's catalog, reads its inputs from the artifact store,
// runs the stage with the executor's own code (engine.Executor.RunStage),
// writes its output to the artifact store and returns a StageResult: keys,
// metrics, a bounded preview and log, never tables or models. While the
// workflow runs the client polls it (a query for the stages finished, the
// activities' heartbeats for progress and the latest log lines) and feeds
// what it learns to the same events and store records a local run makes.
//
// A workflow started without a stage graph (by a Temporal Schedule) plans
// itself first with the activity "sluice.plan" on a worker.
//
// # Fan-out
//
// A stage whose type splits its work into units (engine.FanOut:
// grid_search, random_search, cross_validate, one unit per candidate ×
// fold fit) runs in steps instead of as one activity (runFanOut): the
// activity "sluice.units" lists the units; child workflows
// "sluice.chunk" of at most 100 units each run them as activities
// "sluice.unit" (one unit each, or a few when a stage has more than 500,
// so it makes about 500 activities) on any worker, reporting finished
// units to the run's
// workflow at most once a second (the signal "sluice.units/STAGE"); the
// activity "sluice.reduce" ranks the results and refits the best, writing
// the stage's output as "sluice.stage" would. The client reads the
// stage's progress and its leaderboard's lines with the query
// "sluice.fanout/STAGE". A worker decodes a stage's input and validates
// its pipeline once per process, not once per unit. A cancelled run
// keeps the lines of the units that finished; the stage's timeout bounds
// the whole fan-out.
//
// # Retries, timeouts and workers that die
//
// A stage's `retries: N` is the activity's retry policy (N+1 attempts for
// errors of the stage, with the local executor's backoff; a few more for
// a worker that stopped heartbeating); its `timeout:` bounds each attempt
// on the worker, and Temporal's start-to-close timeout, a little longer,
// is the backstop for a worker that hangs. Every attempt heartbeats about
// once a second; an attempt whose worker falls silent for the heartbeat
// timeout is retried elsewhere. Outputs are content-addressed and written
// atomically, so an attempt that dies mid-write leaves no torn artifact.
//
// # Stage cache across machines
//
// When the artifact store can name blobs (a RefStore: PutRef/GetRef), a
// stage that succeeded stores its result under its fingerprint, and a later
// run on any machine whose stage has the same fingerprint, and that nothing
// forces to run, takes that result instead of running (status cached).
//
// # Caveats
//
// Workers resolve the pipeline's relative paths against the pipeline's
// folder as the client names it: input files must be at the same path on
// every worker (a shared folder), and the artifact store must be one store
// all of them and the client reach. The workflow's code must stay
// deterministic: a change to the order of its commands fails the replay
// test (testdata/*.json) before it fails a running workflow.
package temporal
