package compare

import (
	"fmt"
	"math"
	"strings"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// charts draws the bar chart of the selected metric across the runs and
// the line chart of it over the pipeline's history.
func (m *Model) charts(w, h int) string {
	st := m.ctx.Styles
	if len(m.cmp.Metrics) == 0 {
		return st.Subtle.Render("No metric to chart.")
	}
	row := m.cmp.Metrics[min(m.metric, len(m.cmp.Metrics)-1)]
	var out []string
	// Bar chart across the compared runs.
	out = append(out, st.Header.Render(common.Fit(strings.ToUpper(row.Key)+" BY RUN", w)))
	labelW := 0
	labels := make([]string, len(row.Values))
	for i, v := range row.Values {
		val := "-"
		if v != nil {
			val = common.Metric(*v)
		}
		labels[i] = fmt.Sprintf("#%d %s", m.cmp.Runs[i], val)
		if i == row.Best {
			labels[i] += " best"
		}
		labelW = max(labelW, len(labels[i]))
	}
	barH := min(len(row.Values), max(h/2-2, 2))
	bars := make([]barchart.BarData, 0, len(row.Values))
	maxV := 0.0
	for i, v := range row.Values {
		val := 0.0
		if v != nil && !math.IsNaN(*v) {
			val = math.Abs(*v)
		}
		maxV = max(maxV, val)
		style := lipgloss.NewStyle().Foreground(m.ctx.Styles.Bar)
		if i == row.Best {
			style = lipgloss.NewStyle().Foreground(lipgloss.Color("78"))
			if st.Mono {
				style = lipgloss.NewStyle()
			}
		}
		bars = append(bars, barchart.BarData{Label: common.Fit(labels[i], labelW), Values: []barchart.BarValue{{Name: labels[i], Value: val, Style: style}}})
	}
	if maxV == 0 {
		maxV = 1
	}
	bc := barchart.New(w, barH, barchart.WithHorizontalBars(), barchart.WithNoAutoBarWidth(), barchart.WithBarWidth(1), barchart.WithBarGap(0),
		barchart.WithMaxValue(maxV), barchart.WithNoAutoMaxValue(), barchart.WithStyles(st.Subtle, lipgloss.NewStyle()))
	bc.PushAll(bars)
	bc.Resize(w, barH) // place the axis after the labels
	bc.Draw()
	out = append(out, bc.View(), "")
	// Line chart over the pipeline's history.
	metric := row.Key
	stage, name, _ := strings.Cut(row.Key, ".")
	var xs, ys []float64
	for _, r := range m.history {
		s, ok := r.Stage(stage)
		if !ok {
			continue
		}
		if v, ok := s.Metrics[name]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			xs = append(xs, float64(r.ID))
			ys = append(ys, v)
		}
	}
	lh := h - len(out) - 1
	out = append(out, st.Header.Render(common.Fit(fmt.Sprintf("%s OVER %d RUNS OF %s", strings.ToUpper(metric), len(xs), m.cmp.Pipelines[0]), w)))
	if len(xs) < 2 || lh < 5 {
		out = append(out, st.Subtle.Render(common.Wrap("Too few runs of this pipeline report it to draw a line.", w)))
		return strings.Join(out, "\n")
	}
	minY, maxY := ys[0], ys[0]
	for _, y := range ys {
		minY, maxY = min(minY, y), max(maxY, y)
	}
	if minY == maxY {
		minY, maxY = minY-0.5, maxY+0.5
	} else {
		pad := (maxY - minY) * 0.1
		minY, maxY = minY-pad, maxY+pad
	}
	lc := linechart.New(w, lh, xs[0], xs[len(xs)-1], minY, maxY,
		linechart.WithXYSteps(4, 2),
		linechart.WithStyles(st.Subtle, st.Subtle, lipgloss.NewStyle().Foreground(m.ctx.Styles.Accent)),
		linechart.WithYLabelFormatter(func(_ int, v float64) string { return trimFloat(v) }),
		linechart.WithXLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("#%.0f", v) }))
	lc.DrawXYAxisAndLabel()
	for i := 1; i < len(xs); i++ {
		lc.DrawLine(canvas.Float64Point{X: xs[i-1], Y: ys[i-1]}, canvas.Float64Point{X: xs[i], Y: ys[i]}, runes.ArcLineStyle)
	}
	for i := range xs {
		for _, id := range m.cmp.Runs {
			if int64(xs[i]) == id {
				lc.DrawRune(canvas.Float64Point{X: xs[i], Y: ys[i]}, '◆')
			}
		}
	}
	out = append(out, lc.View())
	return strings.Join(out, "\n")
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}
