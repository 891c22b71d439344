package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// runsDoc is one row of `sluice runs --json`.
type runsDoc struct {
	Run      int64              `json:"run"`
	Pipeline string             `json:"pipeline"`
	Status   string             `json:"status"`
	Started  time.Time          `json:"started"`
	Seconds  float64            `json:"seconds"`
	Metrics  map[string]float64 `json:"metrics"`
}

func (e *env) runsCmd() *cobra.Command {
	var pipeline string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List recorded runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			runs, err := db.Runs(e.ctx, store.RunFilter{Pipeline: pipeline, Limit: limit})
			if err != nil {
				return usageErr(err)
			}
			if asJSON {
				docs := make([]runsDoc, 0, len(runs))
				for _, r := range runs {
					m := r.Metrics
					if m == nil {
						m = map[string]float64{}
					}
					docs = append(docs, runsDoc{Run: r.ID, Pipeline: r.Pipeline, Status: r.Status.String(), Started: r.Started, Seconds: round3(r.Seconds), Metrics: m})
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(docs)
			}
			if len(runs) == 0 {
				fmt.Fprintf(e.stdout, "no runs in %s yet: sluice run FILE records one\n", e.cfg.DBPath)
				return nil
			}
			tw := newTable(e.stdout)
			fmt.Fprintln(tw, "RUN\tPIPELINE\tSTATUS\tSTARTED\tTIME\tMETRICS")
			for _, r := range runs {
				fmt.Fprintf(tw, "%d\t%s\t%s %s\t%s\t%s\t%s\n", r.ID, r.Pipeline, common.StatusIcon(r.Status), r.Status,
					r.Started.Local().Format("2006-01-02 15:04:05"), common.Seconds(r.Seconds), metricsText(r.Metrics, 3))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "only runs of this pipeline")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many runs (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the runs as JSON")
	return cmd
}
