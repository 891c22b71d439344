package common

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Cursor is the mark of the selected row, drawn in colour and without.
const Cursor = "▸"

// Table is a bubbles table whose first column marks the selected row
// with ▸, so the selection shows on a monochrome screen and in plain-text
// captures too. Moving the cursor touches two rows, whatever the number
// of rows.
type Table struct {
	table.Model
	marked int
}

// NewTable returns a focused table with the given columns (the marker
// column is added in front) in the workbench's styles.
func NewTable(st *Styles, cols []table.Column) Table {
	km := table.DefaultKeyMap()
	km.HalfPageUp.SetEnabled(false)
	km.HalfPageDown.SetEnabled(false)
	km.PageUp = key.NewBinding(key.WithKeys("pgup", "ctrl+u"))
	km.PageDown = key.NewBinding(key.WithKeys("pgdown", "ctrl+d"))
	km.GotoTop = key.NewBinding(key.WithKeys("home", "g"))
	km.GotoBottom = key.NewBinding(key.WithKeys("end", "G"))
	t := Table{Model: table.New(table.WithFocused(true), table.WithKeyMap(km)), marked: -1}
	styles := table.Styles{
		Header:   st.Header.PaddingRight(1),
		Cell:     lipgloss.NewStyle().PaddingRight(1),
		Selected: st.Selected,
	}
	t.SetStyles(styles)
	t.SetColumns(cols)
	return t
}

// SetColumns sets the columns, with the marker column in front.
func (t *Table) SetColumns(cols []table.Column) {
	all := append([]table.Column{{Title: " ", Width: 1}}, cols...)
	t.Model.SetColumns(all)
}

// SetRows sets the rows (without the marker cell) and keeps the cursor
// in range.
func (t *Table) SetRows(rows []table.Row) {
	all := make([]table.Row, len(rows))
	for i, r := range rows {
		all[i] = append(table.Row{" "}, r...)
	}
	t.marked = -1
	t.Model.SetRows(all)
	if t.Cursor() < 0 && len(all) > 0 {
		// An empty table leaves the cursor at -1: select the first row.
		t.Model.SetCursor(0)
	}
	t.mark()
}

// SetMarkedRows is SetRows for rows that already begin with the marker
// cell (any value: the table writes it), so that a long list is set
// without copying each of its rows. The table keeps the rows and writes
// their first cell as the cursor moves.
func (t *Table) SetMarkedRows(rows []table.Row) {
	for _, r := range rows {
		if len(r) > 0 {
			r[0] = " "
		}
	}
	t.marked = -1
	t.Model.SetRows(rows)
	if t.Cursor() < 0 && len(rows) > 0 {
		t.Model.SetCursor(0)
	}
	t.mark()
}

// Update moves the cursor on navigation keys and mouse wheel.
func (t *Table) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.MouseMsg:
		if msg.Action != tea.MouseActionPress {
			return nil
		}
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			t.MoveUp(1)
		case tea.MouseButtonWheelDown:
			t.MoveDown(1)
		}
	case tea.KeyMsg:
		if !t.Focused() {
			return nil
		}
		km := t.KeyMap
		switch {
		case key.Matches(msg, km.LineUp):
			t.move(-1)
		case key.Matches(msg, km.LineDown):
			t.move(1)
		case key.Matches(msg, km.PageUp):
			t.move(-t.Height())
		case key.Matches(msg, km.PageDown):
			t.move(t.Height())
		case key.Matches(msg, km.GotoTop):
			t.move(-t.Cursor())
		case key.Matches(msg, km.GotoBottom):
			t.move(t.Len())
		}
		return nil
	default:
		t.Model, cmd = t.Model.Update(msg)
	}
	t.mark()
	return cmd
}

// move moves the cursor n rows, setting the marks before the table
// redraws, so the visible rows are drawn once.
func (t *Table) move(n int) {
	rows := t.Model.Rows()
	if len(rows) == 0 || n == 0 {
		return
	}
	target := min(max(t.Cursor()+n, 0), len(rows)-1)
	if t.marked >= 0 && t.marked < len(rows) {
		rows[t.marked][0] = " "
	}
	rows[target][0] = Cursor
	t.marked = target
	if n < 0 {
		t.Model.MoveUp(-n)
	} else {
		t.Model.MoveDown(n)
	}
}

// SetCursor moves the cursor to row n.
func (t *Table) SetCursor(n int) {
	t.Model.SetCursor(n)
	t.mark()
}

// MoveUp moves the cursor up n rows.
func (t *Table) MoveUp(n int) {
	t.Model.MoveUp(n)
	t.mark()
}

// MoveDown moves the cursor down n rows.
func (t *Table) MoveDown(n int) {
	t.Model.MoveDown(n)
	t.mark()
}

// Row returns row i without its marker cell.
func (t *Table) Row(i int) table.Row {
	rows := t.Model.Rows()
	if i < 0 || i >= len(rows) {
		return nil
	}
	return rows[i][1:]
}

// SetCell changes one cell (column index without the marker) of row i
// and redraws the visible rows.
func (t *Table) SetCell(i, col int, v string) {
	rows := t.Model.Rows()
	if i < 0 || i >= len(rows) || col+1 >= len(rows[i]) {
		return
	}
	rows[i][col+1] = v
	t.UpdateViewport()
}

// Click selects the row drawn on line y of the table's view (0 is the
// header) and reports whether a row is there. The rows drawn are found
// from the selected one, the line marked ▸.
func (t *Table) Click(y int) bool {
	lines := strings.Split(ansi.Strip(t.View()), "\n")
	mark := -1
	for i, l := range lines {
		if strings.HasPrefix(l, Cursor) {
			mark = i
			break
		}
	}
	if mark < 0 || y < 1 || y >= len(lines) {
		return false
	}
	target := t.Cursor() + y - mark
	if target < 0 || target >= t.Len() {
		return false
	}
	t.move(target - t.Cursor())
	return true
}

// Len is the number of rows.
func (t *Table) Len() int { return len(t.Model.Rows()) }

func (t *Table) mark() {
	rows := t.Model.Rows()
	c := t.Cursor()
	if c == t.marked {
		return
	}
	if t.marked >= 0 && t.marked < len(rows) {
		rows[t.marked][0] = " "
	}
	if c >= 0 && c < len(rows) {
		rows[c][0] = Cursor
	}
	t.marked = c
	t.UpdateViewport()
}
