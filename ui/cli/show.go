package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// showDoc is `sluice show --json`: the run record with its artifacts.
type showDoc struct {
	*engine.Run
	Artifacts []engine.ArtifactInfo `json:"artifacts"`
	Logs      []showLog             `json:"logs,omitempty"`    // with --logs
	Trashed   bool                  `json:"trashed,omitempty"` // in the trash (sluice runs rm)
}

// showLog is one log line in `sluice show --json --logs`.
type showLog struct {
	Time   time.Time `json:"time"`
	Stage  string    `json:"stage"`
	Stream string    `json:"stream,omitempty"`
	Text   string    `json:"text"`
}

func (e *env) showCmd() *cobra.Command {
	var asJSON, logs bool
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Show one run: parameters, data, stages, metrics, models",
		Long:  "Show prints a recorded run. RUN is the run number, or latest.",
		Args:  cobra.ExactArgs(1),
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
			run, err := db.Run(e.ctx, id)
			if err != nil {
				return usageErr(err)
			}
			arts, err := db.Artifacts(e.ctx, id)
			if err != nil {
				return usageErr(err)
			}
			trash, err := db.Trash(e.ctx)
			if err != nil {
				return err
			}
			var trashed *store.TrashedRun
			for i := range trash {
				if trash[i].ID == id {
					trashed = &trash[i]
				}
			}
			if asJSON {
				if arts == nil {
					arts = []engine.ArtifactInfo{}
				}
				doc := showDoc{Run: run, Artifacts: arts, Trashed: trashed != nil}
				if logs {
					lines, err := db.Logs(e.ctx, id, "", 0)
					if err != nil {
						return usageErr(err)
					}
					doc.Logs = make([]showLog, 0, len(lines))
					for _, l := range lines {
						doc.Logs = append(doc.Logs, showLog{Time: l.Time, Stage: l.Stage, Stream: l.Stream, Text: l.Text})
					}
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetEscapeHTML(false) // print <, > and & as written
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			}
			w := e.stdout
			if trashed != nil {
				fmt.Fprintf(w, "in the trash since %s: sluice runs restore %d brings it back, sluice gc deletes it\n\n", trashed.Deleted.Local().Format("2006-01-02 15:04:05"), id)
			}
			fmt.Fprintf(w, "run %d  %s  %s %s\n", run.ID, run.Pipeline, common.StatusIcon(run.Status), run.Status)
			fmt.Fprintf(w, "file      %s (sha256 %s)\n", run.File, short(run.SpecHash))
			fmt.Fprintf(w, "started   %s, took %s\n", run.Started.Local().Format("2006-01-02 15:04:05"), common.Seconds(run.Seconds))
			fmt.Fprintf(w, "trigger   %s, logical time %s", run.TriggerKind(), run.Logical().UTC().Format(time.RFC3339))
			if !run.IntervalEnd.IsZero() && !run.IntervalEnd.Equal(run.IntervalStart) {
				fmt.Fprintf(w, " (data interval %s – %s)", run.IntervalStart.UTC().Format(time.RFC3339), run.IntervalEnd.UTC().Format(time.RFC3339))
			}
			if run.TriggerFile != "" {
				fmt.Fprintf(w, ", file %s", run.TriggerFile)
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "seed      %d   sluice %s\n", run.Seed, run.Version)
			if run.Engine != "" && run.Engine != engine.EngineLocal {
				fmt.Fprintf(w, "engine    %s, workflow %s\n", run.Engine, run.WorkflowID)
			}
			if len(run.Tags) > 0 {
				fmt.Fprintf(w, "tags      %s\n", strings.Join(run.Tags, " "))
			}
			if run.Note != "" {
				fmt.Fprintf(w, "note      %s\n", strings.ReplaceAll(run.Note, "\n", "\n          "))
			}
			if len(run.Overrides) > 0 {
				fmt.Fprintf(w, "overrides %s\n", strings.Join(run.Overrides, " "))
			}
			if run.Error != "" {
				fmt.Fprintf(w, "error     %s\n", run.Error)
			}
			if len(run.Inputs) > 0 {
				fmt.Fprintln(w, "\nDATA")
				tw := newTable(w)
				for _, k := range common.SortedKeys(run.Inputs) {
					fmt.Fprintf(tw, "  %s\tsha256 %s\n", k, run.Inputs[k])
				}
				tw.Flush()
			}
			fmt.Fprintln(w, "\nSTAGES")
			tw := newTable(w)
			fmt.Fprintln(tw, "  STAGE\tUSES\tSTATUS\tTIME\tOUTPUT\tFINGERPRINT\tWHY")
			for _, s := range run.Stages {
				fmt.Fprintf(tw, "  %s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", s.ID, s.Uses, common.StatusIcon(s.Status), s.Status, common.Seconds(s.Seconds), outputText(s), short(s.Fingerprint), s.Reason)
			}
			tw.Flush()
			for _, s := range run.Stages {
				if s.Error != "" && s.Status != engine.StatusSkipped {
					fmt.Fprintf(w, "  %s: %s\n", s.ID, s.Error)
				}
			}
			fmt.Fprintln(w, "\nPARAMETERS")
			for _, s := range run.Stages {
				p := run.Params[s.ID]
				if len(p) == 0 {
					continue
				}
				var parts []string
				for _, k := range common.SortedKeys(p) {
					parts = append(parts, k+"="+engine.DisplayValue(p[k]))
				}
				fmt.Fprintf(w, "  %s: %s\n", s.ID, strings.Join(parts, " "))
			}
			hasMetrics := false
			for _, s := range run.Stages {
				if len(s.Metrics) > 0 {
					if !hasMetrics {
						fmt.Fprintln(w, "\nMETRICS")
						hasMetrics = true
					}
					fmt.Fprintf(w, "  %s: %s\n", s.ID, metricsText(s.Metrics, 0))
				}
			}
			if len(arts) > 0 {
				fmt.Fprintln(w, "\nMODELS AND ARTIFACTS")
				tw := newTable(w)
				fmt.Fprintln(tw, "  STAGE\tNAME\tSIZE\tSHA256\tMETRICS")
				for _, a := range arts {
					m := ""
					if st, ok := run.Stage(a.Stage); ok && a.Name == "model" {
						m = metricsText(st.Metrics, 0)
					}
					fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", a.Stage, a.Name, a.Size, a.SHA256, m)
				}
				tw.Flush()
			}
			if logs {
				lines, err := db.Logs(e.ctx, id, "", 0)
				if err != nil {
					return usageErr(err)
				}
				fmt.Fprintln(w, "\nLOGS")
				for _, l := range lines {
					fmt.Fprintf(w, "  %s %s | %s\n", l.Time.Local().Format("15:04:05.000"), l.Stage, l.Text)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run record as JSON")
	cmd.Flags().BoolVar(&logs, "logs", false, "also print every stage's log")
	return cmd
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
