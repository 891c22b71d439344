package compare

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// leftWidth is the tables' pane: a little over half, three fifths on a
// narrow terminal, where two runs with their deltas need it.
func (m *Model) leftWidth() int {
	if m.w < 100 {
		return m.w * 3 / 5
	}
	return m.w * 11 / 20
}

// side scrolls the run columns by d.
func (m *Model) side(d int) {
	if m.cmp == nil {
		return
	}
	m.first = min(max(m.first+d, 0), max(len(m.cmp.Runs)-1, 0))
	m.render()
}

// render lays the tables out in the scrolling left pane: the key column
// stays, the run columns scroll sideways (h/l), and each run column is as
// wide as its widest value, so no value is ever cut.
func (m *Model) render() {
	if m.cmp == nil {
		return
	}
	st := m.ctx.Styles
	lw := m.leftWidth()
	n := len(m.cmp.Runs)
	wantKeyW := 10
	for _, p := range m.cmp.Params {
		wantKeyW = max(wantKeyW, len(p.Key))
	}
	for _, r := range m.cmp.Metrics {
		wantKeyW = max(wantKeyW, len(r.Key))
	}
	// Cells first, then the widths they need.
	params := make([][]string, len(m.cmp.Params))
	for i, p := range m.cmp.Params {
		for _, v := range p.Values {
			params[i] = append(params[i], orDash(plain(v)))
		}
	}
	metrics := make([][]string, len(m.cmp.Metrics))
	for i, r := range m.cmp.Metrics {
		for j, v := range r.Values {
			cell := "-"
			if v != nil {
				cell = common.Metric(*v)
				if j > 0 && r.Deltas[j] != nil {
					cell += " (" + common.Delta(*r.Deltas[j]) + ")"
				}
				if j == r.Best {
					cell += " ★"
				}
			}
			metrics[i] = append(metrics[i], cell)
		}
	}
	// The key column takes a third of the pane, or more when every run
	// column fits beside it anyway, or less (down to a quarter; its names
	// are cut in the middle) when that shows one more run column. Its
	// header cell holds the hint of the columns off either side, so the
	// hint takes no room from the runs and is never cut.
	hintW := common.Width(fmt.Sprintf("← %d +%d →", n, n))
	m.first = min(m.first, max(n-1, 0))
	lay := func(strW int) (colW []int, keyW, last int) {
		colW = make([]int, n)
		for j, id := range m.cmp.Runs {
			colW[j] = len(fmt.Sprintf("#%d", id))
			for _, row := range metrics {
				colW[j] = max(colW[j], common.Width(row[j]))
			}
			for _, row := range params {
				cw := common.Width(row[j])
				if _, err := strconv.ParseFloat(row[j], 64); err != nil {
					cw = min(cw, strW)
				}
				colW[j] = max(colW[j], cw)
			}
		}
		runsW := 0
		for _, cw := range colW {
			runsW += 1 + cw
		}
		keyW = max(min(wantKeyW, max(lw/3, lw-3-runsW)), hintW)
		minKeyW := max(min(keyW, max(10, lw/4)), hintW)
		// The run columns that fit from m.first on (at least one).
		fit := func(room int) (last, used int) {
			last = m.first
			for last < n && (last == m.first || used+1+colW[last] <= room) {
				used += 1 + colW[last]
				last++
			}
			return last, used
		}
		last, used := fit(lw - 2 - keyW)
		if more, u := fit(lw - 2 - minKeyW); more > last {
			last, used = more, u
		}
		return colW, max(min(keyW, lw-2-used), hintW), last
	}
	// A string that is not a number (a path, a list of columns) may be
	// cut: to 24 cells, or to 16 or 12 where that shows more runs.
	colW, keyW, last := lay(24)
	for _, strW := range []int{16, 12} {
		if c, k, l := lay(strW); l > last {
			colW, keyW, last = c, k, l
		}
	}
	m.fits = last - m.first
	hint := ""
	if m.first > 0 {
		hint += fmt.Sprintf("← %d", m.first)
	}
	if last < n {
		if hint != "" {
			hint += " "
		}
		hint += fmt.Sprintf("+%d →", n-last)
	}
	var b []string
	head := "  " + common.Fit(hint, keyW)
	for j := m.first; j < last; j++ {
		head += " " + common.Fit(fmt.Sprintf("#%d", m.cmp.Runs[j]), colW[j])
	}
	// Parameters.
	title := "PARAMETERS THAT DIFFER"
	if m.all {
		title = "ALL PARAMETERS"
	}
	b = append(b, st.Header.Render(title)+st.Subtle.Render("  ("+keys.All.Help().Key+" toggles)"))
	if len(m.cmp.Params) == 0 {
		b = append(b, st.Subtle.Render("  none: every parameter is the same"))
	} else {
		b = append(b, st.Header.Render(head))
		for i, p := range m.cmp.Params {
			line := "  " + common.FitMiddle(p.Key, keyW)
			for j := m.first; j < last; j++ {
				cell := common.Fit(params[i][j], colW[j])
				if p.Differs {
					cell = st.Warn.Render(cell)
				}
				line += " " + cell
			}
			b = append(b, line)
		}
	}
	b = append(b, "")
	// Metrics.
	b = append(b, st.Header.Render("METRICS")+st.Subtle.Render("  ★ best · (Δ vs #"+fmt.Sprint(m.cmp.Runs[0])+") · ↑/↓ charts one"))
	if len(m.cmp.Metrics) == 0 {
		b = append(b, st.Subtle.Render("  none of these runs reported metrics"))
	} else {
		b = append(b, st.Header.Render(head))
	}
	for i, r := range m.cmp.Metrics {
		cursor := "  "
		if i == m.metric {
			cursor = common.Cursor + " "
		}
		line := cursor + common.FitMiddle(r.Key, keyW)
		for j := m.first; j < last; j++ {
			cell := common.Fit(metrics[i][j], colW[j])
			if j == r.Best {
				cell = st.Best.Render(cell)
			}
			line += " " + cell
		}
		if i == m.metric {
			line = st.Selected.Render(common.Fit(line, lw))
		}
		b = append(b, line)
	}
	for i := range b {
		b[i] = common.Fit(b[i], lw)
	}
	m.vp.Width = lw
	m.vp.Height = max(m.h-3, 3)
	m.vp.SetContent(strings.Join(b, "\n"))
}

// plain shows a JSON string value without its quotes.
func plain(v string) string {
	var s string
	if strings.HasPrefix(v, `"`) && json.Unmarshal([]byte(v), &s) == nil {
		return s
	}
	return v
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
