package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/NimbleMarkets/ntcharts/barchart"
	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Store is what the Compare screen reads.
type Store interface {
	Run(ctx context.Context, id int64) (*engine.Run, error)
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
}

var keys = common.RegisterKeys("compare", &struct {
	All, PrevMetric, NextMetric, Scroll, Left, Right, PageLeft, PageRight key.Binding
}{
	Left:       common.Binding("←/h", "back", "left", "h"),
	Right:      common.Binding("→/l", "more runs", "right", "l"),
	PageLeft:   common.Binding("H", "a page back", "H", "shift+left"),
	PageRight:  common.Binding("L", "a page on", "L", "shift+right"),
	All:        common.Binding("a", "all/differing params", "a"),
	PrevMetric: common.Binding("↑/k", "metric above", "up", "k"),
	NextMetric: common.Binding("↓/j", "metric below", "down", "j"),
	Scroll:     common.Binding("pgup/pgdn", "scroll", "pgup", "pgdown"),
}, "Scroll")

// Model is the Compare screen.
type Model struct {
	ctx   *common.Context
	store Store
	w, h  int

	ids     []int64
	runs    []*engine.Run
	cmp     *engine.Comparison
	history []*engine.Run // the first run's pipeline, newest 100, oldest first
	all     bool
	metric  int
	err     error
	loading bool
	seq     common.Seq
	vp      viewport.Model
	first   int // the first run column shown (h/l scroll sideways)
	fits    int // how many run columns the last render showed
}

// New returns the Compare screen.
func New(ctx *common.Context, store Store) *Model {
	m := &Model{ctx: ctx, store: store}
	m.vp = viewport.New(40, 10)
	m.vp.KeyMap = viewport.KeyMap{
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u")),
	}
	m.vp.MouseWheelEnabled = true
	return m
}

// Init does nothing until runs are given.
func (m *Model) Init() tea.Cmd { return nil }

// Resize sets the screen's size.
func (m *Model) Resize(w, h int) {
	m.w, m.h = w, h
	m.render()
}

// Keys are the screen's bindings.
func (m *Model) Keys() help.KeyMap {
	return common.KeyMap{
		Short: []key.Binding{keys.Right, keys.Left, keys.PrevMetric, keys.NextMetric, keys.All, keys.PageRight, keys.PageLeft, keys.Scroll, common.Binding("esc", "back to runs", "esc")},
		Full: [][]key.Binding{
			{keys.PrevMetric, keys.NextMetric, keys.All},
			{keys.Left, keys.Right, keys.PageLeft, keys.PageRight},
			{keys.Scroll, common.Binding("esc", "back to runs", "esc")},
		},
	}
}

// Capturing is always false: the screen has no text field.
func (m *Model) Capturing() bool { return false }

// Back returns to the Runs screen.
func (m *Model) Back() bool { return false }

type loadedMsg struct {
	seq     int
	runs    []*engine.Run
	history []*engine.Run
	err     error
}

// historyRuns is how many of the pipeline's newest runs the line chart
// reads.
const historyRuns = 100

func (m *Model) load(ids []int64) tea.Cmd {
	seq, store, ctx := m.seq.Next(), m.store, m.ctx.Ctx
	m.ids, m.loading, m.err = ids, true, nil
	return func() tea.Msg {
		runs := make([]*engine.Run, 0, len(ids))
		for _, id := range ids {
			r, err := store.Run(ctx, id)
			if err != nil {
				return loadedMsg{seq: seq, err: err}
			}
			runs = append(runs, r)
		}
		sums, err := store.Runs(ctx, engine.RunFilter{Pipeline: runs[0].Pipeline, Status: []engine.Status{engine.StatusSucceeded}, Limit: historyRuns})
		if err != nil {
			return loadedMsg{seq: seq, err: err}
		}
		var hist []*engine.Run
		for _, s := range sums {
			if r, err := store.Run(ctx, s.ID); err == nil {
				hist = append(hist, r)
			}
		}
		sort.Slice(hist, func(i, j int) bool { return hist[i].ID < hist[j].ID })
		return loadedMsg{seq: seq, runs: runs, history: hist}
	}
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case common.CompareMsg:
		if len(msg.IDs) == 0 {
			return nil
		}
		return m.load(msg.IDs)
	case loadedMsg:
		if !m.seq.Current(msg.seq) {
			return nil
		}
		m.loading = false
		if msg.err != nil {
			m.err = msg.err
			return common.Err(fmt.Errorf("compare: %w", msg.err))
		}
		m.runs, m.history, m.first = msg.runs, msg.history, 0
		m.cmp = engine.Compare(m.runs, m.all)
		m.metric = m.defaultMetric()
		m.render()
		return nil
	case common.TickMsg:
		return nil
	case tea.KeyMsg:
		if m.cmp == nil {
			return nil
		}
		switch {
		case key.Matches(msg, keys.Left):
			m.side(-1)
			return nil
		case key.Matches(msg, keys.Right):
			m.side(1)
			return nil
		case key.Matches(msg, keys.PageLeft):
			m.side(-max(m.fits, 1))
			return nil
		case key.Matches(msg, keys.PageRight):
			m.side(max(m.fits, 1))
			return nil
		case key.Matches(msg, keys.All):
			m.all = !m.all
			m.cmp = engine.Compare(m.runs, m.all)
			m.render()
			return nil
		case key.Matches(msg, keys.PrevMetric):
			if m.metric > 0 {
				m.metric--
				m.render()
			}
			return nil
		case key.Matches(msg, keys.NextMetric):
			if m.metric < len(m.cmp.Metrics)-1 {
				m.metric++
				m.render()
			}
			return nil
		}
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	case tea.MouseMsg:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	}
	return nil
}

// defaultMetric picks the first metric named like a headline score.
func (m *Model) defaultMetric() int {
	// The last stage's (the evaluation's) score, as run listings headline.
	for _, want := range []string{"accuracy", "f1", "f1_macro", "r2", "roc_auc", "rmse"} {
		for i := len(m.cmp.Metrics) - 1; i >= 0; i-- {
			if strings.HasSuffix(m.cmp.Metrics[i].Key, "."+want) {
				return i
			}
		}
	}
	return max(len(m.cmp.Metrics)-1, 0)
}

func (m *Model) leftWidth() int { return m.w * 11 / 20 }

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
	keyW := 10
	for _, p := range m.cmp.Params {
		keyW = max(keyW, len(p.Key))
	}
	for _, r := range m.cmp.Metrics {
		keyW = max(keyW, len(r.Key))
	}
	keyW = min(keyW, lw/3)
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
	colW := make([]int, n)
	for j, id := range m.cmp.Runs {
		colW[j] = len(fmt.Sprintf("#%d", id))
		for _, row := range metrics {
			colW[j] = max(colW[j], common.Width(row[j]))
		}
		for _, row := range params {
			colW[j] = max(colW[j], min(common.Width(row[j]), 24)) // long strings may be cut; numbers are short
		}
	}
	// The run columns that fit from m.first on (at least one).
	m.first = min(m.first, max(n-1, 0))
	fit := func(room int) int {
		last := m.first
		for used := 0; last < n && (last == m.first || used+1+colW[last] <= room); last++ {
			used += 1 + colW[last]
		}
		return last
	}
	last := fit(lw - 2 - keyW)
	if m.first > 0 || last < n {
		// Leave room for the hint of the columns off either side, so it is
		// never cut.
		last = fit(lw - 2 - keyW - len(fmt.Sprintf("  ← %d +%d →", n, n)))
	}
	m.fits = last - m.first
	var b []string
	head := common.Fit("", 2+keyW)
	for j := m.first; j < last; j++ {
		head += " " + common.Fit(fmt.Sprintf("#%d", m.cmp.Runs[j]), colW[j])
	}
	if m.first > 0 || last < n {
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
		head += "  " + hint
	}
	// Parameters.
	title := "PARAMETERS THAT DIFFER"
	if m.all {
		title = "ALL PARAMETERS"
	}
	b = append(b, st.Header.Render(title)+st.Subtle.Render("  (a toggles)"))
	if len(m.cmp.Params) == 0 {
		b = append(b, st.Subtle.Render("  none: every parameter is the same"))
	} else {
		b = append(b, st.Header.Render(head))
		for i, p := range m.cmp.Params {
			line := "  " + common.Fit(p.Key, keyW)
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
		line := cursor + common.Fit(r.Key, keyW)
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

// View renders the screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	switch {
	case m.err != nil:
		return common.Block(st.Title.Render("COMPARE")+"\n\n"+st.Error.Render(m.err.Error()), m.w, m.h)
	case m.loading:
		return common.Block(st.Title.Render("COMPARE")+"\n\n"+st.Subtle.Render("Reading the runs…"), m.w, m.h)
	case m.cmp == nil:
		return common.Block(st.Title.Render("COMPARE")+"\n\n"+st.Subtle.Render("No runs to compare yet. In Runs (3), mark two or more runs with space and press c."), m.w, m.h)
	}
	ids := make([]string, len(m.cmp.Runs))
	for i, id := range m.cmp.Runs {
		ids[i] = fmt.Sprintf("#%d", id)
	}
	pipes := uniq(m.cmp.Pipelines)
	head := st.Title.Render("COMPARE") + "  " + st.Bold.Render(strings.Join(ids, " · ")) + st.Subtle.Render("  "+strings.Join(pipes, ", "))
	if len(pipes) > 1 {
		head = st.Title.Render("COMPARE") + "  " + st.Warn.Render(fmt.Sprintf("⚠ runs of %d different pipelines (%s): their parameters and metrics may not mean the same", len(pipes), strings.Join(pipes, ", ")))
	}
	diff := "first stage to differ: "
	if m.cmp.FirstDiff == "" {
		diff += "none (every stage's fingerprint matches)"
	} else {
		diff += m.cmp.FirstDiff
	}
	lw := m.leftWidth()
	rw := m.w - lw - 1
	bodyH := m.h - 3
	right := m.charts(rw, bodyH)
	body := lipgloss.JoinHorizontal(lipgloss.Top,
		common.Block(m.vp.View(), lw, bodyH),
		common.Block(strings.Repeat("│\n", bodyH), 1, bodyH),
		common.Block(right, rw, bodyH))
	return common.Block(head+"\n"+st.Subtle.Render(diff)+"\n\n"+body, m.w, m.h)
}

func uniq(l []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

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
		out = append(out, st.Subtle.Render("Too few runs of this pipeline report it to draw a line."))
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
