package ui_test

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
)

// stageList returns the stage ids the run detail lists, in order: the
// rows under STAGES down to the first empty one.
func stageList(out string) []string {
	var ids []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		left, _, _ := strings.Cut(l, "│")
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(left), "▸"))
		switch {
		case strings.HasPrefix(strings.TrimSpace(left), "STAGES") || strings.HasPrefix(strings.TrimSpace(left), "/"):
			in = true
		case in && strings.HasPrefix(strings.TrimSpace(left), "^"):
			continue // the filter's pointer at a problem
		case in && (len(f) < 2 || strings.HasPrefix(left, "None matches")):
			return ids
		case in:
			ids = append(ids, f[1]) // icon, id, seconds, …
		}
	}
	return ids
}

// TestRunStageQuery: / on a run's stage list filters the stages with the
// shared query language (free text, status:, uses:, metrics, a stage's
// params), keeps the selection on a stage shown, carries over to the run
// [ steps to, and esc clears it before it leaves the run.
func TestRunStageQuery(t *testing.T) {
	m := open(t, storeWithRuns())
	send(t, m, key("3"), key("enter")) // run 3, the failed one
	out := screen(t, m)
	if got := strings.Join(stageList(out), " "); got != "load clean split model score" {
		t.Fatalf("run 3 lists stages %q:\n%s", got, out)
	}
	send(t, m, key("/"))
	typeText(t, m, "status:failed")
	out = screen(t, m)
	if got := strings.Join(stageList(out), " "); got != "model" {
		t.Fatalf("status:failed keeps %q, want model:\n%s", got, out)
	}
	if !strings.Contains(out, "did not converge") {
		t.Errorf("the failed stage is not the one selected:\n%s", out)
	}
	send(t, m, key("enter"))
	if out = screen(t, m); !strings.Contains(out, "1 of 5 /status:failed") {
		t.Errorf("the stage list does not say what it keeps:\n%s", out)
	}
	// [ steps to the earlier run with the same filter: none of its
	// stages failed.
	send(t, m, key("["))
	out = screen(t, m)
	if !strings.Contains(out, "RUN 2") || len(stageList(out)) != 0 || !strings.Contains(out, "None matches") {
		t.Fatalf("run 2 filtered by status:failed should list no stage:\n%s", out)
	}
	send(t, m, key("/"), key("esc"), key("/")) // esc while typing clears
	typeText(t, m, "uses:score")
	if got := strings.Join(stageList(screen(t, m)), " "); got != "score" {
		t.Errorf("uses:score keeps %q, want score", got)
	}
	send(t, m, key("esc"), key("/"))
	typeText(t, m, "f1_macro>0.9 or param.model.C<")
	out = screen(t, m)
	if !strings.Contains(out, `^ expected a value`) {
		t.Errorf("an unfinished query does not say what is wrong:\n%s", out)
	}
	if got := strings.Join(stageList(out), " "); got != "score" {
		t.Errorf("the last good query (f1_macro>0.9) should hold while typing; kept %q", got)
	}
	typeText(t, m, "1")
	send(t, m, key("down"), key("down")) // up/down move while typing
	out = screen(t, m)
	if got := strings.Join(stageList(out), " "); got != "model score" {
		t.Errorf("f1_macro>0.9 or param.model.C<1 keeps %q, want model score", got)
	}
	if !strings.Contains(out, "▸ ✓ score") {
		t.Errorf("down does not move among the stages shown:\n%s", out)
	}
	send(t, m, key("esc"))
	out = screen(t, m)
	if got := strings.Join(stageList(out), " "); got != "load clean split model score" || !strings.Contains(out, "RUN 2") {
		t.Errorf("esc should clear the filter and stay in run 2; lists %q:\n%s", got, out)
	}
	send(t, m, key("G"))
	if out = screen(t, m); !strings.Contains(out, "▸ ✓ score") {
		t.Errorf("G should select the last stage:\n%s", out)
	}
	send(t, m, key("g"))
	if out = screen(t, m); !strings.Contains(out, "▸ ✓ load") {
		t.Errorf("g should select the first stage:\n%s", out)
	}
	send(t, m, key("/"))
	typeText(t, m, "clean")
	send(t, m, key("enter"), key("esc"))
	if out = screen(t, m); !strings.Contains(out, "RUN 2") || strings.Contains(out, "/clean") {
		t.Errorf("esc on a kept filter should clear it, not leave the run:\n%s", out)
	}
	send(t, m, key("esc"))
	if out = screen(t, m); !strings.Contains(out, "3 runs") {
		t.Errorf("a second esc should go back to the runs:\n%s", out)
	}
}

// TestRunStageQueryFlow is TestRunStageQuery in the running program: /
// with a status query on the failed run's stages keeps the failed one, and
// the filter holds on the run [ steps to. Typing waits only for states
// that stay on screen; the end is read from the final model, since the
// renderer may drop the frames in between.
func TestRunStageQueryFlow(t *testing.T) {
	tm, _ := start(t, storeWithRuns())
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "3")
	waitFor(t, tm, "3 runs")
	typeKeys(tm, "enter") // run 3, the failed one, is the first row
	waitFor(t, tm, "RUN 3")
	typeKeys(tm, "/")
	for _, r := range "status:failed" {
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	typeKeys(tm, "enter")
	waitFor(t, tm, "1 of 5 /status:failed")
	typeKeys(tm, "[")
	waitFor(t, tm, "None matches") // run 2 read and filtered: none of its stages failed
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	out := ansi.Strip(tm.FinalModel(t).View())
	if !strings.Contains(out, "RUN 2") || !strings.Contains(out, "0 of 5 /status:failed") || len(stageList(out)) != 0 || !strings.Contains(out, "None matches") {
		t.Errorf("run 2, filtered by status:failed, should list no stage:\n%s", out)
	}
}
