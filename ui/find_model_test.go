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

// TestCatalogQuery: the composer's stage catalog reads the shared query
// language: fields of a stage type combined with spaces and or, and a
// query that does not parse says where while the last good one holds.
func TestCatalogQuery(t *testing.T) {
	tm, _ := start(t, newFakeStore(), "testdata/pipelines/good.yaml")
	waitFor(t, tm, "good.yaml")
	typeKeys(tm, "enter")
	waitFor(t, tm, "COMPOSE")
	typeKeys(tm, "down", "a")
	waitFor(t, tm, "ADD A STAGE")
	tm.Type("kind:model group:train or uses:sou*")
	// The output is read once and redrawn only where it changed, so the
	// count is looked for after the last drawing of the whole text, and
	// the items in the final screen.
	waitScreen(t, tm, "the whole query applied", func(s string) bool {
		i := strings.LastIndex(s, "uses:sou*")
		return i >= 0 && strings.Contains(s[i:], "2 items")
	})
	tm.Type(" or group:")
	waitScreen(t, tm, "where the query is wrong", func(s string) bool {
		return strings.Contains(s, "query col") && strings.Contains(s, "the last good one holds")
	})
	typeKeys(tm, "ctrl+c")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := ansi.Strip(tm.FinalModel(t).View())
	for _, kept := range []string{"fit a linear classifier", "read a CSV file", "2 items"} {
		if !strings.Contains(final, kept) {
			t.Errorf("%q should be listed under the last good query:\n%s", kept, final)
		}
	}
	for _, gone := range []string{"grid-search C", "score a model", "drop rows"} {
		if strings.Contains(final, gone) {
			t.Errorf("%q should be filtered out:\n%s", gone, final)
		}
	}
}
