package ui_test

import (
	"strings"
	"testing"
)

// TestModelScreenSetsAlias: a on the Model screen asks for an alias
// (champion by default) and sets it for the selected model.
func TestModelScreenSetsAlias(t *testing.T) {
	m := open(t, storeWithRuns())
	send(t, m, keys("5", "a")...)
	if s := screen(t, m); !strings.Contains(s, "SET ALIAS") || !strings.Contains(s, "champion") {
		t.Fatalf("no alias form with champion:\n%s", s)
	}
	send(t, m, keys("enter")...)
	if s := screen(t, m); !strings.Contains(s, "fake@champion → run") {
		t.Errorf("no confirmation of the alias set:\n%s", s)
	}
}
