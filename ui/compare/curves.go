package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/report"
)

// The curves pane (v) overlays one curve per compared run: for
// classifiers the ROC (or, with p, the precision-recall) curve of one
// class against the rest, the class chosen with [ and ]; for regressors
// the distribution of the residuals. Each run's curve comes from the
// report its evaluation stage kept; when a run has several, the one of
// the stage whose metric is selected on the left is drawn, else the
// first with curves.

type docsMsg struct {
	seq  int
	docs map[int64]*report.Doc
	errs map[int64]error
}

// loadDocs reads the report of every compared run.
func (m *Model) loadDocs() tea.Cmd {
	src, ok := m.store.(report.Source)
	if !ok {
		m.docErr = errors.New("this store keeps no reports")
		return nil
	}
	seq, ctx, runs := m.docSeq.Next(), m.ctx.Ctx, m.runs
	m.docsLoading, m.docErr = true, nil
	return func() tea.Msg {
		msg := docsMsg{seq: seq, docs: map[int64]*report.Doc{}, errs: map[int64]error{}}
		for _, r := range runs {
			d, err := report.Load(ctx, src, r, "")
			if err != nil {
				msg.errs[r.ID] = err
				continue
			}
			msg.docs[r.ID] = d
		}
		return msg
	}
}

func (m *Model) docsLoaded(msg docsMsg) {
	if !m.docSeq.Current(msg.seq) {
		return
	}
	m.docsLoading = false
	m.docs, m.docErrs = msg.docs, msg.errs
}

// stageReport picks the report of doc to draw: the selected metric's
// stage's, else the first with curves or residuals.
func (m *Model) stageReport(d *report.Doc) *report.Stage {
	if d == nil {
		return nil
	}
	if len(m.cmp.Metrics) > 0 {
		stage, _, _ := strings.Cut(m.cmp.Metrics[min(m.metric, len(m.cmp.Metrics)-1)].Key, ".")
		for i := range d.Reports {
			if d.Reports[i].Stage == stage && (len(d.Reports[i].Details.Curves) > 0 || d.Reports[i].Details.Histogram != nil) {
				return &d.Reports[i]
			}
		}
	}
	for i := range d.Reports {
		if len(d.Reports[i].Details.Curves) > 0 || d.Reports[i].Details.Histogram != nil {
			return &d.Reports[i]
		}
	}
	return nil
}

// classes are the classes of the runs' curves, in the order first seen.
func (m *Model) classes() []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range m.cmp.Runs {
		if r := m.stageReport(m.docs[id]); r != nil {
			for _, c := range r.Details.Curves {
				if !seen[c.Class] {
					seen[c.Class] = true
					out = append(out, c.Class)
				}
			}
		}
	}
	return out
}

// curvesPane draws the overlay in w×h cells.
func (m *Model) curvesPane(w, h int) string {
	st := m.ctx.Styles
	switch {
	case m.docErr != nil:
		return st.Error.Render(m.docErr.Error())
	case m.docsLoading || m.docs == nil:
		return st.Subtle.Render("Reading the runs' reports…")
	}
	var series []report.Series
	var without []string
	var title, xLabel, hint string
	bounds := report.Unit
	if classes := m.classes(); len(classes) > 0 {
		m.class = min(max(m.class, 0), len(classes)-1)
		class := classes[m.class]
		kind, score := "ROC", "AUC"
		xLabel = "false positive rate"
		if m.pr {
			kind, score, xLabel = "PRECISION-RECALL", "AP", "recall"
		}
		title = fmt.Sprintf("%s OF %s BY RUN", kind, strings.ToUpper(class))
		other := "PR"
		if m.pr {
			other = "ROC"
		}
		hint = fmt.Sprintf("class %d of %d (%s %s) · %s %s", m.class+1, len(classes), keys.PrevClass.Help().Key, keys.NextClass.Help().Key,
			keys.CurveKind.Help().Key, other)
		for _, id := range m.cmp.Runs {
			c, ok := classCurve(m.stageReport(m.docs[id]), class)
			if !ok {
				without = append(without, fmt.Sprintf("#%d", id))
				continue
			}
			s := report.Series{Label: fmt.Sprintf("#%d", id), X: c.FPR, Y: c.TPR, Note: score + " " + common.Metric(c.ROCAUC)}
			if m.pr {
				s.X, s.Y, s.Note = c.Recall, c.Precision, score+" "+common.Metric(c.AveragePrecision)
			}
			series = append(series, s)
		}
	} else {
		title, xLabel = "RESIDUALS BY RUN", "true − predicted"
		hint = "y: share of the test rows"
		for _, id := range m.cmp.Runs {
			r := m.stageReport(m.docs[id])
			if r == nil || r.Details.Histogram == nil {
				without = append(without, fmt.Sprintf("#%d", id))
				continue
			}
			xs, ys := report.ResidualDensity(r.Details.Histogram)
			if len(xs) == 0 {
				without = append(without, fmt.Sprintf("#%d", id))
				continue
			}
			s := report.Series{Label: fmt.Sprintf("#%d", id), X: xs, Y: ys}
			if v, ok := r.Metrics["rmse"]; ok {
				s.Note = "rmse " + common.Metric(v)
			}
			series = append(series, s)
		}
		var ok bool
		if bounds, ok = report.Span(series, true); !ok {
			series = nil
		}
	}
	if len(series) == 0 {
		return st.Subtle.Render(noCurves(m.docErrs))
	}
	var tail []string
	if len(without) > 0 {
		tail = append(tail, st.Subtle.Render(common.Fit("no curve: "+strings.Join(without, " "), w)))
	}
	tail = append(tail, st.Subtle.Render(common.Fit(hint, w)))
	plotH := h - 1 - report.LegendLines(series, w) - len(tail)
	if plotH < 5 {
		return st.Subtle.Render("Too little room to draw the curves.")
	}
	return report.Overlay(st, title, xLabel, series, bounds, w, plotH) + "\n" + strings.Join(tail, "\n")
}

func classCurve(r *report.Stage, class string) (report.Curve, bool) {
	if r == nil {
		return report.Curve{}, false
	}
	for _, c := range r.Details.Curves {
		if c.Class == class {
			return c, true
		}
	}
	return report.Curve{}, false
}

// noCurves says why nothing is drawn.
func noCurves(errs map[int64]error) string {
	for _, err := range errs {
		if !errors.Is(err, engine.ErrNotFound) && !errors.Is(err, context.Canceled) {
			return "Cannot read a report: " + err.Error()
		}
	}
	return "None of these runs kept curves or residuals (an evaluate stage keeps them)."
}
