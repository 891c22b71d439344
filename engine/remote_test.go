package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// A run whose stages run elsewhere — Track on the machine that starts it,
// RunStage for each stage with its inputs' references, the outcomes fed
// back — records the same stages, metrics and artifact keys as a local
// run of the same plan, says which engine ran it, and a failure skips
// its dependent.
func TestRemoteRunMatchesLocal(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	reg.SetDecoder(decodeTestValue)
	const text = "name: p\nseed: 7\nstages:\n  - {id: a, uses: source}\n  - {id: s, uses: to_split, with: {target: x}}\n  - {id: m, uses: fit}\n"
	store := newMemStore()
	local, err := (&engine.Executor{Artifacts: store}).Run(context.Background(), mustPlan(t, reg.Registry, text))
	if err != nil || local.Status != engine.StatusSucceeded {
		t.Fatalf("local run: %v, %v", local.Status, err)
	}

	plan := mustPlan(t, reg.Registry, text)
	rec := &memRecorder{}
	ex := &engine.Executor{Artifacts: store, Recorder: rec}
	tr, stages, err := ex.Track(context.Background(), plan, engine.RunOptions{NoCache: true}, func(r *engine.Run) {
		r.Engine, r.WorkflowID = engine.EngineTemporal, "wf-1"
	})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]engine.ArtifactInfo{}
	var mu sync.Mutex
	var events []engine.EventKind
	for _, s := range stages {
		var ins []engine.ArtifactInfo
		for _, in := range s.Inputs {
			ins = append(ins, outputs[in])
		}
		if err := tr.Started(s.ID, 1); err != nil {
			t.Fatal(err)
		}
		rep, err := ex.RunStage(context.Background(), plan, s.ID, engine.StageRunOptions{Attempt: 1, Inputs: ins, Tap: func(e engine.Event) {
			mu.Lock()
			events = append(events, e.Kind)
			mu.Unlock()
		}})
		if err != nil {
			t.Fatalf("stage %s: %v", s.ID, err)
		}
		out, ok := rep.Output()
		if !ok {
			t.Fatalf("stage %s kept no output", s.ID)
		}
		outputs[s.ID] = out
		if err := tr.Succeeded(s.ID, rep, 1); err != nil {
			t.Fatal(err)
		}
	}
	remote, err := tr.End(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if remote.Status != engine.StatusSucceeded || remote.Engine != engine.EngineTemporal || remote.WorkflowID != "wf-1" {
		t.Errorf("remote run: %s on %q (%q), want succeeded on temporal (wf-1)", remote.Status, remote.Engine, remote.WorkflowID)
	}
	for i, l := range local.Stages {
		r := remote.Stages[i]
		if r.Status != engine.StatusSucceeded || fmt.Sprint(r.Metrics) != fmt.Sprint(l.Metrics) || r.Fingerprint != l.Fingerprint {
			t.Errorf("stage %s: remote %s %v %.8s, local %s %v %.8s", l.ID, r.Status, r.Metrics, r.Fingerprint, l.Status, l.Metrics, l.Fingerprint)
		}
		if fmt.Sprint(keys(r.Artifacts)) != fmt.Sprint(keys(l.Artifacts)) {
			t.Errorf("stage %s: remote artifacts %v, local %v", l.ID, keys(r.Artifacts), keys(l.Artifacts))
		}
	}
	if rec.last == nil || rec.last.Status != engine.StatusSucceeded {
		t.Errorf("the recorder's last record is not the finished run")
	}
	mu.Lock()
	sawLog := false
	for _, k := range events {
		sawLog = sawLog || k == engine.EventLog
	}
	mu.Unlock()
	if !sawLog {
		t.Errorf("the tap saw no log line of the stages (the artifact writes log one each)")
	}

	// A failure skips its dependent; the run fails.
	tr, _, err = ex.Track(context.Background(), mustPlan(t, reg.Registry, text), engine.RunOptions{NoCache: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = tr.Started("a", 1)
	_ = tr.Failed("a", errors.New("worker said no"), 0)
	_ = tr.Skipped("s")
	_ = tr.Skipped("m")
	failed, err := tr.End(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != engine.StatusFailed || failed.Stages[0].Error != "worker said no" || failed.Stages[1].Status != engine.StatusSkipped {
		t.Errorf("failed run: %s, a: %q, s: %s", failed.Status, failed.Stages[0].Error, failed.Stages[1].Status)
	}
}

func keys(arts []engine.ArtifactInfo) []string {
	var out []string
	for _, a := range arts {
		out = append(out, a.Name+"="+a.SHA256)
	}
	return out
}
