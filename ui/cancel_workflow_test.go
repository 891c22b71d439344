package ui_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

// temporalRun is a run of demo going on Temporal workers, recorded by
// another process (sluice run --engine temporal, or runs sync --follow).
func temporalRun() *fakeStore {
	s := newFakeStore()
	r := sampleRun(1, 0.95, t0.Add(-time.Minute))
	r.Status, r.Finished, r.Seconds = engine.StatusRunning, time.Time{}, 0
	r.Engine, r.WorkflowID, r.PID, r.Host = engine.EngineTemporal, "sluice-demo-7", 4242, "elsewhere"
	for i := 3; i < len(r.Stages); i++ {
		r.Stages[i].Status = engine.StatusRunning
	}
	s.add(r)
	return s
}

// TestCancelTemporalRun: c on the Run screen, confirmed, on a run that
// runs on Temporal asks for its workflow to be cancelled.
func TestCancelTemporalRun(t *testing.T) {
	var mu sync.Mutex
	var cancelled []string
	d := deps(temporalRun())
	d.CancelWorkflow = func(_ context.Context, id string) error {
		mu.Lock()
		defer mu.Unlock()
		cancelled = append(cancelled, id)
		return nil
	}
	m := ui.New(context.Background(), d)
	t.Cleanup(func() { m.Shutdown(5 * time.Second) })
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(goldenW, goldenH))
	tm.Send(common.WatchRunMsg{ID: 1})
	typeKeys(tm, "2")
	waitFor(t, tm, "running")
	typeKeys(tm, "c")
	waitFor(t, tm, "Cancel run 1")
	typeKeys(tm, "y")
	waitFor(t, tm, "asked Temporal to cancel run 1")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	mu.Lock()
	defer mu.Unlock()
	if len(cancelled) != 1 || cancelled[0] != "sluice-demo-7" {
		t.Errorf("workflows cancelled: %v, want [sluice-demo-7]", cancelled)
	}
}

// TestCancelTemporalRunNeedsServer: without a Temporal server the key
// says how to give one instead of pretending.
func TestCancelTemporalRunNeedsServer(t *testing.T) {
	tm, _ := start(t, temporalRun())
	tm.Send(common.WatchRunMsg{ID: 1})
	typeKeys(tm, "2")
	waitFor(t, tm, "running")
	typeKeys(tm, "c")
	waitFor(t, tm, "SLUICE_TEMPORAL")
	typeKeys(tm, "q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}
