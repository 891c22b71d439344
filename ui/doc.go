// Package ui is sluice's terminal workbench, built with Bubble Tea,
// Bubbles, Lip Gloss, Huh and ntcharts: what `sluice [PATH...]` opens to
// compose pipelines, watch them run, step through the runs, compare their
// scores and export the models they fitted.
//
//	err := ui.Run(ctx, ui.Deps{Paths: files, Registry: stages.Registry(), Store: db, Recorder: db, Models: models})
//
// # Overview
//
// The root Model owns five screens, one package each (as gh-dash lays out
// its sections): pipelines (the files and the composer), runview (one run
// live), runs (the history table and a run's details), compare and model.
// Keys 1–5 and tab switch screens, esc goes back, ? lists every key, q
// quits (asking first while a run started here is live). Each screen
// implements common.Screen; the screens share a common.Context (styles,
// clock, catalog) and talk to the root with the messages of
// ui/internal/common (RunFileMsg, WatchRunMsg, CompareMsg, …).
//
// Lists share one search: `/` reads ui/internal/query's language (the
// same `sluice runs --where` reads) through common.Filter, and keeps the
// last query that parsed while the text being typed does not. `:` opens
// a palette built from the same key maps as the help bar; choosing an
// action presses its key, so the palette and the keys cannot disagree.
// Keys that start long work ask first: r on a pipeline whose last run
// took over 10 s, d before moving runs to the trash. Deps.ReadOnly turns
// every key that runs, saves, exports or annotates into a message.
//
// The workbench imports engine only. What it reads from the store it
// reads through the Store interface of deps.go, which *store.DB
// satisfies, and fitted models are described and exported by the
// ModelService the command line passes in.
//
// # Concurrency
//
// Update never blocks and never reads the store: every store read, spec
// load and validation runs in a tea.Cmd, and replies are stamped with a
// request number so a stale one is dropped (common.Seq).
//
// Runs started from the workbench (r, or o with --set overrides) execute
// in this process on an engine.Executor whose Recorder is the store and
// whose Events go to one engine.Broker. The root keeps each run's cancel
// func keyed by its run number; c on the Run screen cancels it after a
// confirmation, and quitting cancels every live run and waits for it to
// be recorded.
//
// Events reach Bubble Tea through a re-armed command (bubbletea's
// realtime example), not Program.Send: waitForEvents blocks for the next
// event, then keeps reading for up to 16ms or 8192 events and returns
// them as one eventsMsg; Update handles the burst and re-arms the
// command. So at most one burst waits in Bubble Tea's queue at any time:
// a run logging thousands of lines a second costs tens of messages a
// second, and keys are handled between them. The broker never blocks
// the executor; if the workbench falls behind, events are dropped, and
// since each carries a full snapshot the next one puts the state right.
// When a run ends, its whole log is read back from the store.
//
// Runs started elsewhere (`sluice run` in another terminal) are found by
// polling: every second the Runs screen asks the store whether anything
// was written (the store's generation, when it has one), and if so for
// runs newer than the newest it holds, and re-reads those still running;
// the Run screen follows a watched run the same way. The store opens and
// closes its file around every call, so polling never holds a lock.
//
// # Caveats
//
// A terminal smaller than 80×24 shows a message instead of the screens.
//
// NO_COLOR (or Deps.Mono) sets Lip Gloss's colour profile to plain ASCII
// for the whole process; the selected row is then shown by its ▸ mark.
//
// The log pane keeps the newest 20,000 lines of a run in memory and shows
// the newest 3,000 of the stage or stages followed; Runs (enter, Logs)
// reads a stage's whole log from the store.
//
// A tuning stage's leaderboard is built from the folds its log lines
// carry as data (engine.LogLine.Fold, written by StageContext.LogFold and
// kept by the store), never from their text; a stage that logs none
// shows its progress bar only.
//
// Huh evaluates a field's DescriptionFunc in a command, off the Update
// goroutine: fields that describe themselves live bind a common.Text, a
// guarded accessor, rather than a plain *string.
//
// Keys typed faster than the terminal is read arrive as one message
// ("jjr"); outside text fields the root splits it into single keys.
package ui
