package model

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
	"github.com/sluice-ml/sluice/ui/internal/query"
)

// Store is what the Model screen reads to find models.
type Store interface {
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
	Artifacts(ctx context.Context, run int64) ([]engine.ArtifactInfo, error)
}

// Details is a fitted model as the screen shows it: the engine's one
// description of a model.
type Details = engine.ModelDescription

// Service describes and exports models.
type Service interface {
	Describe(ctx context.Context, run int64, stage string) (*Details, error)
	Export(ctx context.Context, run int64, stage, path string) (string, error)
	// Alias points NAME@alias (NAME: the run's pipeline) at the model and
	// returns the address.
	Alias(ctx context.Context, run int64, stage, alias string) (string, error)
}

var keys = common.RegisterKeys("model", &struct {
	Export, Reload, Alias, Filter key.Binding
}{
	Export: common.Binding("e", "export", "e"),
	Reload: common.Binding("R", "reload list", "R"),
	Alias:  common.Binding("a", "set alias (NAME@champion)", "a"),
	Filter: common.Binding("/", "filter", "/"),
})

// entry is one model in the list.
type entry struct {
	run      int64
	pipeline string
	stage    string
	status   engine.Status
	sub      *subject // what / matches
}

// subject is a model as a query sees it: its run, and its stage's id in
// the free text.
type subject struct {
	*query.Run
	text string
}

func newSubject(r *engine.RunSummary, stage string) *subject {
	q := query.NewRun(r)
	return &subject{Run: q, text: q.Search + " " + strings.ToLower(stage)}
}

// Text is the run's search text and the stage's id.
func (s *subject) Text() string { return s.text }

// Model is the Model screen.
type Model struct {
	ctx      *common.Context
	store    Store
	svc      Service
	w, h     int
	all      []entry // the models listed
	entries  []entry // those the filter keeps, as shown
	filter   common.Filter
	table    common.Table
	loaded   bool
	err      error
	details  map[string]*Details
	detErr   map[string]error
	want     *entry // a model asked for that the list did not hold yet
	vp       viewport.Model
	form     *common.Form
	confirm  *common.Confirm
	path     string
	alias    string
	aliasing bool // the form open is the alias form
	seq      common.Seq
}

// New returns the Model screen. svc may be nil: the list then shows, but
// not the details.
func New(ctx *common.Context, store Store, svc Service) *Model {
	m := &Model{ctx: ctx, store: store, svc: svc, details: map[string]*Details{}, detErr: map[string]error{}}
	m.table = common.NewTable(ctx.Styles, m.columns(30))
	m.filter = common.NewFilter("text, stage, accuracy>0.9, param.STAGE.NAME=V, tag:NAME, since:7d", ctx.Now)
	m.vp = viewport.New(40, 10)
	m.vp.KeyMap = viewport.KeyMap{
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u")),
	}
	m.vp.MouseWheelEnabled = true
	return m
}

// Resize sets the screen's size.
func (m *Model) Resize(w, h int) {
	m.w, m.h = w, h
	lw := m.listWidth()
	m.filter.SetWidth(w)
	m.table.SetColumns(m.columns(lw))
	m.table.SetWidth(lw)
	m.table.SetHeight(max(h-2, 3))
	m.vp.Width = max(w-lw-1, 20)
	m.vp.Height = max(h-2, 3)
	m.render()
}

// Keys are the screen's bindings.
func (m *Model) Keys() help.KeyMap {
	if m.form != nil {
		action := "export"
		if m.aliasing {
			action = "set alias"
		}
		return common.KeyMap{Short: []key.Binding{common.Binding("enter", action, "enter"), common.Binding("esc", "cancel", "esc")}}
	}
	if m.filter.Active() {
		return common.KeyMap{Short: common.FilterKeys}
	}
	short := []key.Binding{common.Nav.Up, common.Nav.Down, keys.Filter, m.ctx.Mutating(keys.Export), common.Binding("pgup/pgdn", "scroll", "pgup"), keys.Reload}
	return common.KeyMap{Short: short, Full: [][]key.Binding{append(short, m.ctx.Mutating(keys.Alias))}}
}

// Capturing reports whether a form or the filter has the keyboard.
func (m *Model) Capturing() bool { return m.form != nil || m.confirm != nil || m.filter.Active() }

// Back closes the export form, or clears the filter.
func (m *Model) Back() bool {
	if m.form != nil || m.confirm != nil {
		m.form, m.confirm = nil, nil
		return true
	}
	if m.filter.Set() {
		m.filter.Clear()
		m.refilter()
		return true
	}
	return false
}

type listMsg struct {
	seq     int
	entries []entry
	err     error
}

type detailsMsg struct {
	key string
	d   *Details
	err error
}

// Init lists the models of recent runs.
func (m *Model) Init() tea.Cmd { return m.list() }

// list finds the models kept by the newest succeeded runs.
func (m *Model) list() tea.Cmd {
	seq, store, ctx := m.seq.Next(), m.store, m.ctx.Ctx
	return func() tea.Msg {
		runs, err := store.Runs(ctx, engine.RunFilter{Status: []engine.Status{engine.StatusSucceeded}, Limit: 40})
		if err != nil {
			return listMsg{seq: seq, err: err}
		}
		var out []entry
		for _, r := range runs {
			arts, err := store.Artifacts(ctx, r.ID)
			if err != nil {
				continue
			}
			for _, a := range arts {
				if a.Name == "model" {
					out = append(out, entry{run: r.ID, pipeline: r.Pipeline, stage: a.Stage, status: r.Status, sub: newSubject(&r, a.Stage)})
				}
			}
		}
		return listMsg{seq: seq, entries: out}
	}
}

func keyOf(run int64, stage string) string { return fmt.Sprintf("%d/%s", run, stage) }

func (m *Model) selected() (entry, bool) {
	c := m.table.Cursor()
	if c < 0 || c >= len(m.entries) {
		return entry{}, false
	}
	return m.entries[c], true
}

// describe reads the selected model's details once.
func (m *Model) describe() tea.Cmd {
	e, ok := m.selected()
	if !ok || m.svc == nil {
		return nil
	}
	k := keyOf(e.run, e.stage)
	if _, done := m.details[k]; done {
		return nil
	}
	if _, failed := m.detErr[k]; failed {
		return nil
	}
	svc, ctx := m.svc, m.ctx.Ctx
	return func() tea.Msg {
		d, err := svc.Describe(ctx, e.run, e.stage)
		return detailsMsg{key: k, d: d, err: err}
	}
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case listMsg:
		if !m.seq.Current(msg.seq) {
			return nil
		}
		if msg.err != nil {
			m.err = msg.err
			return common.Err(fmt.Errorf("listing models: %w", msg.err))
		}
		m.loaded, m.err = true, nil
		m.all = msg.entries
		m.keep()
		m.setRows()
		if m.want != nil {
			return m.open(m.want.run, m.want.stage)
		}
		m.render()
		return m.describe()
	case common.OpenModelMsg:
		if m.filter.Set() { // the model asked for must be in view
			m.filter.Clear()
			m.refilter()
		}
		return m.open(msg.Run, msg.Stage)
	case common.RunEndedMsg:
		if msg.Run != nil && msg.Run.Status == engine.StatusSucceeded {
			return m.list()
		}
		return nil
	case detailsMsg:
		if msg.err != nil {
			m.detErr[msg.key] = msg.err
		} else {
			m.details[msg.key] = msg.d
		}
		m.render()
		return nil
	case aliasedMsg:
		if msg.err != nil {
			return common.Err(fmt.Errorf("alias: %w", msg.err))
		}
		delete(m.details, keyOf(msg.run, msg.stage))
		return tea.Batch(common.Info(fmt.Sprintf("%s → run %d stage %s", msg.address, msg.run, msg.stage)), m.describe())
	case exportedMsg:
		if msg.err != nil {
			return common.Err(fmt.Errorf("export: %w", msg.err))
		}
		return common.Info(fmt.Sprintf("exported the model of run %d stage %s to %s (sha256 %s)", msg.run, msg.stage, msg.path, msg.sha))
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	}
	if m.form != nil {
		return common.UpdateModal(&m.form, msg)
	}
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	return nil
}

// open selects the model of run's stage ("" for the run's first model).
func (m *Model) open(run int64, stage string) tea.Cmd {
	for i, e := range m.entries {
		if e.run == run && (stage == "" || e.stage == stage) {
			m.want = nil
			m.table.SetCursor(i)
			m.vp.GotoTop()
			m.render()
			return m.describe()
		}
	}
	if !m.loaded || m.want == nil || m.want.run != run {
		m.want = &entry{run: run, stage: stage}
		return m.list()
	}
	m.want = nil
	if stage == "" {
		return common.Errorf(fmt.Sprintf("run %d kept no model", run))
	}
	// Not in the recent list (an older or failed run): add it.
	m.all = append([]entry{{run: run, stage: stage, sub: newSubject(&engine.RunSummary{ID: run}, stage)}}, m.all...)
	m.refilter()
	m.table.SetCursor(0)
	m.render()
	return m.describe()
}

// refilter keeps the models the filter matches, the selection on the
// same model when it is still shown.
func (m *Model) refilter() {
	sel, had := m.selected()
	m.keep()
	m.setRows()
	if had {
		for i, e := range m.entries {
			if e.run == sel.run && e.stage == sel.stage {
				m.table.SetCursor(i)
				return
			}
		}
	}
	m.table.SetCursor(0)
}

// keep sets entries to the models the filter matches.
func (m *Model) keep() {
	m.entries = m.entries[:0:0]
	for _, e := range m.all {
		if m.filter.Empty() || m.filter.Match(e.sub) {
			m.entries = append(m.entries, e)
		}
	}
}

func (m *Model) setRows() {
	rows := make([]table.Row, len(m.entries))
	for i, e := range m.entries {
		rows[i] = table.Row{fmt.Sprint(e.run), e.pipeline, e.stage}
	}
	m.table.SetRows(rows)
}
