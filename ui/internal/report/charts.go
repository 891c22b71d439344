package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// classMarks tell the classes' curves apart without colour.
var classMarks = []rune{'●', '▲', '■', '◆', '✚', '○', '△', '□'}

var classColors = []lipgloss.Color{"39", "208", "78", "170", "220", "45", "203", "111"}

// Charts draws the document in w cells wide, as tall as it needs: per
// report the metrics, ROC and precision-recall curves per class (side by
// side when there is room), the confusion matrix, residuals against
// predictions and their histogram, importances; then each leaderboard.
func Charts(d *Doc, st *common.Styles, w int) string {
	var b []string
	add := func(s ...string) { b = append(b, s...) }
	for _, r := range d.Reports {
		title := st.Title.Render("REPORT "+r.Stage) + st.Subtle.Render(" ("+r.Uses+")")
		if r.Details.Model != "" {
			title += st.Subtle.Render(" · " + r.Details.Model)
		}
		if r.Details.TestRows > 0 {
			title += st.Subtle.Render(fmt.Sprintf(" · %d test rows", r.Details.TestRows))
		}
		add(common.Fit(title, w))
		add(metricLines(r.Metrics, w)...)
		if len(r.Details.Curves) > 0 {
			add("")
			cw := w
			if w >= 100 {
				cw = (w - 1) / 2
			}
			roc := curveChart(st, "ROC (one vs rest)", "false positive rate", r.Details.Curves, func(c Curve) ([]float64, []float64, float64) { return c.FPR, c.TPR, c.ROCAUC }, "AUC", cw)
			pr := curveChart(st, "PRECISION-RECALL", "recall", r.Details.Curves, func(c Curve) ([]float64, []float64, float64) { return c.Recall, c.Precision, c.AveragePrecision }, "AP", cw)
			if w >= 100 {
				half := cw
				add(lipgloss.JoinHorizontal(lipgloss.Top, common.Block(roc, half, lipgloss.Height(roc)), " ", common.Block(pr, half, lipgloss.Height(pr))))
			} else {
				add(roc, "", pr)
			}
		}
		if c := r.Details.Confusion; len(c) > 0 {
			add("", st.Header.Render("CONFUSION MATRIX")+st.Subtle.Render("  rows: true class · columns: predicted"))
			add(ConfusionLines(r.Details.Classes, c, w)...)
		}
		if p := r.Details.Points; p != nil && len(p.Predicted) > 1 {
			add("", scatter(st, p, w))
		}
		if h := r.Details.Histogram; h != nil && len(h.Counts) > 0 {
			add("", st.Header.Render("RESIDUAL HISTOGRAM")+st.Subtle.Render("  true − predicted"))
			add(histLines(h, w)...)
		}
		if imp := r.Details.Importances; len(imp) > 0 {
			add("", st.Header.Render("FEATURE IMPORTANCES"))
			add(importanceLines(imp, w)...)
		}
		add("")
	}
	for _, bd := range d.Leaderboards {
		add(st.Title.Render("LEADERBOARD "+bd.Stage) + st.Subtle.Render(fmt.Sprintf(" (%s) · %d candidates", bd.Uses, len(bd.Candidates))))
		add(st.Header.Render("  RANK  MEAN     ± STD    PARAMS"))
		for _, c := range bd.Candidates {
			add(common.Fit(fmt.Sprintf("  %-4d  %-7s  %-7s  %s", c.Rank, common.Metric(c.Mean), common.Metric(c.Std), Params(c.Params)), w))
		}
		add("")
	}
	for i := range b {
		b[i] = strings.TrimRight(b[i], "\n")
	}
	return strings.Join(b, "\n")
}

// metricLines lays "name value" pairs out in as many lines as they need,
// never cutting one.
func metricLines(m map[string]float64, w int) []string {
	var out []string
	line := " "
	for _, k := range common.SortedKeys(m) {
		cell := " " + k + " " + common.Metric(m[k]) + " "
		if common.Width(line)+common.Width(cell) > w && line != " " {
			out = append(out, line)
			line = " "
		}
		line += cell
	}
	return append(out, line)
}

// curveChart draws one curve per class on the unit square with a legend.
func curveChart(st *common.Styles, title, xLabel string, curves []Curve, xy func(Curve) ([]float64, []float64, float64), score string, w int) string {
	series := make([]Series, len(curves))
	for i, c := range curves {
		xs, ys, s := xy(c)
		series[i] = Series{Label: c.Class, X: xs, Y: ys, Note: score + " " + common.Metric(s)}
	}
	return Overlay(st, title, xLabel, series, Unit, w, 12)
}

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// wrapJoin joins items with sep into lines of at most w cells, never
// splitting an item.
func wrapJoin(items []string, sep string, w int) string {
	var lines []string
	line := ""
	for _, it := range items {
		if line != "" && common.Width(line)+len(sep)+common.Width(it) > w {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += sep
		}
		line += it
	}
	return strings.Join(append(lines, line), "\n")
}

// ConfusionLines lays a confusion matrix out in w cells: rows are the
// true classes, columns the predicted ones, headed by the class names or,
// when those do not fit, by the class numbers. Columns that still do not
// fit are left out whole and counted on a last line: a count is never cut.
func ConfusionLines(classes []string, c [][]int, w int) []string {
	name := func(i int) string {
		if i < len(classes) {
			return classes[i]
		}
		return fmt.Sprint(i)
	}
	labelW, cellW := 4, 3
	for i := range c {
		labelW = max(labelW, common.Width(name(i)))
		cellW = max(cellW, common.Width(name(i)))
		for _, v := range c[i] {
			cellW = max(cellW, len(fmt.Sprint(v)))
		}
	}
	// Columns headed by the class number when the names do not fit.
	short := labelW+2+len(c)*(cellW+1) > w
	if short {
		cellW = 3
		for i := range c {
			for _, v := range c[i] {
				cellW = max(cellW, len(fmt.Sprint(v)))
			}
		}
		labelW = min(labelW+len(fmt.Sprint(len(c)))+1, max(w-2-len(c)*(cellW+1), 8))
	}
	cols := min(len(c), max((w-2-labelW)/(cellW+1), 1))
	head := "  " + strings.Repeat(" ", labelW)
	for j := range cols {
		h := name(j)
		if short {
			h = fmt.Sprint(j)
		}
		head += " " + common.FitRight(h, cellW)
	}
	out := []string{head}
	for i, row := range c {
		label := name(i)
		if short {
			label = fmt.Sprintf("%d %s", i, label)
		}
		line := "  " + common.Fit(label, labelW)
		for _, v := range row[:min(cols, len(row))] {
			line += " " + common.FitRight(fmt.Sprint(v), cellW)
		}
		out = append(out, line)
	}
	if n := len(c) - cols; n > 0 {
		classes := "classes"
		if n == 1 {
			classes = "class"
		}
		out = append(out, fmt.Sprintf("  +%d predicted %s not shown: a wider screen shows them", n, classes))
	}
	return out
}

// scatter draws residuals against predictions, with the zero line.
func scatter(st *common.Styles, p *Points, w int) string {
	minX, maxX := p.Predicted[0], p.Predicted[0]
	minY, maxY := 0.0, 0.0
	for i := range p.Predicted {
		minX, maxX = min(minX, p.Predicted[i]), max(maxX, p.Predicted[i])
		minY, maxY = min(minY, p.Residual[i]), max(maxY, p.Residual[i])
	}
	if minX == maxX {
		minX, maxX = minX-1, maxX+1
	}
	if minY == maxY {
		minY, maxY = minY-1, maxY+1
	}
	lc := linechart.New(w, 12, minX, maxX, minY, maxY,
		linechart.WithXYSteps(4, 2),
		linechart.WithStyles(st.Subtle, st.Subtle, lipgloss.NewStyle()),
		linechart.WithYLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.4g", v) }),
		linechart.WithXLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.4g", v) }))
	lc.DrawXYAxisAndLabel()
	lc.DrawRuneLineWithStyle(canvas.Float64Point{X: minX, Y: 0}, canvas.Float64Point{X: maxX, Y: 0}, '·', st.Subtle)
	dot := lipgloss.NewStyle().Foreground(st.Accent)
	if st.Mono {
		dot = lipgloss.NewStyle()
	}
	for i := range p.Predicted {
		if finite(p.Predicted[i], p.Residual[i]) {
			lc.DrawRuneWithStyle(canvas.Float64Point{X: p.Predicted[i], Y: p.Residual[i]}, '•', dot)
		}
	}
	return st.Header.Render("RESIDUALS VS PREDICTED") + st.Subtle.Render(fmt.Sprintf("  %d points · y: true − predicted", len(p.Predicted))) + "\n" + lc.View()
}

func histLines(h *Histogram, w int) []string {
	most := 0
	for _, c := range h.Counts {
		most = max(most, c)
	}
	var out []string
	labels := make([]string, len(h.Counts))
	lw := 0
	for i := range h.Counts {
		labels[i] = fmt.Sprintf("%s … %s", common.Metric(h.Edges[i]), common.Metric(h.Edges[i+1]))
		lw = max(lw, common.Width(labels[i]))
	}
	barW := max(w-lw-10, 4)
	for i, c := range h.Counts {
		bar := 0
		if most > 0 {
			bar = c * barW / most
		}
		out = append(out, fmt.Sprintf("  %s %4d %s", common.FitRight(labels[i], lw), c, strings.Repeat("█", bar)))
	}
	return out
}

func importanceLines(imp []Importance, w int) []string {
	fw := 0
	for _, f := range imp {
		fw = max(fw, common.Width(f.Feature))
	}
	fw = min(fw, w/3)
	barW := max(w-fw-14, 4)
	top := imp[0].Value
	var out []string
	for _, f := range imp {
		bar := 0
		if top > 0 {
			bar = int(f.Value / top * float64(barW))
		}
		out = append(out, fmt.Sprintf("  %s %s %s", common.Fit(f.Feature, fw), common.FitRight(common.Metric(f.Value), 8), strings.Repeat("█", bar)))
	}
	return out
}
