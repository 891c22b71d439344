package ui_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/ui"
)

// waitMatch waits for output matching the regular expression re.
func waitMatch(t *testing.T, tm *teatest.TestModel, re string) {
	t.Helper()
	r := regexp.MustCompile(re)
	teatest.WaitFor(t, tm.Output(), r.Match, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// TestKeyFileRebinds loads a key file into the whole workbench, as
// `sluice` does before it opens: the rebound keys work, the old ones no
// longer do, and the footer, the help and the palette name the new ones.
func TestKeyFileRebinds(t *testing.T) {
	ui.KeepKeys(t)
	p := filepath.Join(t.TempDir(), "keys.yaml")
	text := "# my keys\nruns:\n  filter: f\n  compare: [C, ctrl+k]\nglobal:\n  palette: \";\"\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ui.LoadKeyFile(p); err != nil {
		t.Fatal(err)
	}
	tm, _ := start(t, storeWithRuns())
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "3")
	waitFor(t, tm, "f filter")
	// / is no longer the filter: had it opened one, the f after it would
	// be typed into it and the query would keep no run.
	typeKeys(tm, "/", "f")
	tm.Type("accuracy>0.93")
	typeKeys(tm, "enter")
	waitFor(t, tm, "1 of 3")
	typeKeys(tm, "esc", "?")
	waitMatch(t, tm, `f +filter`)
	typeKeys(tm, "esc", ";")
	tm.Type("compare")
	waitMatch(t, tm, `C/ctrl\+k +compare marked`)
	// c no longer compares: ? after it shows the Runs screen's keys.
	typeKeys(tm, "esc", "g", "space", "space", "c", "?")
	waitMatch(t, tm, `RUNS SCREEN`)
	typeKeys(tm, "esc", "C")
	waitFor(t, tm, "COMPARE  #2 · #3")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	out := ansi.Strip(tm.FinalModel(t).View())
	if !strings.Contains(out, "COMPARE  #2 · #3") {
		t.Errorf("C should compare the two runs marked:\n%s", out)
	}
}
