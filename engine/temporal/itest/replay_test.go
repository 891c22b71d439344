package itest

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/engine/temporal"
)

// record rewrites the histories the main module's replay test replays
// (engine/temporal/testdata) from real runs:
//
//	cd engine/temporal/itest && go test -run TestHistoryReplays -record
var record = flag.Bool("record", false, "rewrite engine/temporal/testdata/*.json from real runs")

// replayPipeline has what the workflow orders: independent stages at
// once, a fan-in, a stage cached from an earlier run, a failure that
// skips its dependent while an independent branch finishes.
const replayPipeline = `name: replay
seed: 7
stages:
  - {id: load, uses: read_csv, with: {path: data.csv}}
  - {id: clean, uses: dropna, needs: [load]}
  - {id: sorted, uses: sort, needs: [load], with: {by: [a]}}
  - {id: both, uses: concat, needs: [clean, sorted]}
  - {id: gate, uses: exec, needs: [both], with: {command: [sh, -c, 'test -f ok']}}
  - {id: after, uses: dropna, needs: [gate]}
`

// TestHistoryReplays runs the workflow twice (a failed run, then one
// that succeeds with stages cached from the first), fetches both
// histories from the server and replays them with the workflow code of
// this tree; with -record it writes them for the main module's replay
// test.
func TestHistoryReplays(t *testing.T) {
	h := newHarness(t)
	h.startWorker("replay-worker")
	h.writeFile("data.csv", smallCSV)
	path := h.writeFile("replay.yaml", replayPipeline)
	db := h.openStore()
	for _, name := range []string{"failed", "succeeded"} {
		if name == "succeeded" {
			h.writeFile("ok", "")
		}
		plan, err := engine.LoadPlanFor(path, stages.Registry(), nil, engine.ManualRun(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		run, err := h.runner(db, nil, temporal.RunOptions{}).Run(context.Background(), plan, engine.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := engine.StatusFailed
		if name == "succeeded" {
			want = engine.StatusSucceeded
		}
		if run.Status != want {
			t.Fatalf("%s run: %s (%s)", name, run.Status, run.Error)
		}
		iter := h.Client.GetWorkflowHistory(context.Background(), run.WorkflowID, "", false, 0)
		hist, err := collectHistory(iter)
		if err != nil {
			t.Fatal(err)
		}
		rep := worker.NewWorkflowReplayer()
		temporal.RegisterWorkflows(rep)
		if err := rep.ReplayWorkflowHistory(nil, hist); err != nil {
			t.Errorf("%s run's history does not replay: %v", name, err)
		}
		if *record {
			b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(repo, "engine", "temporal", "testdata", "history_"+name+".json")
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", out)
		}
	}
}

// collectHistory reads a whole workflow history.
func collectHistory(iter client.HistoryEventIterator) (*historypb.History, error) {
	hist := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return nil, err
		}
		hist.Events = append(hist.Events, ev)
	}
	return hist, nil
}
