package itest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/engine/temporal"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/store/artifacts"
	"github.com/sluice-ml/sluice/ui/cli"
)

// overheadStages is the length of the chain BenchmarkStageOverhead runs.
const overheadStages = 20

// BenchmarkStageOverhead runs a chain of overheadStages trivial stages
// (read a 3-row CSV, then dropna after dropna), recorded in a run store
// and with every output kept in the artifact store, locally and on
// Temporal (an in-process server and worker), and reports the time per
// stage of each: the difference is Temporal's overhead per stage.
//
//	cd engine/temporal/itest && go test -run '^$' -bench StageOverhead -benchtime 10x -count 3
func BenchmarkStageOverhead(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	sb.WriteString("name: chain\nseed: 1\nstages:\n  - {id: s0, uses: read_csv, with: {path: data.csv}}\n")
	for i := 1; i < overheadStages; i++ {
		fmt.Fprintf(&sb, "  - {id: s%d, uses: dropna, needs: [s%d]}\n", i, i-1)
	}
	path := filepath.Join(dir, "chain.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(smallCSV), 0o644); err != nil {
		b.Fatal(err)
	}
	dbPath := filepath.Join(dir, "sluice.db")
	arts, err := artifacts.Open(store.ArtifactsDir(dbPath))
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(dbPath, &store.Options{Timeout: time.Second, Artifacts: arts})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	plan := func() *engine.Plan {
		p, err := engine.LoadPlanFor(path, stages.Registry(), nil, engine.ManualRun(time.Now()))
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	opts := engine.RunOptions{NoCache: true}
	check := func(r *engine.Run, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if r.Status != engine.StatusSucceeded {
			b.Fatalf("run %d: %s (%s)", r.ID, r.Status, r.Error)
		}
	}

	b.Run("local", func(b *testing.B) {
		ex := &engine.Executor{Recorder: db, Cache: db, Artifacts: arts, Version: cli.Version}
		for b.Loop() {
			check(ex.RunWith(context.Background(), plan(), opts))
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/overheadStages, "ms/stage")
	})
	b.Run("temporal", func(b *testing.B) {
		c := server.GetDefaultClient()
		queue := fmt.Sprintf("bench-%d", time.Now().UnixNano())
		w, err := temporal.NewWorker(c, temporal.WorkerOptions{TaskQueue: queue,
			Activities: &temporal.Activities{Registry: stages.Registry(), Artifacts: arts, Version: cli.Version}})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		defer w.Stop()
		r := &temporal.Runner{Client: c, TaskQueue: queue,
			Executor: &engine.Executor{Recorder: db, Cache: db, Artifacts: arts, Version: cli.Version}}
		for b.Loop() {
			check(r.Run(context.Background(), plan(), opts))
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/overheadStages, "ms/stage")
	})
}
