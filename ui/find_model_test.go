package ui_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestModelScreenQuery: / on the Model screen reads the shared query
// language: a metric query keeps the models of the runs that pass it and
// shows the first of them; esc brings the others back.
func TestModelScreenQuery(t *testing.T) {
	tm, _ := start(t, storeWithRuns())
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "5")
	waitFor(t, tm, "run 2 · stage model")
	typeKeys(tm, "/")
	tm.Type("accuracy>0.93")
	waitFor(t, tm, "run 1 · stage model")
	typeKeys(tm, "enter")
	out := waitScreen(t, tm, "the filter kept", func(s string) bool { return strings.Contains(s, "1 of 2") })
	if i := strings.LastIndex(out, "1 of 2"); regexp.MustCompile(`(?m)^.{2}2 +demo +model`).MatchString(out[i:]) {
		t.Errorf("run 2's model is still listed under accuracy>0.93:\n%s", out[i:])
	}
	typeKeys(tm, "/")
	tm.Type(" or param.model.C<")
	waitFor(t, tm, `^ expected a value after "<"`)
	tm.Type("0.7")
	typeKeys(tm, "enter")
	waitFor(t, tm, "2 of 2")
	typeKeys(tm, "esc")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := ansi.Strip(tm.FinalModel(t).View())
	if !strings.Contains(final, "fitted by recent runs") || strings.Contains(final, "of 2") {
		t.Errorf("esc should clear the filter:\n%s", final)
	}
	for _, run := range []string{"1", "2"} {
		if !regexp.MustCompile(`(?m)^.{2}` + run + ` +demo +model`).MatchString(final) {
			t.Errorf("run %s's model is not listed after esc:\n%s", run, final)
		}
	}
}
