package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

// queryError points at the column of a query that does not parse.
func queryError(q string, err error) error {
	var qe *query.Error
	if !errors.As(err, &qe) {
		return err
	}
	return fmt.Errorf("--where: %s\n  %s\n  %s^", qe.Msg, q, strings.Repeat(" ", qe.Col-1))
}

// runsDoc is one row of `sluice runs --json`.
type runsDoc struct {
	Run      int64              `json:"run"`
	Pipeline string             `json:"pipeline"`
	Status   string             `json:"status"`
	Started  time.Time          `json:"started"`
	Seconds  float64            `json:"seconds"`
	Metrics  map[string]float64 `json:"metrics"`
	Sweep    string             `json:"sweep,omitempty"`
	Tags     []string           `json:"tags"`
	Note     string             `json:"note,omitempty"`
	Trigger  string             `json:"trigger"`
	Logical  time.Time          `json:"logical_time"`
}

func (e *env) runsCmd() *cobra.Command {
	var pipeline, where string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List recorded runs, newest first",
		Long: `Runs lists recorded runs, newest first. --where selects runs with the
workbench's query language: free text, metric.NAME OP NUMBER (or NAME OP
NUMBER), param.STAGE.NAME OP VALUE, status:, tag:, pipeline:, since:7d, all
of them (spaces) or either (or); a leading - negates a word.`,
		Example: "  sluice runs --where 'accuracy>0.9 tag:baseline'\n  sluice runs --where 'status:failed since:1d or param.model.C<0.1'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			var q *query.Query
			if where != "" {
				if q, err = query.Parse(where); err != nil {
					return usageErr(queryError(where, err))
				}
			}
			f := store.RunFilter{Pipeline: pipeline, Limit: limit}
			if q != nil {
				f.Limit = 0 // the query filters first
			}
			runs, err := db.Runs(e.ctx, f)
			if err != nil {
				return usageErr(err)
			}
			if q != nil {
				kept := runs[:0]
				for i := range runs {
					if q.Match(query.NewRun(&runs[i])) && (limit == 0 || len(kept) < limit) {
						kept = append(kept, runs[i])
					}
				}
				runs = kept
			}
			if asJSON {
				docs := make([]runsDoc, 0, len(runs))
				for _, r := range runs {
					m := r.Metrics
					if m == nil {
						m = map[string]float64{}
					}
					tags := r.Tags
					if tags == nil {
						tags = []string{}
					}
					docs = append(docs, runsDoc{Run: r.ID, Pipeline: r.Pipeline, Status: r.Status.String(), Started: r.Started, Seconds: round3(r.Seconds), Metrics: m, Sweep: r.Sweep, Tags: tags, Note: r.Note,
						Trigger: string(r.TriggerKind()), Logical: r.Logical().UTC()})
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetEscapeHTML(false) // print <, > and & as written
				enc.SetIndent("", "  ")
				return enc.Encode(docs)
			}
			if len(runs) == 0 && pipeline != "" {
				all, err := db.Runs(e.ctx, store.RunFilter{})
				if err != nil {
					return usageErr(err)
				}
				if len(all) > 0 {
					fmt.Fprintln(e.stdout, noPipelineRuns(pipeline, all, where))
					return nil
				}
			}
			if len(runs) == 0 && q != nil {
				fmt.Fprintf(e.stdout, "no run matches %s\n", where)
				return nil
			}
			if len(runs) == 0 {
				fmt.Fprintf(e.stdout, "no runs in %s yet: sluice run FILE records one\n", e.cfg.DBPath)
				return nil
			}
			tw := newTable(e.stdout)
			tagged := false
			for _, r := range runs {
				tagged = tagged || len(r.Tags) > 0
			}
			head := "RUN\tPIPELINE\tSTATUS\tSTARTED\tTRIGGER\tLOGICAL TIME\tTIME\tMETRICS"
			if tagged {
				head += "\tTAGS"
			}
			fmt.Fprintln(tw, head)
			for _, r := range runs {
				line := fmt.Sprintf("%d\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s", r.ID, r.Pipeline, common.StatusIcon(r.Status), r.Status,
					r.Started.Local().Format("2006-01-02 15:04:05"), r.TriggerKind(), logicalText(r.Logical()),
					common.Seconds(r.Seconds), metricsText(r.Metrics, 3))
				if tagged {
					line += "\t" + strings.Join(r.Tags, " ")
				}
				fmt.Fprintln(tw, line)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "only runs of this pipeline")
	cmd.Flags().StringVar(&where, "where", "", "only runs matching this query (see above)")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many runs (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the runs as JSON")
	cmd.AddCommand(e.runsRmCmd(), e.runsRestoreCmd(), e.runsSyncCmd())
	return cmd
}

// logicalText formats a logical time: a date when it falls on midnight
// UTC (daily intervals), else the time in RFC 3339.
func logicalText(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339)
}

// noPipelineRuns says why `runs --pipeline NAME` lists nothing in a store
// that has runs: none of NAME (with the pipelines there are), or none of
// NAME that matches the query.
func noPipelineRuns(pipeline string, all []engine.RunSummary, where string) string {
	seen := map[string]bool{}
	var names []string
	for _, r := range all {
		if !seen[r.Pipeline] {
			seen[r.Pipeline] = true
			names = append(names, r.Pipeline)
		}
	}
	if seen[pipeline] {
		return fmt.Sprintf("no run of pipeline %s matches %s", pipeline, where)
	}
	sort.Strings(names)
	msg := fmt.Sprintf("no runs of pipeline %q among the store's %d run%s", pipeline, len(all), common.Plural(len(all)))
	if d := engine.DidYouMean(pipeline, names); d != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", d)
	}
	return msg + " (pipelines: " + strings.Join(names, ", ") + ")"
}
