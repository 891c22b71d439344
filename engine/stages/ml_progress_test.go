package stages_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
)

// finalRecorder notes when the run's final record is written, after a
// pause that stands for a slow store.
type finalRecorder struct {
	engine.NopRecorder
	recorded atomic.Bool
}

func (r *finalRecorder) RecordRun(_ context.Context, run *engine.Run, _ *engine.RunDelta) error {
	if run.Status.Done() {
		time.Sleep(100 * time.Millisecond)
		r.recorded.Store(true)
	}
	return nil
}

// runEvents runs the pipeline at path and returns every event published
// and whether the run was recorded when its end was published.
func runEvents(t *testing.T, path string) (*engine.Run, []engine.Event, bool) {
	t.Helper()
	plan, err := engine.LoadPlan(path, stages.Registry(), nil)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	broker := &engine.Broker{}
	ctx, cancel := context.WithCancel(context.Background())
	events := broker.Subscribe(ctx)
	rec := &finalRecorder{}
	var (
		got             []engine.Event
		recordedAtFinal bool
		wg              sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e := range events {
			if e.Kind == engine.EventRunFinished {
				recordedAtFinal = rec.recorded.Load()
			}
			got = append(got, e)
		}
	}()
	run, err := (&engine.Executor{Events: broker, Recorder: rec}).Run(context.Background(), plan)
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != engine.StatusSucceeded {
		t.Fatalf("run %s: %s", run.Status, run.Error)
	}
	return run, got, recordedAtFinal
}

// TestProgressTellsTheTruth: a train stage reports its phases after the
// fit (scoring, encoding the model); logistic regression ends at the
// iterations it took, not max_iter; grid_search counts fits through the
// refit of the winner; the run's end is published once it is recorded.
func TestProgressTellsTheTruth(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, head("iris", "species")+`  - {id: model, uses: logistic_regression, with: {max_iter: 500}}
  - id: tune
    uses: grid_search
    needs: [scale]
    with: {model: logistic_regression, grid: {C: [0.1, 1.0]}, cv: 3}
`)
	run, events, recorded := runEvents(t, path)
	if !recorded {
		t.Error("the run's end was published before the run was recorded")
	}
	phases := map[string][]string{}
	for _, e := range events {
		if e.Kind != engine.EventProgress {
			continue
		}
		if p := e.Progress.Phase; p != "" {
			if l := phases[e.Stage]; len(l) == 0 || l[len(l)-1] != p {
				phases[e.Stage] = append(phases[e.Stage], p)
			}
		}
		if e.Stage == "tune" && e.Progress.Unit != "" && e.Progress.Unit != "fits" {
			t.Errorf("grid_search progress in %q, want fits throughout: %+v", e.Progress.Unit, e.Progress)
		}
	}
	if got := phases["model"]; len(got) != 2 || got[0] != "scoring test rows" || got[1] != "encoding model" {
		t.Errorf("model phases %v, want [scoring test rows encoding model]", got)
	}
	if got := phases["tune"]; len(got) < 1 || got[0] != "refitting best" {
		t.Errorf("grid_search phases %v, want refitting best first", got)
	}
	m, _ := run.Stage("model")
	if p := m.Progress; p.Done != p.Total || p.Total <= 0 || p.Total >= 500 || p.Unit != "iterations" || p.Phase != "" {
		t.Errorf("logistic regression ended at %+v, want the iterations it took (fewer than max_iter 500), done", p)
	}
	tune, _ := run.Stage("tune")
	if p := tune.Progress; p.Done != 7 || p.Total != 7 || p.Unit != "fits" {
		t.Errorf("grid_search ended at %+v, want 7/7 fits (2 candidates × 3 folds + the refit)", p)
	}
}
