package runs

import (
	"fmt"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

type keyMap struct {
	Filter, Mark, Compare, Open, Clear, Watch, Model, Tag, Note, Rerun, Report, Delete, Undo key.Binding
	// detail
	Prev, Next, Section, SectionBack, Scroll key.Binding
}

var keys = common.RegisterKeys("runs", &keyMap{
	Filter:      common.Binding("/", "filter", "/"),
	Mark:        common.Binding("space", "mark", " "),
	Compare:     common.Binding("c", "compare marked", "c"),
	Open:        common.Binding("enter", "step into run", "enter"),
	Clear:       common.Binding("x", "clear marks", "x"),
	Watch:       common.Binding("w", "watch live", "w"),
	Model:       common.Binding("m", "model", "m"),
	Tag:         common.Binding("t", "tags", "t"),
	Report:      common.Binding("v", "report (charts)", "v"),
	Delete:      common.Binding("d", "delete (to the trash)", "d", "delete"),
	Undo:        common.Binding("u", "undo delete", "u"),
	Note:        common.Binding("N", "note", "N"),
	Rerun:       common.Binding("R", "rerun/resume", "R"),
	Prev:        common.Binding("[", "previous run", "["),
	Next:        common.Binding("]", "next run", "]"),
	Section:     common.Binding("→/l", "next section", "right", "l"),
	SectionBack: common.Binding("←/h", "previous section", "left", "h"),
	Scroll:      common.Binding("pgup/pgdn", "scroll", "pgup", "pgdown"),
}, "Scroll")

// Keys are the screen's bindings.
func (m *Model) Keys() help.KeyMap {
	if m.report != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("↑/↓", "scroll", "up"), common.Binding("pgup/pgdn", "page", "pgup"), common.Binding("esc", "back", "esc")}}
	}
	if m.detail != nil && m.detail.filter.Active() {
		return common.KeyMap{Short: common.FilterKeys}
	}
	if m.detail != nil {
		k := common.KeyMap{Short: []key.Binding{common.Nav.Up, common.Nav.Down, keys.Filter, keys.Section, keys.Prev, keys.Next, keys.Scroll, keys.Watch, keys.Model}}
		k.Full = [][]key.Binding{
			{common.Nav.Up, common.Nav.Down, common.Nav.Top, common.Nav.Bottom, keys.Filter, keys.Scroll},
			{keys.SectionBack, keys.Section, keys.Prev, keys.Next},
			{keys.Watch, keys.Model, keys.Report, keys.Mark, m.ctx.Mutating(keys.Tag), m.ctx.Mutating(keys.Note)},
			{m.ctx.Mutating(keys.Rerun)},
		}
		return k
	}
	if m.form != nil {
		return common.KeyMap{Short: []key.Binding{common.Binding("enter", "save", "enter"), common.Binding("esc", "cancel", "esc")}}
	}
	if m.filter.Active() {
		return common.KeyMap{Short: common.FilterKeys}
	}
	return common.KeyMap{
		Short: []key.Binding{common.Nav.Up, common.Nav.Down, keys.Open, keys.Filter, keys.Mark, keys.Compare, keys.Watch, m.ctx.Mutating(keys.Tag), m.ctx.Mutating(keys.Note)},
		Full: [][]key.Binding{
			{common.Nav.Up, common.Nav.Down, common.Nav.PageUp, common.Nav.PageDown, common.Nav.Top, common.Nav.Bottom},
			{keys.Open, keys.Filter, keys.Watch, keys.Model, keys.Report},
			{keys.Mark, keys.Clear, keys.Compare},
			{m.ctx.Mutating(keys.Delete), m.ctx.Mutating(keys.Undo)},
			{m.ctx.Mutating(keys.Tag), m.ctx.Mutating(keys.Note), m.ctx.Mutating(keys.Rerun)},
		},
	}
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.filter.Active() {
		switch msg.String() {
		case "up", "down", "pgup", "pgdown":
			return m.table.Update(msg)
		}
		changed, cmd := m.filter.Update(msg)
		if changed {
			m.applyFilter()
		}
		return cmd
	}
	if m.detail != nil && m.detail.filter.Active() {
		return m.detail.update(msg)
	}
	if m.detail != nil {
		switch {
		case key.Matches(msg, keys.Prev):
			return m.step(+1)
		case key.Matches(msg, keys.Next):
			return m.step(-1)
		case key.Matches(msg, keys.Mark):
			m.toggleMark(m.detail.id)
			return nil
		case key.Matches(msg, keys.Report):
			return m.openReport(m.detail.id)
		case key.Matches(msg, keys.Tag):
			return m.editTags(m.detail.id)
		case key.Matches(msg, keys.Note):
			return m.editNote(m.detail.id)
		}
		return m.detail.update(msg)
	}
	switch {
	case key.Matches(msg, keys.Filter):
		return m.filter.Focus()
	case key.Matches(msg, keys.Mark):
		if s, ok := m.selected(); ok {
			m.toggleMark(s.ID)
			m.table.MoveDown(1)
		}
		return nil
	case key.Matches(msg, keys.Tag):
		if s, ok := m.selected(); ok {
			return m.editTags(s.ID)
		}
		return nil
	case key.Matches(msg, keys.Report):
		if s, ok := m.selected(); ok {
			return m.openReport(s.ID)
		}
		return nil
	case key.Matches(msg, keys.Delete):
		ids := m.markedIDs()
		if len(ids) == 0 {
			if s, ok := m.selected(); ok {
				ids = []int64{s.ID}
			}
		}
		return m.askDelete(ids)
	case key.Matches(msg, keys.Undo):
		return m.undoDelete()
	case key.Matches(msg, keys.Note):
		if s, ok := m.selected(); ok {
			return m.editNote(s.ID)
		}
		return nil
	case key.Matches(msg, keys.Clear):
		m.marked = map[int64]bool{}
		m.refreshRows()
		return nil
	case key.Matches(msg, keys.Compare):
		ids := m.markedIDs()
		if len(ids) < 2 {
			return common.Errorf(fmt.Sprintf("mark at least two runs with %s, then press %s", keys.Mark.Help().Key, keys.Compare.Help().Key))
		}
		return func() tea.Msg { return common.CompareMsg{IDs: ids} }
	case key.Matches(msg, keys.Open):
		if s, ok := m.selected(); ok {
			return m.open(s.ID)
		}
		return nil
	case key.Matches(msg, keys.Watch):
		if s, ok := m.selected(); ok {
			id := s.ID
			return tea.Batch(func() tea.Msg { return common.WatchRunMsg{ID: id} }, common.Switch(common.ScreenRun))
		}
		return nil
	case key.Matches(msg, keys.Rerun):
		if s, ok := m.selected(); ok {
			return rerun(s.ID, s.Status)
		}
		return nil
	case key.Matches(msg, keys.Model):
		if s, ok := m.selected(); ok {
			id := s.ID
			return tea.Batch(func() tea.Msg { return common.OpenModelMsg{Run: id} }, common.Switch(common.ScreenModel))
		}
		return nil
	}
	return m.table.Update(msg)
}

func (m *Model) open(id int64) tea.Cmd {
	m.pendOpen = 0
	m.detail = newDetail(m.ctx, m.store, id, m.w, m.h)
	if i, ok := m.find(id); ok {
		for row, k := range m.shown {
			if k == i {
				m.table.SetCursor(row)
				break
			}
		}
	}
	return m.detail.load()
}

func (m *Model) openPending() tea.Cmd {
	if m.pendOpen == 0 {
		return nil
	}
	if _, ok := m.find(m.pendOpen); !ok {
		return nil
	}
	return m.open(m.pendOpen)
}

// step moves the detail to the run d rows down the list (+1: the previous,
// older run; -1: the next, newer one).
func (m *Model) step(d int) tea.Cmd {
	i, ok := m.find(m.detail.id)
	if !ok {
		return nil
	}
	row := -1
	for r, k := range m.shown {
		if k == i {
			row = r
			break
		}
	}
	next := row + d
	if row < 0 || next < 0 || next >= len(m.shown) {
		if d > 0 {
			return common.Info("no earlier run")
		}
		return common.Info("no later run")
	}
	section, stage, filter := m.detail.section, m.detail.stageID(), m.detail.filter.Value()
	cmd := m.open(m.all[m.shown[next]].ID)
	m.detail.section, m.detail.wantStage = section, stage
	if filter != "" { // the next run's stages, filtered the same way
		m.detail.filter.SetValue(filter)
	}
	return cmd
}

// rerun asks the root to run a finished run again (resuming a failed or
// interrupted one: what finished is cached) and shows it live.
func rerun(id int64, status engine.Status) tea.Cmd {
	if !status.Done() {
		return common.Errorf(fmt.Sprintf("run %d is still running", id))
	}
	return tea.Batch(func() tea.Msg { return common.RerunMsg{ID: id} }, common.Switch(common.ScreenRun))
}
