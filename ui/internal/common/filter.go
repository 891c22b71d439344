package common

import (
	"errors"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/ui/internal/query"
)

// Filter is the `/` line every list shares: a text input read as a query
// (package query) as it is typed. While the text does not parse, the last
// query that did stays in force and the problem is shown under the
// column where it is.
type Filter struct {
	input  textinput.Model
	active bool
	q      *query.Query
	err    error
	now    func() time.Time
}

// FilterKeys are the filter's bindings while it has the keyboard.
var FilterKeys = []key.Binding{Binding("enter", "keep filter", "enter"), Binding("esc", "clear", "esc")}

// NewFilter returns an empty filter; now is the clock since: counts from.
func NewFilter(placeholder string, now func() time.Time) Filter {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = placeholder
	return Filter{input: in, now: now}
}

// Active reports whether the filter has the keyboard.
func (f *Filter) Active() bool { return f.active }

// Set reports whether a query is typed (in force or not).
func (f *Filter) Set() bool { return strings.TrimSpace(f.input.Value()) != "" }

// Value is the text typed.
func (f *Filter) Value() string { return f.input.Value() }

// Err is why the text does not parse, or nil.
func (f *Filter) Err() error { return f.err }

// SetWidth sets the input's width.
func (f *Filter) SetWidth(w int) { f.input.Width = max(w-4, 10) }

// Focus gives the filter the keyboard.
func (f *Filter) Focus() tea.Cmd {
	f.active = true
	return f.input.Focus()
}

// Clear empties the filter and takes the keyboard from it.
func (f *Filter) Clear() {
	f.active = false
	f.input.Blur()
	f.input.SetValue("")
	f.q, f.err = nil, nil
}

// SetValue types text into the filter (as a command palette or a test
// does) and parses it.
func (f *Filter) SetValue(text string) {
	f.input.SetValue(text)
	f.parse()
}

func (f *Filter) parse() {
	q, err := query.ParseAt(f.input.Value(), f.now())
	if err != nil {
		f.err = err
		return
	}
	f.q, f.err = q, nil
}

// Update handles a key while the filter is active. changed reports that
// the query in force changed, so the list must be filtered again.
func (f *Filter) Update(msg tea.KeyMsg) (changed bool, cmd tea.Cmd) {
	switch msg.String() {
	case "enter":
		f.active = false
		f.input.Blur()
		return false, nil
	case "esc":
		f.Clear()
		return true, nil
	}
	before, q := f.input.Value(), f.q
	f.input, cmd = f.input.Update(msg)
	if f.input.Value() != before {
		f.parse()
	}
	return f.q != q, cmd
}

// Match reports whether s passes the query in force.
func (f *Filter) Match(s query.Subject) bool { return f.q.Match(s) }

// Empty reports whether no query is in force.
func (f *Filter) Empty() bool { return f.q.Empty() }

// View is the filter line; when the text does not parse, a second line
// points at the problem.
func (f *Filter) View(st *Styles, w int) string {
	line := f.input.View()
	var qe *query.Error
	if f.err == nil || !errors.As(f.err, &qe) {
		return line
	}
	// The prompt takes one cell.
	pad := min(qe.Col, max(w-20, 1))
	return line + "\n" + Fit(strings.Repeat(" ", pad)+st.Error.Render("^ "+qe.Msg), w)
}

// Lines is how many lines View takes.
func (f *Filter) Lines() int {
	if f.err != nil {
		return 2
	}
	return 1
}
