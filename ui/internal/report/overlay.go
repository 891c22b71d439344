package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Series is one line of an overlay: a class's curve in a report, or one
// run's curve when runs are compared.
type Series struct {
	Label string // in the legend, after the series' mark
	X, Y  []float64
	Note  string // after the label ("AUC 0.9876"); "" for none
}

// Bounds are an overlay's axes.
type Bounds struct{ MinX, MaxX, MinY, MaxY float64 }

// Unit is the unit square of ROC and precision-recall curves.
var Unit = Bounds{0, 1, 0, 1}

// Overlay draws every series on one chart of w×h cells (h counts the
// plot only; the title and the legend come on top of it), each in its
// own colour and with its own mark at a few points so the lines are told
// apart without colour, and a legend naming each series with its mark.
func Overlay(st *common.Styles, title, xLabel string, series []Series, b Bounds, w, h int) string {
	lc := linechart.New(w, h, b.MinX, b.MaxX, b.MinY, b.MaxY,
		linechart.WithXYSteps(4, 2),
		linechart.WithStyles(st.Subtle, st.Subtle, lipgloss.NewStyle()),
		linechart.WithYLabelFormatter(func(_ int, v float64) string { return axisLabel(v, b.MaxY-b.MinY) }),
		linechart.WithXLabelFormatter(func(_ int, v float64) string { return axisLabel(v, b.MaxX-b.MinX) }))
	lc.DrawXYAxisAndLabel()
	var legend []string
	for i, s := range series {
		style := lipgloss.NewStyle().Foreground(classColors[i%len(classColors)])
		if st.Mono {
			style = lipgloss.NewStyle()
		}
		xs, ys := s.X, s.Y
		for j := 1; j < len(xs) && j < len(ys); j++ {
			if finite(xs[j-1], ys[j-1], xs[j], ys[j]) {
				lc.DrawLineWithStyle(canvas.Float64Point{X: xs[j-1], Y: ys[j-1]}, canvas.Float64Point{X: xs[j], Y: ys[j]}, runes.ThinLineStyle, style)
			}
		}
		mark := classMarks[i%len(classMarks)]
		// Marks at a few points, spread so that two series' marks do not
		// fall on the same points.
		n := len(xs)
		for _, f := range []float64{0.2, 0.45, 0.7, 0.9} {
			j := int(f*float64(n)) + i%3
			if j < n && j < len(ys) && finite(xs[j], ys[j]) {
				lc.DrawRuneWithStyle(canvas.Float64Point{X: xs[j], Y: ys[j]}, mark, style)
			}
		}
		item := style.Render(string(mark)) + " " + s.Label
		if s.Note != "" {
			item += " " + s.Note
		}
		legend = append(legend, item)
	}
	head := st.Header.Render(title)
	if xLabel != "" {
		head += st.Subtle.Render("  x: " + xLabel)
	}
	return common.Fit(head, w) + "\n" + lc.View() + "\n" + wrapJoin(legend, "  ", w)
}

// LegendLines is how many lines Overlay's legend takes for these labels
// in w cells (each item is a mark, a space and Label Note).
func LegendLines(series []Series, w int) int {
	items := make([]string, len(series))
	for i, s := range series {
		items[i] = "● " + s.Label
		if s.Note != "" {
			items[i] += " " + s.Note
		}
	}
	return strings.Count(wrapJoin(items, "  ", w), "\n") + 1
}

// axisLabel writes an axis value with as many decimals as its span needs.
func axisLabel(v, span float64) string {
	switch {
	case span <= 2:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 1e5:
		return fmt.Sprintf("%.3g", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// ResidualDensity is a histogram of residuals as a line: the centre of
// each bin against the share of the residuals in it, so runs with
// different bins or test sets draw on one chart.
func ResidualDensity(h *Histogram) (xs, ys []float64) {
	total := 0
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 || len(h.Edges) != len(h.Counts)+1 {
		return nil, nil
	}
	for i, c := range h.Counts {
		xs = append(xs, (h.Edges[i]+h.Edges[i+1])/2)
		ys = append(ys, float64(c)/float64(total))
	}
	return xs, ys
}

// Span returns bounds that hold every point of the series, padded a
// little, with y from 0 when lo0 is set.
func Span(series []Series, lo0 bool) (Bounds, bool) {
	b := Bounds{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	if lo0 {
		b.MinY = 0
	}
	any := false
	for _, s := range series {
		for j := range s.X {
			if j < len(s.Y) && finite(s.X[j], s.Y[j]) {
				b.MinX, b.MaxX = min(b.MinX, s.X[j]), max(b.MaxX, s.X[j])
				b.MinY, b.MaxY = min(b.MinY, s.Y[j]), max(b.MaxY, s.Y[j])
				any = true
			}
		}
	}
	if !any {
		return Bounds{}, false
	}
	if b.MinX == b.MaxX {
		b.MinX, b.MaxX = b.MinX-1, b.MaxX+1
	}
	if b.MinY == b.MaxY {
		b.MaxY = b.MinY + 1
	}
	b.MaxY += (b.MaxY - b.MinY) * 0.05
	return b, true
}
