package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

func (m *Model) switchTo(n int) {
	if n < 0 || n >= len(m.screens) || n == m.active {
		return
	}
	m.history = append(m.history, m.active)
	if len(m.history) > 50 {
		m.history = m.history[1:]
	}
	m.active = n
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, keys.ForceQuit) {
		return m.quit()
	}
	if m.confirm != nil {
		return common.UpdateModal(&m.confirm, msg)
	}
	if m.palette != nil {
		done, press, cmd := m.palette.update(msg)
		if done {
			m.palette = nil
		}
		if press != nil {
			return tea.Batch(cmd, m.key(*press))
		}
		return cmd
	}
	if m.showHelp {
		if key.Matches(msg, keys.Quit) && msg.String() == "q" {
			m.showHelp = false
			return nil
		}
		m.showHelp = false
		return nil
	}
	if m.tooSmall() {
		if key.Matches(msg, keys.Quit) {
			return m.quit()
		}
		return nil
	}
	scr := m.screens[m.active]
	if scr.Capturing() {
		return scr.Update(msg)
	}
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		// Keys typed faster than they are read arrive as one message
		// ("jjr"); outside a text field each is a command of its own.
		cmds := make([]tea.Cmd, 0, len(msg.Runes))
		for _, r := range msg.Runes {
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		}
		return tea.Batch(cmds...)
	}
	switch {
	case key.Matches(msg, keys.Quit):
		return m.quit()
	case key.Matches(msg, keys.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, keys.Palette):
		global := []key.Binding{keys.Next, keys.Prev, keys.Back, keys.Help, keys.Quit}
		for i := range common.ScreenNames {
			n := fmt.Sprint(i + 1)
			global = append(global, common.Binding(n, "go to "+common.ScreenNames[i], n))
		}
		m.palette = newPalette(strings.ToLower(common.ScreenNames[m.active]), scr.Keys().FullHelp(), global)
		return m.palette.input.Focus()
	case key.Matches(msg, keys.Next):
		m.switchTo((m.active + 1) % len(m.screens))
		return nil
	case key.Matches(msg, keys.Prev):
		m.switchTo((m.active + len(m.screens) - 1) % len(m.screens))
		return nil
	case key.Matches(msg, keys.Screens):
		m.switchTo(int(msg.Runes[0] - '1'))
		return nil
	case key.Matches(msg, keys.Back):
		if scr.Back() {
			return nil
		}
		if n := len(m.history); n > 0 {
			m.active = m.history[n-1]
			m.history = m.history[:n-1]
		}
		return nil
	}
	return scr.Update(msg)
}

// quit ends the program, asking first while runs are live.
func (m *Model) quit() tea.Cmd {
	if len(m.cancels) == 0 && len(m.pending) == 0 {
		return func() tea.Msg { return quitMsg{} }
	}
	if m.confirm != nil {
		return nil
	}
	n := len(m.cancels) + len(m.pending)
	m.confirm = common.NewConfirm(m.ctx.Styles, fmt.Sprintf("Quit? %d run%s still going.", n, common.Plural(n)),
		"Quitting cancels them; what they did so far stays in the store.", func() tea.Msg { return quitMsg{} })
	return m.confirm.Init()
}

// tabAt returns the tab drawn at column x of the tab bar.
func (m *Model) tabAt(x int) (int, bool) {
	at := common.Width("sluice") + 1
	for i, n := range common.ScreenNames {
		w := common.Width(fmt.Sprintf("%d %s", i+1, n)) + 2
		if x >= at && x < at+w {
			return i, true
		}
		at += w
	}
	return 0, false
}
