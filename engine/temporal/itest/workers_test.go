package itest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFanOutOnTwoWorkers: the same search fanned out to one child worker,
// then to two, gives the same metrics and the same bytes; it logs the
// time of each run, the figure for fan-out's speed-up (each worker runs
// on one CPU, GOMAXPROCS=1, and one stage at a time). Nothing here reads
// the clock to decide: the times are for the person reading the log.
func TestFanOutOnTwoWorkers(t *testing.T) {
	t.Setenv("GOMAXPROCS", "1")
	h := newHarness(t)
	h.copySampleData()
	file := h.writeFile("sample-data/digits_search.yaml", `name: digits_search
seed: 7
stages:
  - {id: train, uses: read_csv, with: {path: splits/digits_train.csv}}
  - {id: test, uses: read_csv, with: {path: splits/digits_test.csv}}
  - {id: split, uses: split, needs: [train, test], with: {target: digit, task: classification}}
  - {id: tune, uses: grid_search, with: {model: random_forest_classifier, params: {n_estimators: 300}, grid: {max_depth: [4, 8, 0], min_samples_leaf: [1, 3]}, cv: 4}}
`)
	file = filepath.Join("sample-data", filepath.Base(file))
	run := func(workers int) (runDoc, time.Duration) {
		start := time.Now()
		doc := h.runJSON(0, append([]string{"run", file, "--no-cache"}, h.temporalArgs()...)...)
		return doc, time.Since(start)
	}
	h.startChildWorker("--stages", "1")
	one, t1 := run(1)
	h.startChildWorker("--stages", "1")
	two, t2 := run(2)
	for i, a := range one.Stages {
		b := two.Stages[i]
		if a.Status != "succeeded" || b.Status != "succeeded" || fmt.Sprint(a.Metrics) != fmt.Sprint(b.Metrics) {
			t.Errorf("stage %s: one worker %s %v, two workers %s %v", a.ID, a.Status, a.Metrics, b.Status, b.Metrics)
		}
	}
	la, lb := artifactSet(h.show(fmt.Sprint(one.Run)).Artifacts), artifactSet(h.show(fmt.Sprint(two.Run)).Artifacts)
	if strings.Join(la, "\n") != strings.Join(lb, "\n") {
		t.Errorf("artifacts differ:\none worker:\n%s\ntwo workers:\n%s", strings.Join(la, "\n"), strings.Join(lb, "\n"))
	}
	t.Logf("24 forest fits + refit on Temporal: one worker %s, two workers %s (%.2f×)", t1.Round(time.Millisecond), t2.Round(time.Millisecond), t1.Seconds()/t2.Seconds())
}
