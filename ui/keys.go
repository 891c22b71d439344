package ui

import (
	"os"
	"path/filepath"

	"github.com/charmbracelet/bubbles/key"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// globalKeys work on every screen, unless a text field has the keyboard
// (ctrl+c always works).
type globalKeys struct {
	Quit, ForceQuit, Help, Palette, Next, Prev, Screens, Back key.Binding
}

var keys = common.RegisterKeys("global", &globalKeys{
	Quit:      common.Binding("q", "quit", "q"),
	ForceQuit: common.Binding("ctrl+c", "quit", "ctrl+c"),
	Help:      common.Binding("?", "all keys", "?"),
	Palette:   common.Binding(":", "commands", ":"),
	Next:      common.Binding("tab", "next screen", "tab"),
	Prev:      common.Binding("shift+tab", "previous screen", "shift+tab"),
	Screens:   common.Binding("1-5", "pipelines·run·runs·compare·model", "1", "2", "3", "4", "5"),
	Back:      common.Binding("esc", "back", "esc"),
}, "Screens", "ForceQuit", "Back")

func (k globalKeys) full() []key.Binding {
	return []key.Binding{k.Screens, k.Next, k.Prev, k.Back, k.Palette, k.Help, k.Quit, k.ForceQuit,
		common.Binding("wheel", "scroll", "")}
}

// LoadKeyFile applies the key file at path over the workbench's bindings,
// those the footer, the help and the palette are built from. A file that
// does not exist changes nothing; a bad one changes nothing and says where
// it is wrong (file:line:col).
func LoadKeyFile(path string) error { return common.LoadKeyFile(path) }

// KeyFilePath is where the workbench reads its key file: $SLUICE_KEYS, else
// sluice/keys.yaml under $XDG_CONFIG_HOME or ~/.config ("" when there is no
// home folder).
func KeyFilePath() string {
	if p := os.Getenv("SLUICE_KEYS"); p != "" {
		return p
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "sluice", "keys.yaml")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".config", "sluice", "keys.yaml")
}
