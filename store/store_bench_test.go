package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// The store of 10,000 runs is built once per test binary run, the first
// time a benchmark asks for it, and removed by TestMain.
var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixturePath string
	fixtureErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

const fixtureRuns = 10000

// benchRun is a finished run of a six-stage pipeline the size of a real
// one: the pipeline file, resolved parameters, fingerprints, metrics.
func benchRun(i int) *engine.Run {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	pipelines := []string{"iris", "wine", "digits", "diabetes", "breast_cancer"}
	r := &engine.Run{
		Pipeline: pipelines[i%len(pipelines)],
		File:     "pipelines/" + pipelines[i%len(pipelines)] + ".yaml",
		Spec:     strings.Repeat("  - id: stage\n    uses: standard_scaler\n    with: {a: 1}\n", 20),
		SpecHash: strings.Repeat("ab", 32),
		Seed:     42,
		Params: map[string]map[string]any{
			"load":  {"path": "iris.csv", "delimiter": ","},
			"split": {"target": "species", "test_size": 0.2, "stratify": true},
			"model": {"C": 1.0, "max_iter": 100.0, "solver": "lbfgs"},
		},
		Inputs:    map[string]string{"iris.csv": strings.Repeat("cd", 32)},
		Status:    engine.StatusSucceeded,
		Started:   start,
		Finished:  start.Add(3 * time.Second),
		Seconds:   3,
		Version:   "v0.1.0",
		Host:      "bench",
		PID:       1000 + i,
		Heartbeat: start.Add(3 * time.Second),
	}
	stages := []struct{ id, uses string }{
		{"load", "read_csv"}, {"clean", "dropna"}, {"split", "split"},
		{"scale", "standard_scaler"}, {"model", "logistic_regression"}, {"score", "evaluate"},
	}
	for j, s := range stages {
		st := engine.StageRun{
			ID: s.id, Uses: s.uses, Kind: engine.KindTable, Status: engine.StatusSucceeded, Attempts: 1,
			Started: start, Finished: start.Add(500 * time.Millisecond), Seconds: 0.5, Seed: uint64(j),
			Fingerprint: strings.Repeat("ef", 32), Progress: engine.Progress{Done: 150, Total: 150, Unit: "rows"},
			Rows: 150, Cols: 5,
		}
		if j > 0 {
			st.Needs = []string{stages[j-1].id}
		}
		switch s.id {
		case "model":
			st.Metrics = map[string]float64{"train_accuracy": 0.97, "iterations": 42}
		case "score":
			st.Metrics = map[string]float64{"accuracy": 0.9 + float64(i%10)/100, "f1": 0.93, "precision": 0.94, "recall": 0.92}
		}
		r.Stages = append(r.Stages, st)
	}
	if i%7 == 0 {
		r.Status, r.Error = engine.StatusFailed, "stage score failed: something went wrong"
	}
	return r
}

// fixture returns the path of a store of 10,000 runs with 6 stages each.
func fixture(b *testing.B) string {
	b.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "sluice-store-bench-")
		if fixtureErr != nil {
			return
		}
		fixturePath = filepath.Join(fixtureDir, "sluice.db")
		db, err := store.Open(fixturePath, nil)
		if err != nil {
			fixtureErr = err
			return
		}
		defer db.Close()
		for lo := 0; lo < fixtureRuns; lo += 1000 {
			runs := make([]*engine.Run, 0, 1000)
			for i := lo; i < lo+1000; i++ {
				runs = append(runs, benchRun(i))
			}
			if fixtureErr = db.BulkLoad(context.Background(), runs, 20); fixtureErr != nil {
				return
			}
		}
	})
	if fixtureErr != nil {
		b.Fatal(fixtureErr)
	}
	return fixturePath
}

// BenchmarkOpenList opens a store of 10,000 runs and lists them, as the
// workbench does when it starts.
func BenchmarkOpenList(b *testing.B) {
	path := fixture(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		f    store.RunFilter
		want int
	}{
		{"all", store.RunFilter{}, fixtureRuns},
		{"limit100", store.RunFilter{Limit: 100}, 100},
		{"pipeline", store.RunFilter{Pipeline: "wine"}, fixtureRuns / 5},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				db, err := store.Open(path, nil)
				if err != nil {
					b.Fatal(err)
				}
				runs, err := db.Runs(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(runs) != bc.want {
					b.Fatalf("%d runs, want %d", len(runs), bc.want)
				}
				db.Close()
			}
		})
	}
}

// BenchmarkRun reads one full run record from the large store.
func BenchmarkRun(b *testing.B) {
	db, err := store.Open(fixture(b), &store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Run(ctx, 5000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordRun records a snapshot of a six-stage run with 100 new
// log lines, as the executor does a few times a second; each call is a
// committed, fsynced transaction.
func BenchmarkRecordRun(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "sluice.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	r := benchRun(1)
	r.Status = engine.StatusRunning
	if r.ID, err = db.BeginRun(ctx, r); err != nil {
		b.Fatal(err)
	}
	d := &engine.RunDelta{Logs: make([]engine.LogLine, 100)}
	for i := range d.Logs {
		d.Logs[i] = engine.LogLine{Stage: r.Stages[i%6].ID, Time: r.Started, Stream: "stdout", Text: fmt.Sprintf("epoch %d: loss 0.1234 accuracy 0.9876", i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Heartbeat = time.Now().UTC()
		if err := db.RecordRun(ctx, r, d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPages walks the page tree of the store of 10,000 runs,
// as a read of a store not yet verified does.
func BenchmarkVerifyPages(b *testing.B) {
	path := fixture(b)
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "MB")
	}
	for b.Loop() {
		if err := store.VerifyPages(path); err != nil {
			b.Fatal(err)
		}
	}
}
