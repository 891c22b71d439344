// Package schedule runs pipelines on their own: when an interval of their
// schedule comes due, and when a file their trigger watches settles. It
// is the embedded, single-machine scheduler behind `sluice schedule`, and
// the planner behind `sluice backfill`.
//
// # Overview
//
// A Scheduler evaluates its pipeline files at a time (Tick): for each
// schedule it lists the intervals that ended since the last one handled
// (engine.ScheduleState.Last) and decides, per the pipeline's catchup and
// overlap, which to run; for each trigger it lists the matching files that
// have settled and whose content has not been run yet. Every decision is
// one log line. Runs go through a Runner, which the caller wires to the
// same code `sluice run` uses, so scheduled runs are validated, cached,
// recorded and reported like manual ones.
//
// An interval counts as missed when it ended more than Grace before the
// scheduler saw it: no scheduler was watching when it came due. catchup
// all runs missed intervals oldest first; latest runs only the newest due
// interval; none runs only intervals seen on time. The first time a
// pipeline is seen there is no last interval: only the newest is due.
//
// # Concurrency
//
// Schedulers sharing a store coordinate through it (a Store): taking an
// interval or a trigger file and the pipeline's lease happen in one
// transaction, so two schedulers never start the same interval, nor one
// pipeline twice at once. A lease lapses LeaseTTL after its last renewal,
// so a scheduler that died does not block a pipeline for long. One
// Scheduler runs at most one run of a pipeline at a time and any number
// of pipelines at once.
//
// # Caveats
//
// overlap cancel_running cancels runs of this scheduler only; a run held
// by another scheduler process is waited for, as with queue. Triggers are
// polled: a file is settled when its size and modification time have not
// changed for the trigger's settle time.
package schedule
