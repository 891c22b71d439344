package runs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

// Store is what the Runs screen reads.
type Store interface {
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
	Latest(ctx context.Context, pipeline string) (int64, error)
	Run(ctx context.Context, id int64) (*engine.Run, error)
	Logs(ctx context.Context, run int64, stage string, from int) ([]engine.LogLine, error)
	Preview(ctx context.Context, run int64, stage string) (*engine.Preview, error)
	Artifacts(ctx context.Context, run int64) ([]engine.ArtifactInfo, error)
}

// Model is the Runs screen.
type Model struct {
	ctx   *common.Context
	store Store
	live  common.LiveChecker
	w, h  int

	all     []engine.RunSummary // newest first
	subj    []query.Run         // each run as queries see it
	rows    []table.Row         // each run's row, built once per change
	shown   []int               // indexes into all of the rows shown
	marked  map[int64]bool
	table   common.Table
	loaded  bool
	loadErr error

	filter common.Filter

	loadSeq  common.Seq
	pollSeq  common.Seq
	polling  bool
	gen      uint64 // the store's generation at the last poll
	detail   *detail
	pendOpen int64 // run to step into once the list has it
	form     *common.Form
	report   *reportView
	confirm  *common.Confirm
	undo     [][]int64 // runs deleted, most recent last, for u
	// The widths the rows are built for, and the columns dropped to make
	// room for the metric (the +N hint).
	metricW int
	dropped []string
}

// New returns the Runs screen reading from store.
func New(ctx *common.Context, store Store, live common.LiveChecker) *Model {
	m := &Model{ctx: ctx, store: store, live: live, marked: map[int64]bool{}}
	m.metricW = 30
	m.table = common.NewTable(ctx.Styles, m.columns(100))
	m.filter = common.NewFilter("text, accuracy>0.9, param.model.C=1, status:failed, tag:NAME, since:7d, or", ctx.Now)
	return m
}

type loadedMsg struct {
	seq  int
	runs []engine.RunSummary
	err  error
}

type polledMsg struct {
	seq  int
	runs []engine.RunSummary // new or changed
	gen  uint64
	err  error
}

// generationer is a store that can say cheaply whether anything changed
// since the last look (*store.DB can).
type generationer interface {
	Generation(ctx context.Context) (uint64, error)
}

// Init loads every run.
func (m *Model) Init() tea.Cmd { return m.load() }

func (m *Model) load() tea.Cmd {
	seq, store, ctx := m.loadSeq.Next(), m.store, m.ctx.Ctx
	return func() tea.Msg {
		runs, err := store.Runs(ctx, engine.RunFilter{})
		return loadedMsg{seq: seq, runs: runs, err: err}
	}
}

// poll asks the store for runs newer than the newest known one and for
// the current state of runs that were unfinished.
func (m *Model) poll() tea.Cmd {
	if m.polling || !m.loaded {
		return nil
	}
	m.polling = true
	seq, store, ctx := m.pollSeq.Next(), m.store, m.ctx.Ctx
	var newest int64
	if len(m.all) > 0 {
		newest = m.all[0].ID
	}
	var unfinished []int64
	for _, s := range m.all {
		if !s.Status.Done() && (m.live == nil || !m.live.Live(s.ID)) {
			unfinished = append(unfinished, s.ID)
		}
	}
	lastGen := m.gen
	return func() tea.Msg {
		msg := polledMsg{seq: seq}
		if g, ok := store.(generationer); ok {
			gen, err := g.Generation(ctx)
			if err == nil {
				msg.gen = gen
				if gen == lastGen {
					return msg // nothing written since the last poll
				}
			}
		}
		latest, err := store.Latest(ctx, "")
		if errors.Is(err, engine.ErrNotFound) {
			return msg
		}
		if err != nil {
			msg.err = err
			return msg
		}
		if latest > newest {
			fresh, err := store.Runs(ctx, engine.RunFilter{Limit: int(latest - newest)})
			if err != nil {
				msg.err = err
				return msg
			}
			for _, s := range fresh {
				if s.ID > newest {
					msg.runs = append(msg.runs, s)
				}
			}
		}
		for _, id := range unfinished {
			r, err := store.Run(ctx, id)
			if err != nil {
				continue
			}
			msg.runs = append(msg.runs, engine.Summarize(r))
		}
		return msg
	}
}

// Resize sets the screen's size.
func (m *Model) Resize(w, h int) {
	m.w, m.h = w, h
	before := m.metricW
	m.table.SetColumns(m.columns(w))
	if m.metricW != before && len(m.all) > 0 {
		// The metric cells are fitted to the column: build them again.
		for i := range m.all {
			m.rows[i] = m.row(&m.all[i])
		}
		m.refreshRows()
	}
	m.table.SetWidth(w)
	m.table.SetHeight(max(h-2, 3))
	m.filter.SetWidth(w)
	if m.detail != nil {
		m.detail.resize(w, h)
	}
	if m.report != nil {
		m.report.resize(w, h)
	}
}

// Capturing reports whether a filter or a form has the keyboard.
func (m *Model) Capturing() bool {
	return m.filter.Active() || m.form != nil || m.confirm != nil || (m.detail != nil && m.detail.filter.Active())
}

// Back closes what is open: a confirmation, the report, a form, the
// stage filter, the run detail, then the run filter.
func (m *Model) Back() bool {
	if m.confirm != nil {
		m.confirm = nil
		return true
	}
	if m.report != nil {
		m.report = nil
		return true
	}
	if m.form != nil {
		m.form = nil
		return true
	}
	if m.detail != nil && m.detail.filter.Set() {
		m.detail.filter.Clear()
		m.detail.refilter()
		m.detail.render()
		return true
	}
	if m.detail != nil {
		m.detail = nil
		return true
	}
	if m.filter.Set() {
		m.filter.Clear()
		m.applyFilter()
		return true
	}
	return false
}

// Summaries returns the runs the screen holds, newest first.
func (m *Model) Summaries() []engine.RunSummary { return m.all }

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		if !m.loadSeq.Current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			m.loadErr = msg.err
			return common.Err(fmt.Errorf("reading runs: %w", msg.err))
		}
		m.loaded, m.loadErr = true, nil
		m.setAll(msg.runs)
		return m.openPending()
	case polledMsg:
		if !m.pollSeq.Current(msg.seq) {
			return nil
		}
		m.polling = false
		if msg.err != nil {
			return common.Err(fmt.Errorf("polling runs: %w", msg.err))
		}
		m.gen = msg.gen
		if len(msg.runs) > 0 {
			m.upsert(msg.runs)
		}
		return m.openPending()
	case common.TickMsg:
		var cmds []tea.Cmd
		cmds = append(cmds, m.poll())
		if m.detail != nil {
			cmds = append(cmds, m.detail.tick())
		}
		m.refreshRunning()
		return tea.Batch(cmds...)
	case common.EventsMsg:
		var snaps []engine.RunSummary
		for _, e := range msg.Events {
			if e.Run != nil && m.loaded {
				snaps = append(snaps, engine.Summarize(e.Run))
			}
		}
		if len(snaps) > 0 {
			m.upsert(snaps)
		}
		if m.detail != nil {
			return m.detail.events(msg.Events)
		}
		return nil
	case common.RunEndedMsg:
		if msg.Run != nil && m.loaded {
			m.upsert([]engine.RunSummary{engine.Summarize(msg.Run)})
		}
		if m.detail != nil && m.detail.id == msg.ID {
			return m.detail.load()
		}
		return nil
	case common.OpenRunMsg:
		m.pendOpen = msg.ID
		if m.loaded {
			if _, ok := m.find(msg.ID); !ok {
				return m.poll()
			}
		}
		return m.openPending()
	case deletedMsg:
		if msg.err != nil {
			return common.Err(fmt.Errorf("delete: %w", msg.err))
		}
		gone := map[int64]bool{}
		for _, id := range msg.ids {
			gone[id] = true
			delete(m.marked, id)
		}
		kept := make([]engine.RunSummary, 0, len(m.all))
		for _, s := range m.all {
			if !gone[s.ID] {
				kept = append(kept, s)
			}
		}
		m.setAll(kept)
		m.undo = append(m.undo, msg.ids)
		if m.detail != nil && gone[m.detail.id] {
			m.detail = nil
		}
		return common.Info(fmt.Sprintf("%s moved to the trash · u undoes (sluice runs restore, until sluice gc empties the trash)", runList(msg.ids)))
	case restoredMsg:
		if msg.err != nil {
			return common.Err(fmt.Errorf("restore: %w", msg.err))
		}
		return tea.Batch(m.load(), common.Info(runList(msg.ids)+" restored"))
	case reportMsg:
		if m.report != nil && m.report.id == msg.id {
			m.report.doc, m.report.err = msg.doc, msg.err
			m.report.render()
		}
		return nil
	case annotatedMsg:
		if msg.err != nil {
			return common.Err(msg.err)
		}
		if k, ok := m.find(msg.id); ok {
			s := m.all[k]
			s.Tags, s.Note = msg.tags, msg.note
			m.upsert([]engine.RunSummary{s})
		}
		if m.detail != nil && m.detail.id == msg.id && m.detail.run != nil {
			m.detail.run.Tags, m.detail.run.Note = msg.tags, msg.note
		}
		return common.Info(msg.what)
	}
	if m.form != nil {
		return common.UpdateModal(&m.form, msg)
	}
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	if m.report != nil {
		switch msg.(type) {
		case tea.KeyMsg, tea.MouseMsg:
			return m.report.update(msg)
		}
	}
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		if m.detail != nil {
			return m.detail.update(msg)
		}
		if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft {
			// The table starts under the one-line header.
			m.table.Click(msg.Y - 1)
			return nil
		}
		return m.table.Update(msg)
	}
	if m.detail != nil {
		return m.detail.update(msg)
	}
	return nil
}

// View renders the table, or the run stepped into.
func (m *Model) View() string {
	st := m.ctx.Styles
	if m.form != nil {
		return lipgloss.Place(m.w, m.h, lipgloss.Center, lipgloss.Center, m.form.View(st, min(m.w, 90), m.h))
	}
	if m.confirm != nil {
		return m.confirm.View(st, m.w, m.h)
	}
	if m.report != nil {
		return m.report.view()
	}
	if m.detail != nil {
		return m.detail.view()
	}
	// The header gives way by whole parts, the least needed last, so no
	// count is cut.
	var head string
	switch {
	case m.filter.Active():
		head = m.filter.View(st, m.w)
	case m.filter.Set():
		parts := []string{st.Title.Render("RUNS") + st.Subtle.Render("  /") + m.filter.Value(),
			st.Subtle.Render(fmt.Sprintf("  %d of %d", len(m.shown), len(m.all)))}
		if m.filter.Err() != nil {
			parts = append(parts, st.Error.Render("  (does not parse: / edits it)"))
		}
		head = common.Parts(m.w, parts...)
	default:
		parts := []string{st.Title.Render("RUNS") + st.Subtle.Render(fmt.Sprintf("  %d run%s", len(m.all), common.Plural(len(m.all))))}
		if n := len(m.markedIDs()); n > 0 {
			parts = append(parts, st.Marked.Render(fmt.Sprintf("  ● %d marked", n)), st.Subtle.Render(" ("+keys.Compare.Help().Key+" compares)"))
		}
		if len(m.dropped) > 0 {
			parts = append(parts, st.Subtle.Render(fmt.Sprintf("  +%d column%s (%s) when wider", len(m.dropped), common.Plural(len(m.dropped)), strings.ToLower(strings.Join(m.dropped, ", ")))))
		}
		if m.ctx.DB != "" {
			parts = append(parts, st.Subtle.Render("  · "+m.ctx.DB))
		}
		head = common.Parts(m.w, parts...)
	}
	var body string
	switch {
	case m.loadErr != nil:
		body = st.Error.Render("Cannot read the runs: " + m.loadErr.Error())
	case !m.loaded:
		body = st.Subtle.Render("Reading the runs…")
	case len(m.all) == 0:
		body = st.Subtle.Render("No runs yet. Press 1 for the pipelines and r to run one, or run `sluice run FILE` in another terminal: it shows up here.")
	case len(m.shown) == 0:
		body = st.Subtle.Render("No run matches the filter. esc clears it.")
	default:
		body = m.table.View()
	}
	return common.Block(head+"\n"+body, m.w, m.h)
}
