// Package store keeps sluice's runs in one bbolt file, and the bytes of
// their artifacts in an artifact store beside it (Options.Artifacts; by
// default the folder "artifacts" next to the file, see store/artifacts):
// each run's record,
// its stages' logs, previews of their table outputs, and the artifacts
// they kept (fitted models, reports).
//
// A *DB records runs as the executor goes (it implements
// engine.Recorder) and answers the questions of the workbench and the
// commands: which runs there are (Runs, Latest, Count), what one run did
// (Run), and what its stages logged, produced and kept (Logs, Preview,
// Artifact, Artifacts).
//
//	db, err := store.Open(".sluice/sluice.db", nil)
//	if err != nil { … }
//	defer db.Close()
//	ex := &engine.Executor{Recorder: db}
//
// # Overview
//
// Runs are numbered 1, 2, 3… in a store by the runs bucket's sequence.
// Every key begins with the run number as 8 bytes big-endian, so cursor
// order is creation order and a run's entries in any bucket are one key
// range. Stage ids cannot contain a NUL byte, which ends the stage part
// of a key. The buckets:
//
//	meta       "schema" → schema version (decimal text); "created" → RFC 3339 time
//	runs       run → {"v":1,"run":engine.Run}: the pipeline file as run and its hash,
//	           parameters after overrides, data fingerprints, every stage's status,
//	           timings, metrics and fingerprint
//	summaries  run → {"v":1, RunSummary…}: what a list of runs shows
//	pipelines  pipeline+NUL+run → "": an index of each pipeline's runs
//	active     run → "": the runs whose status is running
//	logs       run → next line number (8 bytes); run+stage+NUL+line (8 bytes) →
//	           {"t":time,"s":stream,"x":text,"f":fold}; line numbers count over the whole run
//	previews   run+stage → {"v":1,"preview":engine.Preview}
//	artinfo    run+stage+NUL+name → {"v":1,"info":engine.ArtifactInfo}: a reference
//	           (kind, format, SHA-256, size); the bytes live in the artifact store
//	trash      run → {"v":1,"deleted":time,"summary":…}: runs Delete took out of
//	           the lists (summaries, pipelines, stagecache) until GC or Restore
//	stagecache fingerprint (64 hex) + run + stage → "": the stage cache's index of
//	           results (status succeeded or cached), written with the record that
//	           finishes the stage and removed with the run
//
// The summaries bucket lets Runs list thousands of runs without reading
// their full records, and the pipelines index lets it list one
// pipeline's runs (and Latest find its newest) without reading the
// others; the active bucket lets Open find runs left running
// without a scan. The records carry a version ("v") of their own beside
// the schema version, so a later sluice can migrate them.
//
// # Concurrency
//
// bbolt locks its file with flock: exclusively for a writer, shared for
// readers, for as long as the file is open. To let two sluice processes
// use one store at once (the workbench polling, `sluice run` writing in
// another terminal) no process keeps the file open between operations:
// every method opens the file, runs one transaction and closes it.
// Reads open it read-only under the shared lock, writes read-write
// under the exclusive one. An open that finds the lock taken waits
// Options.Timeout, then retries for up to Options.Retry before failing
// with ErrBusy, so nothing hangs. A running pipeline's writes come in a
// few transactions a second (engine.Executor batches them), each short.
//
// Within one process a *DB is safe for concurrent use: its own readers
// share the file and its writers take turns, without polling the lock.
// Open a path once per process and share the *DB; two *DB of one path
// in one process still work, but wait on each other through the lock.
//
// A poller (the workbench) can call Generation, which grows with every
// committed write by any process, and read the runs again only when it
// has changed.
//
// Every write transaction is fsynced by bbolt when it commits, so a run
// is durable once BeginRun or RecordRun returns.
//
// A run left running by a process that died is marked interrupted (with
// its unfinished stages) by the next Open, or by MarkInterrupted. A
// process is taken for dead when it ran on this host and its PID no
// longer exists, or when its run's heartbeat (which the executor
// refreshes a few times a second) is older than Options.StaleAfter.
//
// # Errors
//
// Errors carry short context ("record run 7: …") and wrap a sentinel
// where the caller may want to act on the cause: engine.ErrNotFound for
// a run, preview or artifact that is not there; ErrNotStore for a file
// that is not a sluice store (not bbolt at all, or bbolt without the
// meta bucket); ErrSchema for a store written by a newer sluice;
// ErrBusy when another process holds the file too long; ErrClosed and
// ErrReadOnly for calls the DB cannot serve. The command line treats
// ErrNotStore and ErrSchema as bad usage.
//
// # Caveats
//
// Opening the file for every operation costs about a hundred microseconds
// (and a write costs its fsyncs); callers poll at human rates, not in
// tight loops.
//
// A process that is alive but stopped (suspended, say) for longer than
// Options.StaleAfter has its run marked interrupted; if it resumes, its
// next RecordRun overwrites the mark with the run as it is.
//
// Log lines are appended, never rewritten: a RecordRun that fails
// leaves nothing behind, but the same delta recorded twice is stored
// twice.
//
// bbolt's flock is advisory and local: do not put a store on a network
// file system shared between hosts.
package store
