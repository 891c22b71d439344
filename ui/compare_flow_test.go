package ui_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/ui"
)

// waitScreen waits until the output read so far, without ANSI codes,
// satisfies ok, and returns it.
func waitScreen(t *testing.T, tm *teatest.TestModel, what string, ok func(string) bool) string {
	t.Helper()
	var seen string
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = ansi.Strip(string(b))
		return ok(seen)
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	if !ok(seen) {
		t.Fatalf("never saw %s", what)
	}
	return seen
}

// TestCompareScrollsSideways: eight runs compared at 80×24 do not fit;
// l, L, h and H bring the other run columns into view while the key column
// stays put, and a hint says how many columns are off each side.
func TestCompareScrollsSideways(t *testing.T) {
	store := newFakeStore()
	const n = 8
	for i := 1; i <= n; i++ {
		store.add(sampleRun(float64(i)/10, 0.9+float64(i)/1000, t0.Add(-time.Duration(n-i)*time.Hour)))
	}
	m := ui.New(context.Background(), deps(store))
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "PIPELINES")
	typeKeys(tm, "3")
	waitFor(t, tm, fmt.Sprintf("%d runs", n))
	for range n {
		typeKeys(tm, " ") // marks and moves down
	}
	waitFor(t, tm, fmt.Sprintf("%d marked", n))
	typeKeys(tm, "c")
	// The key column, then run 1's column, with the others off to the right.
	row := func(id int) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`sc(ore|…)\.accuracy +%s`, regexp.QuoteMeta(fmt.Sprintf("%.4f", 0.9+float64(id)/1000))))
	}
	first := waitScreen(t, tm, "run 1 beside the key column", func(s string) bool {
		return row(1).MatchString(s) && strings.Contains(s, "→")
	})
	hint := regexp.MustCompile(`\+(\d+) →`).FindStringSubmatch(first)
	if hint == nil {
		t.Fatalf("no +N → hint for the runs off the right edge:\n%s", first)
	}
	if hint[1] == "0" || hint[1] == fmt.Sprint(n) {
		t.Fatalf("the hint says %s runs are off screen, want some but not all of %d", hint[1], n)
	}
	typeKeys(tm, "l")
	waitScreen(t, tm, "run 2 beside the key column after l", func(s string) bool {
		return row(2).MatchString(s) && strings.Contains(s, "← 1")
	})
	typeKeys(tm, "L")
	page := waitScreen(t, tm, "a page further after L", func(s string) bool {
		return regexp.MustCompile(`← [2-9]`).MatchString(s)
	})
	left := regexp.MustCompile(`← (\d+)`).FindAllStringSubmatch(page, -1)
	var shown int
	if _, err := fmt.Sscan(left[len(left)-1][1], &shown); err != nil {
		t.Fatal(err)
	}
	if !row(shown + 1).MatchString(page) {
		t.Errorf("after L the first run column shown should be run %d, beside the key column:\n%s", shown+1, page)
	}
	typeKeys(tm, "H", "h")
	waitScreen(t, tm, "run 1 back beside the key column after H and h", func(s string) bool {
		all := regexp.MustCompile(`sc(ore|…)\.accuracy`).FindAllStringIndex(s, -1)
		return len(all) > 0 && row(1).MatchString(s[all[len(all)-1][0]:])
	})
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	out := ansi.Strip(tm.FinalModel(t).View())
	if !row(1).MatchString(out) || strings.Contains(out, "← ") {
		t.Errorf("the final screen should show run 1 first, nothing off the left:\n%s", out)
	}
}

// TestReadOnlyRefusesRunFlow: a workbench opened read-only answers r on a
// pipeline with a refusal, and the store gains no run.
func TestReadOnlyRefusesRunFlow(t *testing.T) {
	store := storeWithRuns()
	d := deps(store, "testdata/pipelines/good.yaml")
	d.ReadOnly = true
	m := ui.New(context.Background(), d)
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(goldenW, goldenH))
	waitScreen(t, tm, "the pipeline, read-only", func(s string) bool {
		return strings.Contains(s, "READ-ONLY") && strings.Contains(s, "good.yaml")
	})
	typeKeys(tm, "r")
	waitFor(t, tm, "read-only: running a pipeline is disabled")
	typeKeys(tm, "3")
	waitFor(t, tm, "3 runs")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if n, _ := store.Count(context.Background()); n != 3 {
		t.Errorf("the store has %d runs, want the 3 it had", n)
	}
}
