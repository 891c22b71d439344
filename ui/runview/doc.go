// Package runview is the workbench's Run screen: one run shown live, its
// stages laid out by DAG layer with status, a progress bar, elapsed time
// and ETA, a log pane that follows the selected stage or every stage,
// a live leaderboard for tuning stages, and the metrics once it ends.
//
// It is fed by engine events for runs started in this process (see the
// ui package's event bridge) and by polling the store for runs started
// elsewhere.
package runview
