package itest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/engine/temporal"
	"github.com/sluice-ml/sluice/ui/cli"
)

// The fan-out of grid_search, random_search and cross_validate: their
// candidate × fold fits run as activities of child workflows.

// foldEvents counts the typed leaderboard events (one per finished
// candidate × fold fit) in a stage's stored log.
func foldEvents(t *testing.T, h *harness, run int64, stage string) int {
	t.Helper()
	db := h.openStore()
	lines, err := db.Logs(context.Background(), run, stage, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range lines {
		if l.Fold != nil {
			n++
		}
	}
	return n
}

// TestFanOutSameResultsAsLocal: a search and a cross-validation fanned out
// to a child `sluice worker` give the metrics and the bytes of a local run
// (model and search files included), with progress counted in fits and
// the leaderboard's events in the record.
func TestFanOutSameResultsAsLocal(t *testing.T) {
	h := newHarness(t)
	h.copySampleData()
	h.writeFile("sample-data/tuning.yaml", `name: tuning
seed: 42
stages:
  - {id: load, uses: read_csv, with: {path: wine.csv}}
  - {id: split, uses: split, with: {target: cultivar, test_size: 0.2, stratify: true}}
  - {id: scale, uses: standard_scaler}
  - {id: tune, uses: grid_search, with: {model: logistic_regression, params: {max_iter: 1000}, grid: {C: [0.01, 0.1, 1, 10, 100]}, cv: 5, scoring: accuracy}}
  - {id: draw, uses: random_search, needs: [scale], with: {model: decision_tree_classifier, space: {max_depth: [2, 3, 4, 0], min_samples_leaf: [1, 2, 5]}, n_iter: 5, cv: 3}}
  - {id: cv, uses: cross_validate, needs: [scale], with: {model: knn_classifier, params: {n_neighbors: 7}, cv: 4}}
`)
	h.startChildWorker()
	for _, file := range []string{"wine_tuning.yaml", "tuning.yaml"} {
		file = filepath.Join("sample-data", file)
		local := h.runJSON(0, "run", file, "--no-cache")
		remote := h.runJSON(0, append([]string{"run", file, "--no-cache"}, h.temporalArgs()...)...)
		for i, l := range local.Stages {
			r := remote.Stages[i]
			if l.ID != r.ID || r.Status != "succeeded" || fmt.Sprint(l.Metrics) != fmt.Sprint(r.Metrics) {
				t.Errorf("%s stage %s: local %s %v, Temporal %s %v", file, l.ID, l.Status, l.Metrics, r.Status, r.Metrics)
			}
		}
		ls, rs := h.show(fmt.Sprint(local.Run)), h.show(fmt.Sprint(remote.Run))
		if la, ra := artifactSet(ls.Artifacts), artifactSet(rs.Artifacts); strings.Join(la, "\n") != strings.Join(ra, "\n") {
			t.Errorf("%s: artifacts differ:\nlocal:\n%s\ntemporal:\n%s", file, strings.Join(la, "\n"), strings.Join(ra, "\n"))
		}
		for _, s := range rs.Run.Stages {
			var want engine.Progress
			switch s.Uses {
			case "grid_search":
				want = engine.Progress{Done: 26, Total: 26, Unit: "fits"}
			case "random_search":
				want = engine.Progress{Done: 16, Total: 16, Unit: "fits"}
			case "cross_validate":
				want = engine.Progress{Done: 4, Total: 4, Unit: "folds"}
			default:
				continue
			}
			if s.Progress != want {
				t.Errorf("%s stage %s ended at %+v, want %+v", file, s.ID, s.Progress, want)
			}
			if n, fits := foldEvents(t, h, rs.Run.ID, s.ID), int(want.Total-1); s.Uses != "cross_validate" && n != fits {
				t.Errorf("%s stage %s: %d fold events in the record, want one per fit (%d)", file, s.ID, n, fits)
			}
		}
	}
}

// Case (e): cancelling a run while its grid search fans out cancels the
// units under way and starts no more; the record ends cancelled and keeps
// the leaderboard events of the fits that finished.
func TestFanOutCancelMidGrid(t *testing.T) {
	h := newHarness(t)
	// Two fits at a time, so they finish one after another as on a
	// worker with two cores, not all together at the end.
	w, err := temporal.NewWorker(h.Client, temporal.WorkerOptions{TaskQueue: h.Queue, Identity: "fan-e", MaxStages: 2, Activities: h.activities()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	h.copySampleData()
	path := h.writeFile("e.yaml", `name: e
seed: 1
stages:
  - {id: load, uses: read_csv, with: {path: sample-data/breast_cancer.csv}}
  - {id: split, uses: split, with: {target: diagnosis, stratify: true}}
  - {id: tune, uses: grid_search, with: {model: gradient_boosting_classifier, params: {n_estimators: 60}, grid: {learning_rate: [0.05, 0.1, 0.2, 0.3], max_depth: [2, 3, 4, 5, 6]}, cv: 5}}
`)
	plan, err := engine.LoadPlan(path, stages.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := h.openStore()
	b := &engine.Broker{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := b.Subscribe(ctx)
	const before = 6
	go func() {
		for e := range events {
			if e.Kind == engine.EventProgress && e.Stage == "tune" && e.Progress.Done >= before {
				cancel()
			}
		}
	}()
	run, err := h.runner(db, b, temporal.RunOptions{}).Run(ctx, plan, engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.Run(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := stageRecord(t, *stored, "tune")
	if stored.Status != engine.StatusCancelled || s.Status != engine.StatusCancelled {
		t.Errorf("run %s, stage tune %s (%s): want both cancelled", stored.Status, s.Status, s.Error)
	}
	n := 0
	lines, err := db.Logs(context.Background(), run.ID, "tune", 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if f := l.Fold; f != nil {
			n++
			seen[fmt.Sprint(f.Candidate, "/", f.Fold)] = true
		}
	}
	if n < before || n >= 100 || len(seen) != n {
		t.Errorf("%d fold events kept (%d distinct), want the %d or more that finished before the cancel, once each, and fewer than all 100", n, len(seen), before)
	}
	t.Logf("cancelled after %d of 100 fits (the record's count: %+v)", n, s.Progress)
}

// Case (h): a 500-candidate × 5-fold search (2,500 fits) completes on
// Temporal with the model a local run gives, and no workflow's history
// comes near Temporal's limits (51,200 events, 50 MB).
func TestFanOut500Candidates(t *testing.T) {
	if testing.Short() {
		t.Skip("2,500 activities")
	}
	h := newHarness(t)
	h.startWorker("fan-h")
	h.copySampleData()
	var depths, leaves []string
	for i := 1; i <= 25; i++ {
		depths = append(depths, fmt.Sprint(i))
	}
	for i := 1; i <= 20; i++ {
		leaves = append(leaves, fmt.Sprint(i))
	}
	path := h.writeFile("h.yaml", `name: h
seed: 3
stages:
  - {id: load, uses: read_csv, with: {path: sample-data/iris.csv}}
  - {id: split, uses: split, with: {target: species, stratify: true}}
  - {id: tune, uses: grid_search, with: {model: decision_tree_classifier, grid: {max_depth: [`+strings.Join(depths, ", ")+`], min_samples_leaf: [`+strings.Join(leaves, ", ")+`]}, cv: 5}}
`)
	db := h.openStore()
	plan, err := engine.LoadPlan(path, stages.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	local, err := (&engine.Executor{Recorder: db, Artifacts: db.ArtifactStore(), Version: cli.Version}).Run(context.Background(), plan)
	if err != nil || local.Status != engine.StatusSucceeded {
		t.Fatalf("local run: %v %s", err, local.Error)
	}
	began := time.Now()
	run, err := h.runner(db, nil, temporal.RunOptions{}).Run(context.Background(), plan, engine.RunOptions{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	s := stageRecord(t, *run, "tune")
	if run.Status != engine.StatusSucceeded || s.Metrics["candidates"] != 500 {
		t.Fatalf("run %s (%s), tune %v", run.Status, run.Error, s.Metrics)
	}
	l := stageRecord(t, *local, "tune")
	if la, ra := artifactSet(l.Artifacts), artifactSet(s.Artifacts); strings.Join(la, "\n") != strings.Join(ra, "\n") {
		t.Errorf("artifacts differ:\nlocal:\n%s\ntemporal:\n%s", strings.Join(la, "\n"), strings.Join(ra, "\n"))
	}
	if p := s.Progress; p.Done != 2501 || p.Total != 2501 {
		t.Errorf("tune ended at %+v, want 2501/2501 fits", p)
	}
	// The histories of the run's workflow and of its 25 chunks (their ids
	// are the parent's, the stage's and the chunk's units).
	ctx := context.Background()
	ids := []string{run.WorkflowID}
	for first := 0; first < 2500; first += 100 {
		ids = append(ids, fmt.Sprintf("%s/tune/%d-%d", run.WorkflowID, first+1, first+100))
	}
	longest := 0
	for _, id := range ids {
		hist, err := collectHistory(h.Client.GetWorkflowHistory(ctx, id, "", false, 0))
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		longest = max(longest, len(hist.Events))
	}
	if longest > 2000 {
		t.Errorf("the longest history has %d events: want each far under Temporal's 51,200", longest)
	}
	t.Logf("2,500 fits on Temporal in %s (one in-process worker; the machine's load counts); %d workflows, the longest history %d events", took.Round(time.Second), len(ids), longest)
}

// TestFanOutHistoryReplays runs a small search on Temporal and replays
// the histories of its workflow and of one chunk with the workflow code
// of this tree; with -record it writes them for the main module's replay
// test (engine/temporal/testdata/history_fanout*.json).
func TestFanOutHistoryReplays(t *testing.T) {
	h := newHarness(t)
	h.startWorker("fan-replay")
	h.copySampleData()
	path := h.writeFile("r.yaml", `name: fanreplay
seed: 5
stages:
  - {id: load, uses: read_csv, with: {path: sample-data/iris.csv}}
  - {id: split, uses: split, with: {target: species}}
  - {id: tune, uses: grid_search, with: {model: knn_classifier, grid: {n_neighbors: [3, 5, 7]}, cv: 3}}
`)
	db := h.openStore()
	plan, err := engine.LoadPlanFor(path, stages.Registry(), nil, engine.ManualRun(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	run, err := h.runner(db, nil, temporal.RunOptions{}).Run(context.Background(), plan, engine.RunOptions{})
	if err != nil || run.Status != engine.StatusSucceeded {
		t.Fatalf("run: %v %s %s", err, run.Status, run.Error)
	}
	for name, wid := range map[string]string{"fanout": run.WorkflowID, "fanout_chunk": run.WorkflowID + "/tune/1-2"} {
		hist, err := collectHistory(h.Client.GetWorkflowHistory(context.Background(), wid, "", false, 0))
		if err != nil {
			t.Fatalf("%s: %v", wid, err)
		}
		rep := worker.NewWorkflowReplayer()
		temporal.RegisterWorkflows(rep)
		if err := rep.ReplayWorkflowHistory(nil, hist); err != nil {
			t.Errorf("%s's history does not replay: %v", wid, err)
		}
		if *record {
			b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(repo, "engine", "temporal", "testdata", "history_"+name+".json")
			if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", out)
		}
	}
}
