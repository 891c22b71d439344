package engine_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// memRecorder keeps what the executor records, for assertions.
type memRecorder struct {
	mu     sync.Mutex
	begun  int
	calls  int
	last   *engine.Run
	logs   []engine.LogLine
	arts   []engine.ArtifactInfo
	prevs  []*engine.Preview
	nextID int64
}

func (m *memRecorder) BeginRun(_ context.Context, r *engine.Run) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.begun++
	m.nextID++
	return m.nextID, nil
}

func (m *memRecorder) RecordRun(_ context.Context, r *engine.Run, d *engine.RunDelta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	m.last = r
	m.logs = append(m.logs, d.Logs...)
	m.arts = append(m.arts, d.Artifacts...)
	m.prevs = append(m.prevs, d.Previews...)
	return nil
}

func TestExecutorRunsIndependentStagesConcurrentlyUpToTheLimit(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, `name: p
stages:
  - {id: a, uses: sleep, with: {for: 150ms}}
  - {id: b, uses: sleep, with: {for: 150ms}, needs: []}
  - {id: c, uses: sleep, with: {for: 150ms}, needs: []}
  - {id: d, uses: sleep, with: {for: 150ms}, needs: []}
  - {id: join, uses: sleep, needs: [a, b, c, d]}
`)
	rec := &memRecorder{}
	run, err := (&engine.Executor{Recorder: rec, MaxParallel: 2}).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != engine.StatusSucceeded {
		t.Fatalf("status: got %s, want succeeded (%s)", run.Status, run.Error)
	}
	if got := reg.peak.Load(); got != 2 {
		t.Errorf("peak concurrency: got %d, want 2", got)
	}
	if rec.last == nil || rec.last.Status != engine.StatusSucceeded {
		t.Errorf("recorder's last snapshot: got %+v, want the succeeded run", rec.last)
	}
	if len(rec.prevs) != 5 {
		t.Errorf("previews recorded: got %d, want one per table output (5)", len(rec.prevs))
	}
}

// TestExecutorCancelAbandonsAStubbornStageAndMarksCancelled cancels once
// both sleeping stages run: Run returns while the stage that ignores the
// cancel still sleeps (it is abandoned after the grace, not waited for),
// and every stage is marked cancelled.
func TestExecutorCancelAbandonsAStubbornStageAndMarksCancelled(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, `name: p
stages:
  - {id: a, uses: sleep, with: {for: 30s}}
  - {id: stubborn, uses: sleep, with: {for: 30s, ignore_cancel: true}, needs: []}
  - {id: after, uses: sleep}
`)
	ctx, cancel := context.WithCancel(context.Background())
	broker := &engine.Broker{}
	ex := &engine.Executor{MaxParallel: 4, Events: broker}
	events := broker.Subscribe(ctx)
	go func() {
		started := 0
		for ev := range events {
			if ev.Kind == engine.EventStageStarted {
				if started++; started == 2 {
					cancel()
				}
			}
		}
	}()
	run, err := ex.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.running.Load(); n != 1 {
		t.Errorf("stages still in their Run when Run returned: %d, want 1 (the stubborn one, abandoned)", n)
	}
	if run.Status != engine.StatusCancelled {
		t.Errorf("run status: got %s, want cancelled", run.Status)
	}
	for id, st := range stageStatus(run) {
		if st != engine.StatusCancelled {
			t.Errorf("stage %s: got %s, want cancelled", id, st)
		}
	}
}

func TestExecutorRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, `name: p
stages:
  - {id: f, uses: flaky, with: {failures: 2}, retries: 2}
  - {id: g, uses: flaky, with: {failures: 5}, retries: 1, needs: []}
`)
	rec := &memRecorder{}
	run, err := (&engine.Executor{Recorder: rec, RetryBackoff: 20 * time.Millisecond}).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := run.Stage("f")
	if f.Status != engine.StatusSucceeded || f.Attempts != 3 {
		t.Errorf("f: got %s after %d attempts, want succeeded after 3", f.Status, f.Attempts)
	}
	g, _ := run.Stage("g")
	if g.Status != engine.StatusFailed || g.Attempts != 2 || !strings.Contains(g.Error, "failure 2") {
		t.Errorf("g: got %s after %d attempts (%q), want failed after 2 with the last error", g.Status, g.Attempts, g.Error)
	}
	if run.Status != engine.StatusFailed {
		t.Errorf("run: got %s, want failed", run.Status)
	}
	// f waits 20ms, then twice that, before its retries: its log says so,
	// in order.
	var waits []string
	for _, l := range rec.logs {
		if _, wait, ok := strings.Cut(l.Text, "retrying in "); ok && l.Stage == "f" {
			waits = append(waits, wait)
		}
	}
	if !slices.Equal(waits, []string{"20ms", "40ms"}) {
		t.Errorf("f's retry waits: %q, want 20ms then 40ms", waits)
	}
}

func TestExecutorTimeoutFailsTheStage(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, "name: p\nstages:\n  - {id: a, uses: sleep, with: {for: 10s}, timeout: 100ms}\n")
	rec := &memRecorder{}
	run, err := (&engine.Executor{Recorder: rec}).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := run.Stage("a")
	if a.Status != engine.StatusFailed || !strings.Contains(a.Error, "timed out after 100ms") {
		t.Errorf("got %s %q, want failed with a timeout", a.Status, a.Error)
	}
	for _, l := range rec.logs {
		if strings.HasPrefix(l.Text, "slept") {
			t.Errorf("the stage slept its 10s out (%q): the timeout did not stop it", l.Text)
		}
	}
}

func TestExecutorFailureSkipsDependentsButNotIndependentBranches(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, `name: p
stages:
  - {id: src, uses: source}
  - {id: bad, uses: sleep, with: {fail: true}}
  - {id: after_bad, uses: sleep}
  - {id: after_after, uses: sleep}
  - {id: good, uses: sleep, with: {for: 100ms}, needs: [src]}
  - {id: after_good, uses: sleep, needs: [good]}
`)
	run, err := (&engine.Executor{MaxParallel: 2}).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]engine.Status{"src": engine.StatusSucceeded, "bad": engine.StatusFailed, "after_bad": engine.StatusSkipped,
		"after_after": engine.StatusSkipped, "good": engine.StatusSucceeded, "after_good": engine.StatusSucceeded}
	got := stageStatus(run)
	for id, w := range want {
		if got[id] != w {
			t.Errorf("stage %s: got %s, want %s", id, got[id], w)
		}
	}
	if run.Status != engine.StatusFailed || !strings.Contains(run.Error, "stage bad failed") {
		t.Errorf("run: got %s %q, want failed naming stage bad", run.Status, run.Error)
	}
}

func TestExecutorTurnsAPanicIntoAFailedStageWithItsStack(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, "name: p\nstages:\n  - {id: b, uses: boom}\n")
	rec := &memRecorder{}
	run, err := (&engine.Executor{Recorder: rec}).Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := run.Stage("b")
	if b.Status != engine.StatusFailed || !strings.Contains(b.Error, "panic") {
		t.Errorf("got %s %q, want failed with the panic", b.Status, b.Error)
	}
	var log strings.Builder
	for _, l := range rec.logs {
		log.WriteString(l.Text + "\n")
	}
	if !strings.Contains(log.String(), "goroutine") || !strings.Contains(log.String(), "helpers_test.go") {
		t.Errorf("log holds no stack trace:\n%s", log.String())
	}
}

func TestExecutorNeverBlocksOnASlowSubscriber(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	var b strings.Builder
	b.WriteString("name: p\nstages:\n")
	for i := 0; i < 40; i++ {
		b.WriteString("  - {id: s" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ", uses: sleep, with: {for: 1ms}, needs: []}\n")
	}
	plan := mustPlan(t, reg.Registry, b.String())
	broker := &engine.Broker{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = broker.Subscribe(ctx) // never read
	done := make(chan *engine.Run)
	go func() {
		run, _ := (&engine.Executor{Events: broker}).Run(context.Background(), plan)
		done <- run
	}()
	select {
	case run := <-done:
		if run.Status != engine.StatusSucceeded {
			t.Errorf("got %s, want succeeded", run.Status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("executor blocked on a subscriber that never reads")
	}
}

func TestExecutorEventsAndSeedsAreReported(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, "name: p\nseed: 7\nstages:\n  - {id: a, uses: source}\n  - {id: s, uses: to_split, with: {target: x}}\n  - {id: m, uses: fit}\n")
	broker := &engine.Broker{}
	ctx, cancel := context.WithCancel(context.Background())
	events := broker.Subscribe(ctx)
	rec := &memRecorder{}
	run, err := (&engine.Executor{Events: broker, Recorder: rec, Artifacts: newMemStore()}).Run(context.Background(), plan)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[engine.EventKind]int{}
	for e := range events {
		kinds[e.Kind]++
	}
	for _, k := range []engine.EventKind{engine.EventRunStarted, engine.EventStageStarted, engine.EventStageFinished, engine.EventRunFinished} {
		if kinds[k] == 0 {
			t.Errorf("no %s event", k)
		}
	}
	m, _ := run.Stage("m")
	if want := float64(engine.StageSeed(7, "m") % 1000); m.Metrics["seed_mod"] != want {
		t.Errorf("stage seed: got %v, want %v (derived from pipeline seed and id)", m.Metrics["seed_mod"], want)
	}
	if len(m.Artifacts) != 2 || m.Artifacts[1].Name != "model" || len(m.Artifacts[1].SHA256) != 64 || len(rec.arts) != 4 {
		t.Errorf("model artifacts: got %+v, recorded %d of the run's 4", m.Artifacts, len(rec.arts))
	}
	if m.Fingerprint == "" {
		t.Error("stage fingerprint is empty")
	}
}

func TestFingerprintChangesWithParamsAndInputFiles(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	path := writeSpec(t, "name: p\nstages:\n  - {id: a, uses: source, with: {path: data.txt}}\n  - {id: b, uses: sleep}\n")
	dir := path[:strings.LastIndex(path, "/")]
	write := func(s string) {
		if err := writeFile(dir+"/data.txt", s); err != nil {
			t.Fatal(err)
		}
	}
	fp := func(overrides ...string) (string, string, map[string]string) {
		var os []engine.Override
		for _, o := range overrides {
			ov, _ := engine.ParseOverride(o)
			os = append(os, ov)
		}
		plan, err := engine.LoadPlan(path, reg.Registry, os)
		if err != nil {
			t.Fatal(err)
		}
		run, _ := (&engine.Executor{}).Run(context.Background(), plan)
		a, _ := run.Stage("a")
		b, _ := run.Stage("b")
		return a.Fingerprint, b.Fingerprint, run.Inputs
	}
	write("one")
	a1, b1, inputs := fp()
	if inputs["data.txt"] == "" {
		t.Errorf("data fingerprint not recorded: %v", inputs)
	}
	a2, b2, _ := fp()
	if a1 != a2 || b1 != b2 {
		t.Error("fingerprints differ between identical runs")
	}
	_, b3, _ := fp("b.for=20ms")
	if b3 == b1 {
		t.Error("b's fingerprint ignores its parameters")
	}
	write("two")
	a4, b4, _ := fp()
	if a4 == a1 || b4 == b1 {
		t.Error("fingerprints ignore the content of the file read upstream")
	}
}

// TestOutputsAreKeptAndLoadBack runs a pipeline with an artifact store
// and reads every stage's output back by the reference its run record
// keeps: the executor's half of the stage cache.
func TestOutputsAreKeptAndLoadBack(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	reg.SetDecoder(decodeTestValue)
	plan := mustPlan(t, reg.Registry, "name: p\nseed: 7\nstages:\n  - {id: a, uses: source}\n  - {id: s, uses: to_split, with: {target: x}}\n  - {id: m, uses: fit}\n")
	store := newMemStore()
	ex := &engine.Executor{Artifacts: store}
	run, err := ex.Run(context.Background(), plan)
	if err != nil || run.Status != engine.StatusSucceeded {
		t.Fatalf("run: %v, %v", run.Status, err)
	}
	// source, split, model (whose split is the split's artifact, written
	// once), and the model file.
	if store.puts != 4 {
		t.Errorf("puts: got %d, want 4 (a value written twice in one run?)", store.puts)
	}
	a, _ := run.Stage("a")
	if a.Rows != 3 || a.Cols != 1 {
		t.Errorf("table stage rows x cols: got %d x %d, want 3 x 1", a.Rows, a.Cols)
	}
	for _, s := range run.Stages {
		if len(s.Artifacts) == 0 || s.Artifacts[0].Name != engine.OutputArtifact {
			t.Fatalf("stage %s: artifacts %+v, want the output first", s.ID, s.Artifacts)
		}
		ref := s.Artifacts[0]
		if ref.Kind != s.Kind {
			t.Errorf("stage %s: output kind %s, want %s", s.ID, ref.Kind, s.Kind)
		}
		v, err := ex.LoadOutput(context.Background(), plan, ref)
		if err != nil {
			t.Fatalf("stage %s: load output: %v", s.ID, err)
		}
		if v.Kind() != s.Kind {
			t.Errorf("stage %s: loaded a %s, want %s", s.ID, v.Kind(), s.Kind)
		}
		if s.ID == "m" {
			tv := v.(*testValue)
			if tv.from == nil || len(tv.from.nums) != 1 || tv.from.nums[0] != int64(engine.StageSeed(7, "s")%7) {
				t.Errorf("model's split did not load back by reference: %+v", tv.from)
			}
		}
	}
	// A missing or damaged artifact is an error, never a value.
	m, _ := run.Stage("m")
	ref := m.Artifacts[0]
	store.mu.Lock()
	store.blobs[ref.SHA256] = append([]byte(nil), store.blobs[ref.SHA256][:ref.Size/2]...)
	store.mu.Unlock()
	if _, err := ex.LoadOutput(context.Background(), plan, ref); err == nil {
		t.Error("a truncated artifact loaded")
	}
	if err := store.Delete(context.Background(), ref.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, err := ex.LoadOutput(context.Background(), plan, ref); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing artifact: got %v, want fs.ErrNotExist", err)
	}
}
