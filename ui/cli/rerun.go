package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
)

func (e *env) rerunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "rerun RUN",
		Short: "Run a recorded run again: the same file text and parameters, reusing what it can",
		Long: `Rerun runs again exactly what RUN ran: the pipeline file as it was then
(the store keeps its text), with the --set overrides RUN was given, its
relative paths resolved where they resolved then. The stage cache applies
as for run: stages whose fingerprint still matches a stored result are
cached, so rerunning a failed or interrupted run resumes it, and the
others run with their reason. RUN is a run number, or latest.

Exit status: 0 the run succeeded, 1 it failed or was cancelled, 2 the
run is unknown, its file no longer validates, or the command was misused.`,
		Example: `  sluice rerun 12
  sluice rerun latest --dry
  sluice rerun 12 --no-cache=model`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := e.rerunPlan(args[0])
			if err != nil {
				return err
			}
			return e.runPlan(plan, &f)
		},
	}
	f.bind(cmd)
	cmd.Flags().IntVar(&e.cfg.Workers, "workers", 0, "stages run at once (default: number of CPUs)")
	return cmd
}

// rerunPlan rebuilds the plan of a recorded run.
func (e *env) rerunPlan(ref string) (*engine.Plan, error) {
	db, err := e.openStore()
	if err != nil {
		return nil, err
	}
	defer db.Close()
	id, err := e.parseRunRef(db, ref)
	if err != nil {
		return nil, err
	}
	r, err := db.Run(e.ctx, id)
	if err != nil {
		return nil, usageErr(err)
	}
	plan, err := engine.RerunPlan(r, e.reg)
	if err != nil {
		return nil, usageErr(fmt.Errorf("rerun %d: %w", id, err))
	}
	return plan, nil
}
