package ui

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// globalKeys work on every screen, unless a text field has the keyboard
// (ctrl+c always works).
type globalKeys struct {
	Quit, ForceQuit, Help, Palette, Next, Prev, Screens, Back key.Binding
}

var keys = globalKeys{
	Quit:      common.Binding("q", "quit", "q"),
	ForceQuit: common.Binding("ctrl+c", "quit", "ctrl+c"),
	Help:      common.Binding("?", "all keys", "?"),
	Palette:   common.Binding(":", "commands", ":"),
	Next:      common.Binding("tab", "next screen", "tab"),
	Prev:      common.Binding("shift+tab", "previous screen", "shift+tab"),
	Screens:   common.Binding("1-5", "pipelines·run·runs·compare·model", "1", "2", "3", "4", "5"),
	Back:      common.Binding("esc", "back", "esc"),
}

func (k globalKeys) full() []key.Binding {
	return []key.Binding{k.Screens, k.Next, k.Prev, k.Back, k.Palette, k.Help, k.Quit, k.ForceQuit,
		common.Binding("wheel", "scroll", "")}
}
