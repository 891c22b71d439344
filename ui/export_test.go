package ui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/ui/internal/common"
)

// KeepKeys puts every binding back as it is when the test ends, so a
// test that loads a key file does not change the keys of the next.
func KeepKeys(tb testing.TB) { tb.Cleanup(common.SaveKeys()) }

// panicScreen is a screen whose Update panics, as a bug below the
// workbench would.
type panicScreen struct{ common.Screen }

func (panicScreen) Update(tea.Msg) tea.Cmd { panic("a bug in a screen") }

// BreakActiveScreen replaces the active screen with one that panics.
func BreakActiveScreen(m *Model) { m.screens[m.active] = panicScreen{m.screens[m.active]} }
