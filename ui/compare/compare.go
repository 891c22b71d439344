package compare

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/report"
)

// Store is what the Compare screen reads.
type Store interface {
	Run(ctx context.Context, id int64) (*engine.Run, error)
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
}

var keys = common.RegisterKeys("compare", &struct {
	All, PrevMetric, NextMetric, Scroll, Left, Right, PageLeft, PageRight key.Binding
	Curves, CurveKind, PrevClass, NextClass                               key.Binding
}{
	Left:       common.Binding("←/h", "back", "left", "h"),
	Right:      common.Binding("→/l", "more runs", "right", "l"),
	PageLeft:   common.Binding("H", "a page back", "H", "shift+left"),
	PageRight:  common.Binding("L", "a page on", "L", "shift+right"),
	All:        common.Binding("a", "all/differing params", "a"),
	PrevMetric: common.Binding("↑/k", "metric above", "up", "k"),
	NextMetric: common.Binding("↓/j", "metric below", "down", "j"),
	Scroll:     common.Binding("pgup/pgdn", "scroll", "pgup", "pgdown"),
	Curves:     common.Binding("v", "curves per run / metric", "v"),
	CurveKind:  common.Binding("p", "ROC / precision-recall", "p"),
	PrevClass:  common.Binding("[", "previous class", "["),
	NextClass:  common.Binding("]", "next class", "]"),
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

	// The curves pane (v): each run's report, read when first shown.
	curves      bool
	pr          bool // precision-recall instead of ROC
	class       int  // the class drawn: an index into classes()
	docs        map[int64]*report.Doc
	docErrs     map[int64]error
	docErr      error // no report can be read at all
	docsLoading bool
	docSeq      common.Seq
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
		Short: []key.Binding{keys.Right, keys.Left, keys.PrevMetric, keys.NextMetric, keys.Curves, keys.All, keys.PageRight, keys.PageLeft, keys.Scroll, common.Binding("esc", "back to runs", "esc")},
		Full: [][]key.Binding{
			{keys.PrevMetric, keys.NextMetric, keys.All},
			{keys.Curves, keys.CurveKind, keys.PrevClass, keys.NextClass},
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
		m.cmp = engine.Compare(m.runs, m.all, m.ctx.Registry)
		m.metric = m.defaultMetric()
		m.docs, m.docErrs, m.docErr, m.class = nil, nil, nil, 0
		m.render()
		if m.curves {
			return m.loadDocs()
		}
		return nil
	case docsMsg:
		m.docsLoaded(msg)
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
		case key.Matches(msg, keys.Curves):
			m.curves = !m.curves
			if m.curves && m.docs == nil && !m.docsLoading {
				return m.loadDocs()
			}
			return nil
		case key.Matches(msg, keys.CurveKind):
			m.pr = !m.pr
			return nil
		case key.Matches(msg, keys.PrevClass):
			m.class = max(m.class-1, 0)
			return nil
		case key.Matches(msg, keys.NextClass):
			if m.class < len(m.classes())-1 {
				m.class++
			}
			return nil
		case key.Matches(msg, keys.All):
			m.all = !m.all
			m.cmp = engine.Compare(m.runs, m.all, m.ctx.Registry)
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

// View renders the screen.
func (m *Model) View() string {
	st := m.ctx.Styles
	switch {
	case m.err != nil:
		return common.Block(st.Title.Render("COMPARE")+"\n\n"+st.Error.Render(m.err.Error()), m.w, m.h)
	case m.loading:
		return common.Block(st.Title.Render("COMPARE")+"\n\n"+st.Subtle.Render("Reading the runs…"), m.w, m.h)
	case m.cmp == nil:
		return common.Block(st.Title.Render("COMPARE")+"\n\n"+st.Subtle.Render(common.Wrap("No runs to compare yet. In Runs (3), mark two or more runs with space and press c.", m.w)), m.w, m.h)
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
	right := ""
	if m.curves {
		right = m.curvesPane(rw, bodyH)
	} else {
		right = m.charts(rw, bodyH)
	}
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
