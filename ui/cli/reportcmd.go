package cli

import (
	"encoding/json"
	"errors"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/report"
)

func (e *env) reportCmd() *cobra.Command {
	var stage string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report RUN [--stage ID] [--json]",
		Short: "Print a run's evaluation: metrics, confusion matrix, curves, residuals, importances, leaderboard",
		Long: `Report prints what a run's evaluate, cross_validate and tuning stages kept: the
metrics, the confusion matrix and per-class ROC and precision-recall summaries
of a classifier, the residual histogram of a regressor, feature importances,
and each search's leaderboard. --json prints every curve point as recorded,
for scripts and plots. RUN is the run number, or latest.`,
		Example: "  sluice report latest\n  sluice report 4 --stage score --json | jq '.reports[0].details.class_curves[0].roc_auc'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			id, err := e.parseRunRef(db, args[0])
			if err != nil {
				return err
			}
			r, err := db.Run(e.ctx, id)
			if err != nil {
				return usageErr(err)
			}
			if stage != "" {
				if _, ok := r.Stage(stage); !ok {
					return usageErr(errors.New("run has no stage " + stage))
				}
			}
			doc, err := report.Load(e.ctx, db, r, stage)
			if err != nil {
				if errors.Is(err, engine.ErrNotFound) {
					return usageErr(err)
				}
				return usageErr(err)
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			}
			return report.Text(e.stdout, doc)
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "", "only this stage's report")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report with every curve point as JSON")
	return cmd
}
