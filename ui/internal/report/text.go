package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Text writes the document for a terminal or a log: every number whole.
// It returns the first error writing to out.
func Text(out io.Writer, d *Doc) error {
	w := &stickyWriter{w: out}
	fmt.Fprintf(w, "run %d  %s\n", d.Run, d.Pipeline)
	for _, r := range d.Reports {
		fmt.Fprintf(w, "\nREPORT %s (%s)", r.Stage, r.Uses)
		if r.Details.Model != "" {
			fmt.Fprintf(w, " · %s", r.Details.Model)
		}
		if r.Details.TestRows > 0 {
			fmt.Fprintf(w, " · %d test rows", r.Details.TestRows)
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, k := range common.SortedKeys(r.Metrics) {
			fmt.Fprintf(tw, "  %s\t%s\n", k, common.Metric(r.Metrics[k]))
		}
		_ = tw.Flush() // its error sticks in w
		if c := r.Details.Confusion; len(c) > 0 {
			fmt.Fprintln(w, "\n  CONFUSION MATRIX (rows: true class, columns: predicted)")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "\t%s\t\n", strings.Join(r.Details.Classes, "\t"))
			for i, row := range c {
				name := fmt.Sprint(i)
				if i < len(r.Details.Classes) {
					name = r.Details.Classes[i]
				}
				cells := make([]string, len(row))
				for j, v := range row {
					cells[j] = fmt.Sprint(v)
				}
				fmt.Fprintf(tw, "%s\t%s\t\n", name, strings.Join(cells, "\t"))
			}
			_ = tw.Flush() // its error sticks in w
		}
		if len(r.Details.Curves) > 0 {
			fmt.Fprintln(w, "\n  PER CLASS (one vs rest)")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  CLASS\tROC AUC\tAVERAGE PRECISION\tROC POINTS\tPR POINTS")
			for _, c := range r.Details.Curves {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\n", c.Class, common.Metric(c.ROCAUC), common.Metric(c.AveragePrecision), len(c.FPR), len(c.Precision))
			}
			_ = tw.Flush() // its error sticks in w
		}
		if h := r.Details.Histogram; h != nil && len(h.Counts) > 0 {
			fmt.Fprintln(w, "\n  RESIDUALS (true − predicted)")
			most := 0
			for _, c := range h.Counts {
				most = max(most, c)
			}
			for i, c := range h.Counts {
				bar := 0
				if most > 0 {
					bar = c * 30 / most
				}
				fmt.Fprintf(w, "  [%10s, %10s)  %4d  %s\n", common.Metric(h.Edges[i]), common.Metric(h.Edges[i+1]), c, strings.Repeat("█", bar))
			}
		}
		if imp := r.Details.Importances; len(imp) > 0 {
			fmt.Fprintln(w, "\n  FEATURE IMPORTANCES")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			top := imp[0].Value
			for _, f := range imp {
				bar := 0
				if top > 0 {
					bar = int(f.Value / top * 30)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Feature, common.Metric(f.Value), strings.Repeat("█", bar))
			}
			_ = tw.Flush() // its error sticks in w
		}
	}
	for _, b := range d.Leaderboards {
		fmt.Fprintf(w, "\nLEADERBOARD %s (%s): %d candidates\n", b.Stage, b.Uses, len(b.Candidates))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  RANK\tMEAN\t± STD\tPARAMS")
		for _, c := range b.Candidates {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", c.Rank, common.Metric(c.Mean), common.Metric(c.Std), Params(c.Params))
		}
		_ = tw.Flush() // its error sticks in w
	}
	return w.err
}

// stickyWriter keeps the first write error and refuses every write after
// it, so a document is checked once, at its end.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}

// Params renders a candidate's parameters as k=v, sorted.
func Params(p map[string]any) string {
	parts := make([]string, 0, len(p))
	for _, k := range common.SortedKeys(p) {
		parts = append(parts, k+"="+common.Value(p[k]))
	}
	return strings.Join(parts, " ")
}
