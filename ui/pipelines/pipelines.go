package pipelines

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// Store is what the Pipelines screen reads: each pipeline's last run.
type Store interface {
	Runs(ctx context.Context, f engine.RunFilter) ([]engine.RunSummary, error)
}

var keys = common.RegisterKeys("pipelines", &struct {
	Open, Run, RunWith, New, Reload, Filter, Sweep key.Binding
}{
	Sweep:   common.Binding("s", "sweep", "s"),
	Filter:  common.Binding("/", "filter", "/"),
	Open:    common.Binding("enter", "compose", "enter"),
	Run:     common.Binding("r", "run", "r"),
	RunWith: common.Binding("o", "run with --set", "o"),
	New:     common.Binding("n", "new pipeline", "n"),
	Reload:  common.Binding("R", "rescan", "R"),
})

// file is one pipeline file and what validation found.
type file struct {
	path     string
	spec     *engine.Spec
	plan     *engine.Plan
	problems engine.ErrorList
	err      error // a problem that is not located in the file
	last     *engine.RunSummary
	mod      time.Time
	checked  bool
}

func (f *file) valid() bool { return f.checked && f.plan != nil }

// firstProblem is the file's first problem as file:line:col: message.
func (f *file) firstProblem() string {
	if len(f.problems) > 0 {
		return f.problems[0].Error()
	}
	if f.err != nil {
		return f.err.Error()
	}
	return ""
}

// firstProblemShort is the first problem with the file's base name:
// bad.yaml:4:11: unknown stage type "sourc".
func (f *file) firstProblemShort() string {
	if len(f.problems) > 0 {
		p := *f.problems[0]
		p.File = filepath.Base(p.File)
		return p.Error()
	}
	return f.firstProblem()
}

// Model is the Pipelines screen.
type Model struct {
	ctx   *common.Context
	store Store
	w, h  int

	files    []*file
	roots    []string // where to look for new files
	lastW    int      // the LAST RUN column's width, which its cells are fitted to
	shown    []int    // indexes into files of the rows shown
	filter   common.Filter
	table    common.Table
	loaded   bool
	seq      common.Seq
	applied  int // the check whose results are shown
	stating  bool
	composer *composer
	form     *common.Form
	confirm  *common.Confirm
	sets     *common.Text
	// pending is what o or r waits for: the file's validation.
	pending     func(*file) tea.Cmd
	pendingPath string
}

// ExpensiveSeconds is how long a pipeline's last run took for r to ask
// before running it again: a stray letter must not start long work.
const ExpensiveSeconds = 10

// New returns the Pipelines screen listing paths.
// Roots are the files and folders to look in again (every tick, and on
// R) for pipeline files created, changed or deleted.
func New(ctx *common.Context, store Store, paths, roots []string) *Model {
	m := &Model{ctx: ctx, store: store, roots: roots}
	m.filter = common.NewFilter("text, name, uses:TYPE, status:invalid, accuracy>0.9 (last run), param.STAGE.NAME=V", ctx.Now)
	for _, p := range paths {
		m.files = append(m.files, &file{path: p})
	}
	m.table = common.NewTable(ctx.Styles, m.columns(100))
	m.setRows()
	return m
}

// Init validates every file.
func (m *Model) Init() tea.Cmd { return m.check() }

// Resize sets the screen's size.
func (m *Model) Resize(w, h int) {
	m.w, m.h = w, h
	m.table.SetColumns(m.columns(w))
	m.table.SetWidth(w)
	m.table.SetHeight(m.tableHeight())
	if m.loaded {
		sel := m.selected()
		m.setRows() // the LAST RUN cells are fitted to the column
		m.reselect(sel)
	}
	if m.composer != nil {
		m.composer.resize(w, h)
	}
}

func (m *Model) tableHeight() int {
	return min(len(m.files)+1, max(m.h/2-1, 4))
}

// Keys are the screen's bindings.
func (m *Model) Keys() help.KeyMap {
	if m.composer != nil {
		return m.composer.keys()
	}
	if m.form != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("enter", "run", "enter"), common.Binding("esc", "cancel", "esc")}}
	}
	if m.confirm != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("y", "yes", "y"), common.Binding("n/esc", "no", "n")}}
	}
	if m.filter.Active() {
		return common.KeyMap{Short: common.FilterKeys}
	}
	return common.KeyMap{
		Short: []key.Binding{common.Nav.Up, common.Nav.Down, m.ctx.Mutating(keys.Run), m.ctx.Mutating(keys.RunWith), keys.Open, m.ctx.Mutating(keys.New), keys.Filter, keys.Reload},
		Full: [][]key.Binding{
			{common.Nav.Up, common.Nav.Down, common.Nav.Top, common.Nav.Bottom},
			{m.ctx.Mutating(keys.Run), m.ctx.Mutating(keys.RunWith), m.ctx.Mutating(keys.Sweep)},
			{keys.Open, m.ctx.Mutating(keys.New), keys.Filter, keys.Reload},
		},
	}
}

// Capturing reports whether a form or the composer's text has the keys.
func (m *Model) Capturing() bool {
	if m.composer != nil {
		return m.composer.capturing()
	}
	return m.form != nil || m.confirm != nil || m.filter.Active()
}

// Back closes a form, or the composer (asking first when it has unsaved
// changes).
func (m *Model) Back() bool {
	if m.form != nil {
		m.form = nil
		return true
	}
	if m.confirm != nil {
		m.confirm = nil
		return true
	}
	if m.composer == nil && m.filter.Set() {
		m.filter.Clear()
		m.setRows()
		return true
	}
	if m.composer != nil {
		if m.composer.back() {
			return true
		}
		m.composer = nil
		return true
	}
	return false
}

// Composing reports whether the composer is open.
func (m *Model) Composing() bool { return m.composer != nil }

// Update handles a message.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case checkedMsg:
		// A check started earlier than the one shown is stale; one
		// started later is not, even if yet another is under way (its
		// results are only older than that one's, and better than none).
		if msg.seq <= m.applied {
			return nil
		}
		m.applied = msg.seq
		m.loaded = true
		byPath := map[string]*file{}
		for _, f := range msg.files {
			byPath[f.path] = f
		}
		for i, f := range m.files {
			if nf, ok := byPath[f.path]; ok {
				m.files[i] = nf
			}
		}
		sel := m.selected()
		m.table.SetColumns(m.columns(m.w))
		m.setRows()
		m.reselect(sel)
		return m.runPending()
	case statMsg:
		m.stating = false
		if msg.err != nil {
			return common.Err(fmt.Errorf("looking for pipeline files: %w", msg.err))
		}
		return m.rescan(msg)
	case common.TickMsg:
		cmds := []tea.Cmd{m.stat()}
		if m.composer != nil {
			cmds = append(cmds, m.composer.update(msg))
		}
		return tea.Batch(cmds...)
	case common.RunEndedMsg:
		return m.check()
	case closeMsg:
		m.composer = nil
		return nil
	case savedMsg:
		known := false
		for _, f := range m.files {
			if f.path == msg.path {
				known = true
			}
		}
		if !known {
			m.files = append(m.files, &file{path: msg.path})
			m.Resize(m.w, m.h)
			m.setRows()
		}
		for _, f := range m.files {
			if f.path == msg.path {
				m.reselect(f)
			}
		}
		var cmd tea.Cmd
		if m.composer != nil {
			cmd = m.composer.update(msg)
		}
		return tea.Batch(cmd, m.check())
	}
	if m.composer != nil {
		return m.composer.update(msg)
	}
	if m.form != nil {
		return common.UpdateModal(&m.form, msg)
	}
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if m.filter.Active() {
			switch msg.String() {
			case "up", "down", "pgup", "pgdown":
				return m.table.Update(msg)
			}
			changed, cmd := m.filter.Update(msg)
			if changed {
				sel := m.selected()
				m.setRows()
				m.reselect(sel)
			}
			return cmd
		}
		return m.key(msg)
	case tea.MouseMsg:
		if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft {
			// The table starts under the header and a blank line.
			m.table.Click(msg.Y - 2)
			return nil
		}
		return m.table.Update(msg)
	}
	return nil
}
