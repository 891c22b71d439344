package common

import (
	"strings"
	"sync"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
)

// Form is a huh form shown inside a screen: it has the keyboard until it
// is submitted (Submit runs) or abandoned with esc.
type Form struct {
	Title  string
	Form   *huh.Form
	Submit func() tea.Cmd
	Cancel func() tea.Cmd
}

// NewForm wraps groups in a form with the workbench's theme, to be shown
// by View in a box of w×h cells.
func NewForm(st *Styles, title string, w, h int, submit func() tea.Cmd, groups ...*huh.Group) *Form {
	theme := huh.ThemeCharm()
	if st.Mono {
		theme = huh.ThemeBase()
	}
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
	// The box View draws takes 2 cells of border and 2 of padding.
	f := huh.NewForm(groups...).WithTheme(theme).WithKeyMap(km).WithShowHelp(true).WithWidth(max(w-4, 20)).WithHeight(max(h-4, 3))
	return &Form{Title: title, Form: f, Submit: submit}
}

// Init focuses the form's first field.
func (f *Form) Init() tea.Cmd { return f.Form.Init() }

// Update passes msg to the form. done reports that the form was submitted
// or abandoned; the command then includes what Submit or Cancel returned.
func (f *Form) Update(msg tea.Msg) (done bool, cmd tea.Cmd) {
	m, cmd := f.Form.Update(msg)
	if form, ok := m.(*huh.Form); ok {
		f.Form = form
	}
	switch f.Form.State {
	case huh.StateCompleted:
		if f.Submit != nil {
			return true, tea.Batch(cmd, f.Submit())
		}
		return true, cmd
	case huh.StateAborted:
		if f.Cancel != nil {
			return true, tea.Batch(cmd, f.Cancel())
		}
		return true, cmd
	}
	return false, cmd
}

// View renders the form under its title in a box w cells wide and as
// tall as the form, cut only where that is more than the h cells there
// are. (The form's own height is the one NewForm was given.)
func (f *Form) View(st *Styles, w, h int) string {
	body := st.Title.Render(f.Title) + "\n\n" + strings.TrimRight(f.Form.View(), "\n")
	box := st.BoxFocus.Padding(0, 1).Width(max(w-2, 10))
	out := box.Render(body)
	if lipgloss.Height(out) > h {
		return Block(out, w, h)
	}
	return out
}

// Confirm is a yes/no question in a huh form, shown as a dialog. y and n
// answer it at once; esc is no.
type Confirm struct {
	form  *Form
	yes   bool
	onYes tea.Cmd
}

// NewConfirm asks title (with a line of description) and runs onYes on yes.
func NewConfirm(st *Styles, title, description string, onYes tea.Cmd) *Confirm {
	c := &Confirm{onYes: onYes}
	field := huh.NewConfirm().Title(title).Description(description).Affirmative("Yes").Negative("No").Value(&c.yes)
	c.form = NewForm(st, "", 60, 6, func() tea.Cmd {
		if c.yes {
			return c.onYes
		}
		return nil
	}, huh.NewGroup(field))
	c.form.Form.WithShowHelp(false)
	return c
}

// Init focuses the question.
func (c *Confirm) Init() tea.Cmd { return c.form.Init() }

// Update handles a key; done reports the question answered.
func (c *Confirm) Update(msg tea.Msg) (bool, tea.Cmd) { return c.form.Update(msg) }

// View renders the dialog centred in w×h cells.
func (c *Confirm) View(st *Styles, w, h int) string {
	box := st.Dialog.Render(strings.TrimRight(c.form.Form.View(), "\n") + "\n\n" + st.Subtle.Render("y yes · n no · esc cancel"))
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, box)
}

// Text is a huh accessor for a text field that a DescriptionFunc also
// reads. Huh evaluates those funcs in commands, on other goroutines than
// Update, so the value is guarded. Value is exported because huh decides
// when to re-evaluate by hashing the bound value's exported fields.
type Text struct {
	mu    *sync.Mutex // a pointer: huh copies the struct to hash it
	Value string
}

// NewText returns a Text holding s.
func NewText(s string) *Text { return &Text{mu: &sync.Mutex{}, Value: s} }

// Get returns the text.
func (t *Text) Get() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.Value
}

// Set replaces the text.
func (t *Text) Set(s string) {
	t.mu.Lock()
	t.Value = s
	t.mu.Unlock()
}

// UpdateModal passes msg to the dialog in *slot (a form or a
// confirmation) and closes it, setting *slot to nil, once the dialog is
// done.
func UpdateModal[T any, P interface {
	*T
	Update(tea.Msg) (bool, tea.Cmd)
}](slot *P, msg tea.Msg) tea.Cmd {
	done, cmd := (*slot).Update(msg)
	if done {
		*slot = nil
	}
	return cmd
}
