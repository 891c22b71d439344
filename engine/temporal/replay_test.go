package temporal_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/sluice-ml/sluice/engine/temporal"
)

// TestReplay replays workflow histories recorded from real runs
// (testdata/history_*.json, written by the nested module's
// TestHistoryReplays with -record) with the workflow code of this tree:
// a change that would make running workflows non-deterministic fails
// here, without a server.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "history_*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d recorded histories in testdata, want the failed and the succeeded run's", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			rep := worker.NewWorkflowReplayer()
			temporal.RegisterWorkflows(rep)
			if err := rep.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Errorf("%s does not replay: %v", f, err)
			}
		})
	}
}
