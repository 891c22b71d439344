package ui_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/ui"
)

func typeText(tb testing.TB, m *ui.Model, text string) {
	tb.Helper()
	for _, r := range text {
		send(tb, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// TestRunsMetricQuery: / on Runs reads a metric query, and a query that
// does not parse points at its column while the last good one holds.
func TestRunsMetricQuery(t *testing.T) {
	m := open(t, storeWithRuns())
	send(t, m, key("3"), key("/"))
	typeText(t, m, "accuracy>0.93")
	out := screen(t, m)
	if !strings.Contains(out, "0.9500") || strings.Contains(out, "0.9167") || strings.Contains(out, "✗ failed") {
		t.Fatalf("accuracy>0.93 should keep run 1 only:\n%s", out)
	}
	send(t, m, key("enter"))
	if out = screen(t, m); !strings.Contains(out, "1 of 3") {
		t.Errorf("the header does not count the runs kept:\n%s", out)
	}
	send(t, m, key("/"))
	typeText(t, m, " or status:fail*")
	if out = screen(t, m); !strings.Contains(out, "✗ failed") || strings.Contains(out, "0.9167") {
		t.Errorf("or status:fail* should add the failed run:\n%s", out)
	}
	typeText(t, m, " or param.model.C<")
	out = screen(t, m)
	if !strings.Contains(out, `^ expected a value after "<"`) {
		t.Errorf("an unfinished query does not say what is wrong:\n%s", out)
	}
	if !strings.Contains(out, "✗ failed") || strings.Contains(out, "0.9167") {
		t.Errorf("the last good query should still hold while typing:\n%s", out)
	}
	typeText(t, m, "0.7")
	if out = screen(t, m); !strings.Contains(out, "0.9167") || strings.Contains(out, "expected a value") {
		t.Errorf("param.model.C<0.7 should add run 2:\n%s", out)
	}
	send(t, m, key("esc"))
	if out = screen(t, m); !strings.Contains(out, "3 runs") || strings.Contains(out, "of 3") {
		t.Errorf("esc should clear the filter:\n%s", out)
	}
}

// TestTagNoteAndFind tags a run and writes a note from the Runs screen,
// then finds it with tag: and by the note's text.
func TestTagNoteAndFind(t *testing.T) {
	store := storeWithRuns()
	tm, _ := start(t, store)
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "3")
	waitFor(t, tm, "3 runs")
	typeKeys(tm, "down", "t")
	waitFor(t, tm, "Tags of run 2")
	tm.Type("baseline paper")
	typeKeys(tm, "enter")
	waitFor(t, tm, "run 2: tags baseline paper")
	typeKeys(tm, "N")
	waitFor(t, tm, "Note on run 2")
	tm.Type("C halved")
	typeKeys(tm, "enter")
	waitFor(t, tm, "run 2: note saved")
	typeKeys(tm, "/")
	tm.Type("tag:paper halved")
	waitFor(t, tm, "0.9167 #baseline")
	typeKeys(tm, "enter")
	waitFor(t, tm, "1 of 3")
	typeKeys(tm, "enter")
	waitFor(t, tm, "✎ C halved")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	r, err := store.Run(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Tags, []string{"baseline", "paper"}) || r.Note != "C halved" {
		t.Errorf("the store has tags %v note %q", r.Tags, r.Note)
	}
}

// TestReadOnlyRefusesRun: with ReadOnly, r does not run, the keys say
// they are disabled, and tags cannot be changed.
func TestReadOnlyRefusesRun(t *testing.T) {
	store := storeWithRuns()
	d := deps(store, "testdata/pipelines/good.yaml")
	d.ReadOnly = true
	m := ui.New(context.Background(), d)
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	send(t, m, tea.WindowSizeMsg{Width: goldenW, Height: goldenH})
	drive(t, m, m.Init())
	out := screen(t, m)
	if !strings.Contains(out, "READ-ONLY") || !strings.Contains(out, "run (read-only)") {
		t.Errorf("the screen does not say it is read-only:\n%s", out)
	}
	send(t, m, key("r"))
	if out = screen(t, m); !strings.Contains(out, "read-only: running a pipeline is disabled") {
		t.Errorf("r is not refused:\n%s", out)
	}
	send(t, m, key("o"))
	if out = screen(t, m); strings.Contains(out, "RUN WITH OVERRIDES") {
		t.Errorf("o opened the overrides form:\n%s", out)
	}
	send(t, m, key("3"), key("t"))
	if out = screen(t, m); strings.Contains(out, "Tags of run") || !strings.Contains(out, "read-only: changing tags and notes") {
		t.Errorf("t is not refused:\n%s", out)
	}
	if n, _ := store.Count(context.Background()); n != 3 {
		t.Errorf("the store has %d runs, want the 3 it had", n)
	}
}

// TestPalette: : lists the actions of the screen and the global ones,
// filtered as typed; enter runs the one selected.
func TestPalette(t *testing.T) {
	m := open(t, storeWithRuns())
	send(t, m, key(":"))
	out := screen(t, m)
	for _, want := range []string{"COMMANDS", "run with --set", "go to Runs", "everywhere"} {
		if !strings.Contains(out, want) {
			t.Errorf("the palette does not list %q:\n%s", want, out)
		}
	}
	typeText(t, m, "go runs")
	send(t, m, key("enter"))
	if out = screen(t, m); !strings.Contains(out, "[3 Runs]") || strings.Contains(out, "COMMANDS") {
		t.Fatalf("enter on go to Runs did not switch:\n%s", out)
	}
	send(t, m, key(":"))
	typeText(t, m, "tags")
	if out = screen(t, m); strings.Contains(out, "go to Runs") || !strings.Contains(out, "runs") {
		t.Errorf("the palette is not filtered:\n%s", out)
	}
	send(t, m, key("enter"))
	if out = screen(t, m); !strings.Contains(out, "Tags of run 3") {
		t.Errorf("enter on tags did not open the tags of the selected run:\n%s", out)
	}
	send(t, m, key("esc"), key(":"))
	typeText(t, m, "nothing like this")
	if out = screen(t, m); !strings.Contains(out, "no action matches") {
		t.Errorf("an unmatched palette does not say so:\n%s", out)
	}
	send(t, m, key("esc"))
	if out = screen(t, m); strings.Contains(out, "COMMANDS") {
		t.Errorf("esc does not close the palette:\n%s", out)
	}
}

// TestMouseClicks: a click on a tab shows that screen, a click on a row
// selects it.
func TestMouseClicks(t *testing.T) {
	m := open(t, storeWithRuns())
	click := func(x, y int) tea.MouseMsg {
		return tea.MouseMsg{X: x, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft}
	}
	out := screen(t, m)
	x := strings.Index(strings.Split(out, "\n")[0], "3 Runs")
	send(t, m, click(x, 0))
	out = screen(t, m)
	if !strings.Contains(out, "[3 Runs]") {
		t.Fatalf("a click on the Runs tab did not show Runs:\n%s", out)
	}
	lines := strings.Split(out, "\n")
	row := -1
	for i, l := range lines {
		if strings.Contains(l, "0.9500") {
			row = i
		}
	}
	send(t, m, click(10, row))
	if out = screen(t, m); !strings.Contains(strings.Split(out, "\n")[row], "▸") {
		t.Errorf("a click on run 1's row did not select it:\n%s", out)
	}
}

// TestDeleteAndUndo: d asks, then moves the run to the trash; u brings it
// back; --readonly refuses both.
func TestDeleteAndUndo(t *testing.T) {
	store := storeWithRuns()
	tm, _ := start(t, store)
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "3")
	waitFor(t, tm, "3 runs")
	typeKeys(tm, "down", "d")
	waitFor(t, tm, "Move run 2 to the trash?")
	typeKeys(tm, "y")
	waitFor(t, tm, "run 2 moved to the trash")
	if n, _ := store.Count(context.Background()); n != 2 {
		t.Errorf("after d: %d runs in the store, want 2", n)
	}
	typeKeys(tm, "u")
	waitFor(t, tm, "run 2 restored")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if n, _ := store.Count(context.Background()); n != 3 {
		t.Errorf("after u: %d runs in the store, want 3", n)
	}
}
