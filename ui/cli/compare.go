package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

func (e *env) compareCmd() *cobra.Command {
	var all, asJSON, md, asCSV bool
	cmd := &cobra.Command{
		Use:   "compare RUN RUN...",
		Short: "Set runs side by side: parameters that differ, metrics with the best marked",
		Long: `Compare prints runs as columns and keys as rows, so many parameters still read
down the page: the parameters that differ between the runs (--all for every
one), every metric with its delta against the first run and the best marked
(★; higher or lower is better by metric), and the first stage whose
fingerprint differs, where the runs' results start to part.`,
		Example: "  sluice compare 3 4\n  sluice compare latest 1 --all --md",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.openStore()
			if err != nil {
				return err
			}
			defer db.Close()
			var runs []*engine.Run
			for _, a := range args {
				id, err := e.parseRunRef(db, a)
				if err != nil {
					return err
				}
				r, err := db.Run(e.ctx, id)
				if err != nil {
					return usageErr(err)
				}
				runs = append(runs, r)
			}
			c := engine.Compare(runs, all, e.reg)
			switch {
			case asJSON:
				return writeCompareJSON(e.stdout, c)
			case md:
				writeCompareTable(e.stdout, c, "md", all)
			case asCSV:
				return writeCompareCSV(e.stdout, c)
			default:
				writeCompareTable(e.stdout, c, "text", all)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "show every parameter, not only those that differ")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	cmd.Flags().BoolVar(&md, "md", false, "print the comparison as a Markdown table")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print the comparison as CSV")
	cmd.MarkFlagsMutuallyExclusive("json", "md", "csv")
	return cmd
}

// compareRows flattens a comparison into (section, key, cells) rows.
func compareRows(c *engine.Comparison) (header []string, rows [][]string) {
	header = []string{"", "key"}
	for _, id := range c.Runs {
		header = append(header, fmt.Sprintf("run %d", id))
	}
	// Tags and notes, when a run has any.
	tagged, noted := false, false
	for i := range c.Runs {
		tagged = tagged || len(c.Tags[i]) > 0
		noted = noted || c.Notes[i] != ""
	}
	if tagged {
		row := []string{"run", "tags"}
		for _, t := range c.Tags {
			row = append(row, strings.Join(t, " "))
		}
		rows = append(rows, row)
	}
	if noted {
		row := []string{"run", "note"}
		row = append(row, c.Notes...)
		rows = append(rows, row)
	}
	for _, p := range c.Params {
		row := []string{"param", p.Key}
		for _, v := range p.Values {
			if v == "" {
				v = "—"
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	for _, m := range c.Metrics {
		row := []string{"metric", m.Key}
		for i, v := range m.Values {
			cell := "—"
			if v != nil {
				cell = common.Metric(*v)
				if i > 0 && m.Deltas[i] != nil && *m.Deltas[i] != 0 {
					cell += fmt.Sprintf(" (%+.4g)", *m.Deltas[i])
				}
				if i == m.Best {
					cell += " ★"
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return header, rows
}

func writeCompareTable(w io.Writer, c *engine.Comparison, style string, all bool) {
	header, rows := compareRows(c)
	if style == "md" {
		fmt.Fprintf(w, "| %s |\n", strings.Join(header[1:], " | "))
		fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(header)-1))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r[1:], " | "))
		}
	} else {
		tw := newTable(w)
		fmt.Fprintln(tw, strings.Join(header[1:], "\t"))
		section := ""
		for _, r := range rows {
			if r[0] != section {
				section = r[0]
				label := map[string]string{"run": "RUN", "param": "PARAMETERS (that differ)", "metric": "METRICS (Δ vs first run, ★ best)"}[section]
				if section == "param" && all {
					label = "PARAMETERS (all)"
				}
				fmt.Fprintf(tw, "%s\n", label)
			}
			fmt.Fprintln(tw, "  "+strings.Join(r[1:], "\t"))
		}
		tw.Flush()
		if len(c.Params) == 0 && !all {
			fmt.Fprintln(w, "no parameter differs (--all shows every one)")
		}
	}
	if c.FirstDiff != "" {
		fmt.Fprintf(w, "\nfirst stage whose fingerprint differs: %s\n", c.FirstDiff)
	} else {
		fmt.Fprintln(w, "\nevery stage's fingerprint matches: the runs did the same work")
	}
}

func writeCompareCSV(w io.Writer, c *engine.Comparison) error {
	header, rows := compareRows(c)
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"section"}, header[1:]...)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeCompareJSON(w io.Writer, c *engine.Comparison) error {
	type param struct {
		Key     string   `json:"key"`
		Values  []string `json:"values"`
		Differs bool     `json:"differs"`
	}
	type metric struct {
		Key            string     `json:"key"`
		Values         []*float64 `json:"values"`
		Deltas         []*float64 `json:"deltas"`
		Best           *int64     `json:"best_run"`
		HigherIsBetter bool       `json:"higher_is_better"`
	}
	doc := struct {
		Runs      []int64    `json:"runs"`
		Tags      [][]string `json:"tags"`
		Notes     []string   `json:"notes"`
		Params    []param    `json:"params"`
		Metrics   []metric   `json:"metrics"`
		FirstDiff string     `json:"first_differing_stage"`
	}{Runs: c.Runs, Tags: make([][]string, len(c.Runs)), Notes: c.Notes, Params: []param{}, Metrics: []metric{}, FirstDiff: c.FirstDiff}
	for i, t := range c.Tags {
		doc.Tags[i] = append([]string{}, t...)
	}
	for _, p := range c.Params {
		doc.Params = append(doc.Params, param{p.Key, p.Values, p.Differs})
	}
	for _, m := range c.Metrics {
		mm := metric{Key: m.Key, Values: m.Values, Deltas: m.Deltas, HigherIsBetter: m.HigherIsBetter}
		if m.Best >= 0 {
			id := c.Runs[m.Best]
			mm.Best = &id
		}
		doc.Metrics = append(doc.Metrics, mm)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // print <, > and & as written
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
