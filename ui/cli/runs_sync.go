package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/temporal"
	"github.com/sluice-ml/sluice/store"
)

func (e *env) runsSyncCmd() *cobra.Command {
	var tf temporalFlags
	var follow bool
	var poll time.Duration
	cmd := &cobra.Command{
		Use:   "sync --temporal HOST:PORT",
		Short: "Import the runs that ran on Temporal without this machine (schedules, other machines)",
		Long: `Runs sync imports into the local store the runs of sluice pipelines that ran
on a Temporal cluster without this machine following them: the intervals of
Temporal Schedules (sluice schedule --engine temporal), and runs started with
sluice run --engine temporal on other machines. Each workflow becomes one run,
numbered here, with its stages, metrics, logs and artifact references, engine
temporal and its workflow id; show, compare, export and the workbench read it
like any run (the artifacts are in the store the workers wrote to: give the
same --artifacts). A workflow the store has a run for is never imported twice.
It imports the workflows of the task queue given (--task-queue, default
sluice), as sluice worker serves one.

Without --follow it imports the workflows that have ended and says how many
still run. With --follow it also imports the running ones and keeps their
records up to date a few times a second while they run — a workbench open on
the same store shows them live — and keeps looking for new workflows every
--poll, until Ctrl-C. A run it was following when stopped is left
interrupted and imported anew by the next sync.`,
		Example: "  sluice runs sync --temporal localhost:7233\n  sluice runs sync --temporal temporal.example.com:7233 --namespace ml --follow",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := tf.resolve(); err != nil {
				return err
			}
			if poll <= 0 {
				return usageErr(fmt.Errorf("--poll %s: want a positive duration", poll))
			}
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			c, err := tf.dial(e.ctx, e.stderr)
			if err != nil {
				return err
			}
			defer c.Close()
			s := &temporal.Syncer{
				Client: c, Namespace: tf.namespace, TaskQueue: tf.queue, Registry: e.reg, Poll: poll, Log: e.logger(),
				Executor: &engine.Executor{Recorder: db, Artifacts: db.ArtifactStore(), Version: Version},
				Known:    func(ctx context.Context) (map[string]bool, error) { return knownWorkflows(ctx, db) },
			}
			rep, err := s.Sync(e.ctx, follow)
			if err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(e.stdout, "imported %d run%s", len(rep.Imported), plural(len(rep.Imported)))
			for i, id := range rep.Imported {
				sep := ", "
				if i == 0 {
					sep = ": "
				}
				fmt.Fprintf(e.stdout, "%s%d", sep, id)
			}
			fmt.Fprintf(e.stdout, "; %d already here", rep.Known)
			if rep.Running > 0 {
				fmt.Fprintf(e.stdout, "; %d still running (--follow imports them)", rep.Running)
			}
			fmt.Fprintln(e.stdout)
			if rep.Failed > 0 {
				fmt.Fprintf(e.stderr, "sluice: %d workflow%s could not be imported (see above)\n", rep.Failed, plural(rep.Failed))
				return silentExit(ExitFailed)
			}
			return nil
		},
	}
	tf.bind(cmd)
	cmd.Flags().BoolVar(&follow, "follow", false, "also import running workflows, follow them live, and keep importing new ones until Ctrl-C")
	cmd.Flags().DurationVar(&poll, "poll", time.Second, "how often running workflows are read and new ones looked for")
	return cmd
}

// knownWorkflows returns the workflow ids the store has a run for. A run
// a sync was following when it stopped (engine temporal, interrupted) does
// not count: it goes to the trash, and the workflow is imported anew.
func knownWorkflows(ctx context.Context, db *store.DB) (map[string]bool, error) {
	runs, err := db.WorkflowRuns(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	var stale []int64
	for _, r := range runs {
		if r.Status == engine.StatusInterrupted {
			if !r.Trashed {
				stale = append(stale, r.ID)
			}
			continue
		}
		known[r.WorkflowID] = true
	}
	if len(stale) > 0 {
		if err := db.Delete(ctx, stale...); err != nil {
			return nil, err
		}
	}
	return known, nil
}
