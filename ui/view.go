package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// View draws the tabs, the active screen, the status line and the help.
// A screen that panics while drawing is replaced by the error.
func (m *Model) View() (view string) {
	defer func() {
		if r := recover(); r != nil {
			view = fmt.Sprintf("sluice: internal error while drawing (please report it): %v\n\nq quits.", r)
		}
	}()
	st := m.ctx.Styles
	if m.tooSmall() {
		msg := fmt.Sprintf("sluice needs a terminal of at least %d×%d;\nthis one is %d×%d.\n\nEnlarge it, or press q to quit.", MinWidth, MinHeight, m.w, m.h)
		return lipgloss.Place(max(m.w, 1), max(m.h, 1), lipgloss.Center, lipgloss.Center, msg)
	}
	var body string
	switch {
	case m.confirm != nil:
		body = m.confirm.View(st, m.w, m.bodyHeight())
	case m.palette != nil:
		body = m.palette.view(st, m.w, m.bodyHeight())
	case m.showHelp:
		body = m.helpView()
	default:
		body = m.screens[m.active].View()
	}
	body = common.Block(body, m.w, m.bodyHeight())
	// bubbles/help can run past its width when an item just fails to fit:
	// cut the bar to the screen.
	return m.tabs() + "\n" + body + "\n" + m.statusLine() + "\n" + common.Fit(m.helpBar(), m.w)
}

func (m *Model) tabs() string {
	st := m.ctx.Styles
	out := st.Title.Render("sluice") + " "
	for i, n := range common.ScreenNames {
		label := fmt.Sprintf("%d %s", i+1, n)
		if i == m.active {
			out += st.ActiveTab.Render("[" + label + "]")
		} else {
			out += st.Tab.Render(" " + label + " ")
		}
	}
	right := ""
	if m.ctx.ReadOnly {
		right += st.Warn.Render("READ-ONLY") + st.Subtle.Render(" · ")
	}
	if n := len(m.cancels); n > 0 {
		right += st.Running.Render(fmt.Sprintf("● %d live", n)) + st.Subtle.Render(" · ")
	}
	n := len(m.runs.Summaries())
	right += st.Subtle.Render(fmt.Sprintf("%d run%s", n, common.Plural(n)))
	gap := m.w - common.Width(out) - common.Width(right)
	if gap < 1 {
		return common.Fit(out, m.w)
	}
	return out + strings.Repeat(" ", gap) + right
}

func (m *Model) statusLine() string {
	st := m.ctx.Styles
	if m.status == "" {
		return ""
	}
	if m.isErr {
		return common.Fit(st.Error.Render("✗ "+m.status), m.w)
	}
	return common.Fit(st.Subtle.Render("· "+m.status), m.w)
}

func (m *Model) helpBar() string {
	if m.confirm != nil {
		return m.help.ShortHelpView([]key.Binding{common.Binding("y", "yes", "y"), common.Binding("n/esc", "no", "n")})
	}
	if m.showHelp {
		return m.help.ShortHelpView([]key.Binding{common.Binding("any key", "closes the keys", "esc")})
	}
	if m.palette != nil {
		return m.help.ShortHelpView([]key.Binding{common.Binding("enter", "run", "enter"), common.Binding("↑/↓", "select", "up"), common.Binding("esc", "close", "esc")})
	}
	screen := m.screens[m.active].Keys().ShortHelp()
	if m.screens[m.active].Capturing() {
		return m.help.ShortHelpView(screen)
	}
	// ? and : lead, so a narrow bar that cuts the screen's keys still
	// says where all of them are.
	b := append([]key.Binding{keys.Help, keys.Palette}, screen...)
	return m.help.ShortHelpView(append(b, keys.Quit))
}

// helpView lists every key of the screen and the global ones.
func (m *Model) helpView() string {
	st := m.ctx.Styles
	title := st.Title.Render("KEYS") + st.Subtle.Render(" · any key closes")
	screen := st.Header.Render(strings.ToUpper(common.ScreenNames[m.active]) + " SCREEN")
	global := keys.full()
	half := (len(global) + 1) / 2
	everywhere := st.Header.Render("EVERYWHERE")
	return title + "\n\n" + screen + "\n" + m.fullHelp(m.screens[m.active].Keys().FullHelp()) +
		"\n\n" + everywhere + "\n" + m.fullHelp([][]key.Binding{global[:half], global[half:]})
}

// fullHelp lays groups of keys out in columns and, when the next column
// would not fit the width, starts a new band of columns under the last,
// so that no key is left out of the help.
func (m *Model) fullHelp(groups [][]key.Binding) string {
	h := m.help
	h.Width = 0 // measured here, never cut
	var bands []string
	var cur [][]key.Binding
	for _, g := range groups {
		try := append(append([][]key.Binding{}, cur...), g)
		if len(cur) > 0 && lipgloss.Width(h.FullHelpView(try)) > m.w {
			bands = append(bands, h.FullHelpView(cur))
			cur = [][]key.Binding{g}
			continue
		}
		cur = try
	}
	if len(cur) > 0 {
		bands = append(bands, h.FullHelpView(cur))
	}
	return strings.Join(bands, "\n\n")
}
