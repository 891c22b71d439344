package ui_test

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/sluice-ml/sluice/ui"
)

// TestUpdateSurvivesAPanic: a panic in a screen's Update is shown in the
// status line, and Update still returns the model. It used to return a
// nil model with the panic recovered, and Bubble Tea's loop then panicked
// calling View on it, taking the workbench down after all.
func TestUpdateSurvivesAPanic(t *testing.T) {
	m := ui.New(context.Background(), deps(newFakeStore()))
	defer m.Shutdown(0)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 36})
	ui.BreakActiveScreen(m)
	model, cmd := m.Update(tea.KeyMsg{Type: tea.KeyDown})
	if model == nil {
		t.Fatal("Update returned a nil model after a panic")
	}
	if cmd != nil {
		t.Error("Update returned a command after a panic")
	}
	if view := model.View(); !strings.Contains(view, "internal error (please report it): a bug in a screen") {
		t.Errorf("the panic is not in the status line:\n%s", view)
	}
}
