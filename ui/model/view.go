package model

import (
	"fmt"
	"strings"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/report"
)

func (m *Model) columns(w int) []table.Column {
	pipe := max(w-6-12-4, 6)
	return []table.Column{{Title: "RUN", Width: 5}, {Title: "PIPELINE", Width: pipe}, {Title: "STAGE", Width: 10}}
}

func (m *Model) listWidth() int { return min(max(m.w*3/10, 26), 36) }

// render fills the details pane.
func (m *Model) render() {
	st := m.ctx.Styles
	w := m.vp.Width
	e, ok := m.selected()
	var b []string
	add := func(s ...string) { b = append(b, s...) }
	switch {
	case !ok:
	case m.svc == nil:
		add(st.Subtle.Render("This sluice cannot describe models in the workbench; `sluice show` lists them."))
	default:
		k := keyOf(e.run, e.stage)
		d, have := m.details[k]
		if err := m.detErr[k]; err != nil {
			add(st.Error.Render(err.Error()))
			break
		}
		if !have {
			add(st.Subtle.Render("Reading the model…"))
			break
		}
		add(m.detailLines(d, w)...)
	}
	text := strings.Join(b, "\n")
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = common.Fit(lines[i], w)
	}
	m.vp.SetContent(strings.Join(lines, "\n"))
}

func (m *Model) detailLines(d *Details, w int) []string {
	st := m.ctx.Styles
	var b []string
	add := func(s ...string) { b = append(b, s...) }
	field := func(k, v string) { add(st.Subtle.Render(common.Fit(k, 11)) + v) }
	add(st.Bold.Render(d.Estimator) + st.Subtle.Render(fmt.Sprintf("  run %d · stage %s", d.Run, d.Stage)))
	task := d.Task
	if d.Target != "" {
		task += " → " + d.Target
	}
	if task != "" {
		field("task", task)
	}
	if len(d.Aliases) > 0 {
		field("aliases", strings.Join(d.Aliases, ", "))
	}
	if len(d.Classes) > 0 {
		field("classes", strings.Join(d.Classes, ", "))
	}
	// The hash is compared by eye with `sha256sum`: wrap it, never cut it.
	for i, sum := 0, d.SHA256; sum != ""; i++ {
		n := min(len(sum), max(w-11, 16))
		if i == 0 {
			field("sha256", sum[:n])
		} else {
			field("", sum[:n])
		}
		sum = sum[n:]
	}
	if d.Size > 0 {
		field("size", common.Bytes(d.Size))
	}
	add("")
	add(st.Header.Render("CHAIN") + st.Subtle.Render("  raw rows in, predictions out"))
	if len(d.Chain) == 0 {
		add(st.Subtle.Render("  no preprocessing"))
	}
	for i, c := range d.Chain {
		add(fmt.Sprintf("  %d  %s", i+1, c))
	}
	add(fmt.Sprintf("  %d  %s", len(d.Chain)+1, d.Estimator))
	if len(d.Params) > 0 {
		add("", st.Header.Render("PARAMETERS"))
		add(common.Fields("  ", d.Params, func(_ string, v any) string { return common.Value(v) })...)
	}
	if len(d.Metrics) > 0 {
		add("", st.Header.Render("METRICS"))
		add(common.Fields("  ", d.Metrics, func(_ string, v float64) string { return common.Metric(v) })...)
	}
	if len(d.Confusion) > 0 {
		add("", st.Header.Render("CONFUSION MATRIX")+st.Subtle.Render("  rows: true class · columns: predicted"))
		add(report.ConfusionLines(d.Classes, d.Confusion, w)...)
	}
	if len(d.Importances) > 0 {
		add("", st.Header.Render("FEATURE IMPORTANCES"))
		add(importanceChart(st, d, w))
	}
	return b
}

// importanceChart draws the importances as horizontal bars, largest
// first, at most 15.
func importanceChart(st *common.Styles, d *Details, w int) string {
	type fi struct {
		name string
		v    float64
	}
	var all []fi
	for _, im := range d.Importances {
		all = append(all, fi{im.Feature, im.Value})
	}
	// Largest magnitude first; stable for equal ones.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && abs(all[j].v) > abs(all[j-1].v); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	if len(all) > 15 {
		all = all[:15]
	}
	labelW := 0
	labels := make([]string, len(all))
	maxV := 0.0
	for i, f := range all {
		labels[i] = fmt.Sprintf("%s %.4f", f.name, f.v)
		labelW = max(labelW, len(labels[i]))
		maxV = max(maxV, abs(f.v))
	}
	if maxV == 0 {
		maxV = 1
	}
	bars := make([]barchart.BarData, len(all))
	style := lipgloss.NewStyle().Foreground(st.Bar)
	for i, f := range all {
		bars[i] = barchart.BarData{Label: common.Fit(labels[i], labelW), Values: []barchart.BarValue{{Name: f.name, Value: abs(f.v), Style: style}}}
	}
	cw := min(w, labelW+40)
	bc := barchart.New(cw, len(all), barchart.WithHorizontalBars(), barchart.WithNoAutoBarWidth(), barchart.WithBarWidth(1),
		barchart.WithBarGap(0), barchart.WithNoAutoMaxValue(), barchart.WithMaxValue(maxV),
		barchart.WithStyles(st.Subtle, lipgloss.NewStyle()))
	bc.PushAll(bars)
	bc.Resize(cw, len(all)) // place the axis after the labels
	bc.Draw()
	return bc.View()
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// View renders the screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	if m.confirm != nil {
		return m.confirm.View(st, m.w, m.h)
	}
	if m.form != nil {
		return lipgloss.Place(m.w, m.h, lipgloss.Center, lipgloss.Center, m.form.View(st, min(m.w, 90), m.h))
	}
	head := st.Title.Render("MODELS") + st.Subtle.Render("  fitted by recent runs")
	switch {
	case m.filter.Active():
		head = m.filter.View(st, m.w)
	case m.filter.Set():
		head += st.Subtle.Render(fmt.Sprintf("  /%s  %d of %d", m.filter.Value(), len(m.entries), len(m.all)))
	}
	var left string
	switch {
	case m.err != nil:
		left = st.Error.Render(m.err.Error())
	case !m.loaded:
		left = st.Subtle.Render("Looking for models…")
	case len(m.all) == 0:
		left = st.Subtle.Render("No model yet: run a pipeline\nwith a train or tune stage.")
	case len(m.entries) == 0:
		left = st.Subtle.Render("No model matches the filter.\nesc clears it.")
	default:
		left = m.table.View()
	}
	lw := m.listWidth()
	bodyH := m.h - 2
	if strings.Count(head, "\n") > 0 { // the filter points at a problem on a second line
		bodyH--
	}
	body := lipgloss.JoinHorizontal(lipgloss.Top,
		common.Block(left, lw, bodyH),
		common.Block(strings.Repeat("│\n", bodyH), 1, bodyH),
		common.Block(m.vp.View(), m.w-lw-1, bodyH))
	return common.Block(head+"\n\n"+body, m.w, m.h)
}
