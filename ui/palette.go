package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// palette is the `:` command palette (k9s-style): every action of the
// current screen and the global ones, from the same key map the help bar
// shows, filtered as the user types. enter runs the selected action by
// pressing its key.
type palette struct {
	input  textinput.Model
	items  []paletteItem
	shown  []int
	cursor int
}

type paletteItem struct {
	keys, desc, scope string
	press             tea.KeyMsg
	search            string
}

// newPalette lists the bindings of screen (named) and the global ones;
// bindings without a key a palette can press are left out.
func newPalette(screen string, groups [][]key.Binding, global []key.Binding) *palette {
	p := &palette{input: textinput.New()}
	p.input.Prompt = ":"
	p.input.Placeholder = "type to find an action"
	seen := map[string]bool{}
	add := func(scope string, b key.Binding) {
		h := b.Help()
		if !b.Enabled() || h.Desc == "" || len(b.Keys()) == 0 {
			return
		}
		press, ok := keyPress(b.Keys()[0])
		if !ok || seen[b.Keys()[0]] {
			return
		}
		seen[b.Keys()[0]] = true
		p.items = append(p.items, paletteItem{keys: h.Key, desc: h.Desc, scope: scope, press: press,
			search: strings.ToLower(h.Desc + " " + h.Key + " " + scope)})
	}
	for _, g := range groups {
		for _, b := range g {
			add(screen, b)
		}
	}
	for _, b := range global {
		add("everywhere", b)
	}
	p.filter()
	return p
}

// keyPress is the key message of a binding's key name.
func keyPress(k string) (tea.KeyMsg, bool) {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		" ": tea.KeySpace, "delete": tea.KeyDelete, "ctrl+c": tea.KeyCtrlC, "ctrl+s": tea.KeyCtrlS,
		"ctrl+u": tea.KeyCtrlU, "ctrl+d": tea.KeyCtrlD,
	}
	if t, ok := named[k]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: t, Runes: []rune{' '}}, true
		}
		return tea.KeyMsg{Type: t}, true
	}
	if r := []rune(k); len(r) == 1 {
		return tea.KeyMsg{Type: tea.KeyRunes, Runes: r}, true
	}
	return tea.KeyMsg{}, false
}

func (p *palette) filter() {
	words := strings.Fields(strings.ToLower(p.input.Value()))
	p.shown = p.shown[:0]
	for i, it := range p.items {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(it.search, w)
		}
		if ok {
			p.shown = append(p.shown, i)
		}
	}
	p.cursor = min(p.cursor, max(len(p.shown)-1, 0))
}

// update handles a key: done reports the palette closed, and press is
// the key to press when an action was chosen.
func (p *palette) update(msg tea.KeyMsg) (done bool, press *tea.KeyMsg, cmd tea.Cmd) {
	switch msg.String() {
	case "esc":
		return true, nil, nil
	case "enter":
		if len(p.shown) == 0 {
			return false, nil, nil
		}
		k := p.items[p.shown[p.cursor]].press
		return true, &k, nil
	case "up", "ctrl+p":
		p.cursor = max(p.cursor-1, 0)
		return false, nil, nil
	case "down", "ctrl+n":
		p.cursor = min(p.cursor+1, max(len(p.shown)-1, 0))
		return false, nil, nil
	}
	before := p.input.Value()
	p.input, cmd = p.input.Update(msg)
	if p.input.Value() != before {
		p.cursor = 0
		p.filter()
	}
	return false, nil, cmd
}

func (p *palette) view(st *common.Styles, w, h int) string {
	var b []string
	b = append(b, st.Title.Render("COMMANDS")+st.Subtle.Render("  enter runs · ↑/↓ select · esc closes"), p.input.View(), "")
	if len(p.shown) == 0 {
		b = append(b, st.Subtle.Render("no action matches"))
	}
	rows := max(h-5, 1)
	first := max(0, p.cursor-rows+1)
	for i := first; i < len(p.shown) && i < first+rows; i++ {
		it := p.items[p.shown[i]]
		line := fmt.Sprintf("%s %-10s %-28s %s", " ", it.keys, it.desc, st.Subtle.Render(it.scope))
		if i == p.cursor {
			line = st.Selected.Render(common.Fit(common.Cursor+line[1:], w))
		}
		b = append(b, common.Fit(line, w))
	}
	return common.Block(strings.Join(b, "\n"), w, h)
}
