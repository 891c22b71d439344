package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// memCache records runs in memory and answers the stage cache's
// questions from them: the store's part, without the store.
type memCache struct {
	mu      sync.Mutex
	runs    []*engine.Run // by number - 1
	begun   []*engine.Run // each run as BeginRun first recorded it
	loadErr error         // non-nil: every stored output is there but fails to load
}

var (
	_ engine.Cache    = (*memCache)(nil)
	_ engine.Recorder = (*memCache)(nil)
)

func (m *memCache) BeginRun(_ context.Context, r *engine.Run) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *r
	c.ID = int64(len(m.runs) + 1)
	c.Stages = slices.Clone(r.Stages)
	m.runs = append(m.runs, &c)
	b := c
	b.Stages = slices.Clone(r.Stages)
	m.begun = append(m.begun, &b)
	return c.ID, nil
}

func (m *memCache) RecordRun(_ context.Context, r *engine.Run, _ *engine.RunDelta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *r
	c.Stages = slices.Clone(r.Stages)
	m.runs[r.ID-1] = &c
	return nil
}

func (m *memCache) RecentRuns(_ context.Context, pipeline string, n int) ([]*engine.Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*engine.Run
	for i := len(m.runs) - 1; i >= 0 && len(out) < n; i-- {
		if m.runs[i].Pipeline == pipeline {
			out = append(out, m.runs[i])
		}
	}
	return out, nil
}

func (m *memCache) Lookup(_ context.Context, fps []string, n int) (map[string][]engine.CacheEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]engine.CacheEntry{}
	for _, fp := range fps {
		for i := len(m.runs) - 1; i >= 0 && len(out[fp]) < n; i-- {
			for _, s := range m.runs[i].Stages {
				if s.Fingerprint == fp && (s.Status == engine.StatusSucceeded || s.Status == engine.StatusCached) {
					out[fp] = append(out[fp], engine.CacheEntry{Run: m.runs[i], Stage: s.ID})
				}
			}
		}
	}
	return out, nil
}

func (m *memCache) Result(context.Context, int64, *engine.StageRun) (*engine.StoredResult, error) {
	res := &engine.StoredResult{}
	if m.loadErr != nil {
		res.Load = func(context.Context) (engine.Value, error) { return nil, m.loadErr }
	}
	return res, nil
}

// cacheRig runs pipelines of the test registry against one memCache and
// checks each time that Forecast said what the run did.
type cacheRig struct {
	t     *testing.T
	reg   *testRegistry
	cache *memCache
	path  string
}

func newCacheRig(t *testing.T, spec string) *cacheRig {
	return &cacheRig{t: t, reg: newTestRegistry(), cache: &memCache{}, path: writeSpec(t, spec)}
}

func (g *cacheRig) file(name string) string { return filepath.Join(filepath.Dir(g.path), name) }

// run forecasts, runs, checks the two agree and returns each stage's
// status and reason.
func (g *cacheRig) run(opts engine.RunOptions) map[string]string {
	g.t.Helper()
	plan, err := engine.LoadPlan(g.path, g.reg.Registry, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	ex := &engine.Executor{Recorder: g.cache, Cache: g.cache, Version: "test"}
	ds, err := ex.Forecast(context.Background(), plan, opts)
	if err != nil {
		g.t.Fatal(err)
	}
	r, err := ex.RunWith(context.Background(), plan, opts)
	if err != nil {
		g.t.Fatal(err)
	}
	got := map[string]string{}
	for i, s := range r.Stages {
		d := ds[i]
		if (d.Action == engine.ActionCached) != (s.Status == engine.StatusCached) || d.Reason != s.Reason {
			g.t.Errorf("stage %s: forecast %s (%s), run %s (%s)", s.ID, d.Action, d.Reason, s.Status, s.Reason)
		}
		got[s.ID] = s.Status.String() + ": " + s.Reason
	}
	return got
}

func wantStages(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for id, w := range want {
		if !strings.HasPrefix(got[id], w) {
			t.Errorf("stage %s: got %q, want %q…", id, got[id], w)
		}
	}
}

// A file's bytes count, not its modification time.
func TestCacheTouchKeepsItOneByteInvalidates(t *testing.T) {
	t.Parallel()
	g := newCacheRig(t, "name: p\nstages:\n  - {id: a, uses: source, with: {path: data.txt}}\n  - {id: b, uses: sleep, with: {for: 1ms}}\n")
	if err := writeFile(g.file("data.txt"), "one\n"); err != nil {
		t.Fatal(err)
	}
	wantStages(t, g.run(engine.RunOptions{}), map[string]string{"a": "succeeded: new", "b": "succeeded: new"})
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(g.file("data.txt"), later, later); err != nil {
		t.Fatal(err)
	}
	wantStages(t, g.run(engine.RunOptions{}), map[string]string{"a": "cached: cached from run 1", "b": "cached: cached from run 1"})
	// The run's first record already holds its cached stages, so what
	// they refer to is referenced from the start.
	for _, st := range g.cache.begun[1].Stages {
		if st.Status != engine.StatusCached || st.CachedFrom != 1 {
			t.Errorf("first record of run 2, stage %s: %s from %d, want cached from run 1", st.ID, st.Status, st.CachedFrom)
		}
	}
	if err := writeFile(g.file("data.txt"), "onf\n"); err != nil {
		t.Fatal(err)
	}
	wantStages(t, g.run(engine.RunOptions{}), map[string]string{"a": "succeeded: input changed: data.txt", "b": "succeeded: upstream changed: a"})
	wantStages(t, g.run(engine.RunOptions{}), map[string]string{"a": "cached: cached from run 3", "b": "cached: cached from run 3"})
}

// --no-cache=STAGE forces that stage and what is downstream of it; the
// others stay cached. A failed stage runs again with its reason, and
// what finished before it is reused (resume).
func TestCacheNoCacheStageAndResume(t *testing.T) {
	t.Parallel()
	g := newCacheRig(t, `name: p
stages:
  - {id: a, uses: sleep, with: {for: 1ms}}
  - {id: b, uses: sleep, needs: [a], with: {for: 1ms}}
  - {id: c, uses: sleep, needs: [b], with: {for: 1ms}}
  - {id: d, uses: sleep, needs: [], with: {for: 1ms}}
`)
	g.run(engine.RunOptions{})
	wantStages(t, g.run(engine.RunOptions{NoCacheStages: []string{"b"}}), map[string]string{
		"a": "succeeded: b needs its output", "b": "succeeded: --no-cache=b", "c": "succeeded: --no-cache=b", "d": "cached: cached from run 1"})
	wantStages(t, g.run(engine.RunOptions{NoCache: true}), map[string]string{"a": "succeeded: --no-cache", "d": "succeeded: --no-cache"})

	// A run that fails at c: what finished is reused by the next.
	g.cache.mu.Lock()
	last := g.cache.runs[len(g.cache.runs)-1]
	for i := range last.Stages {
		if last.Stages[i].ID == "c" {
			last.Stages[i].Status = engine.StatusFailed
		}
	}
	last.Status = engine.StatusFailed
	g.cache.runs = g.cache.runs[len(g.cache.runs)-1:] // only the failed run remains
	last.ID = 1
	g.cache.mu.Unlock()
	wantStages(t, g.run(engine.RunOptions{}), map[string]string{"c": "succeeded: failed in run 1", "d": "cached: cached from run 1"})

	plan, err := engine.LoadPlan(g.path, g.reg.Registry, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&engine.Executor{Cache: g.cache}).RunWith(context.Background(), plan, engine.RunOptions{NoCacheStages: []string{"nope"}}); err == nil {
		t.Error("--no-cache of a stage the pipeline lacks: no error")
	}
}

// A stage type that is never cached runs every time, and so does
// everything downstream of it; a stage reading a file another stage of
// the run writes runs too.
func TestCacheNeverAndFilesWrittenInTheRun(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	var mu sync.Mutex
	calls := map[string]int{}
	count := func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
		mu.Lock()
		calls[sc.ID()]++
		mu.Unlock()
		if p := sc.Params.String("path"); p != "" {
			if err := os.WriteFile(sc.Path(p), []byte(sc.ID()), 0o644); err != nil {
				return nil, err
			}
		}
		src, _ := reg.Lookup("source")
		return src.Run(ctx, sc)
	}
	reg.Add(&engine.StageType{Name: "fetch", Group: "extract", Doc: "has effects", Out: engine.KindTable, Cache: engine.CacheNever, Run: count})
	reg.Add(&engine.StageType{Name: "dump", Group: "load", Doc: "writes a file", In: engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Cache:  engine.CacheVerifyWrites,
		Params: []engine.Param{{Name: "path", Type: engine.TypePath, Output: true, Required: true, Doc: "the file"}},
		Run:    count})
	g := &cacheRig{t: t, reg: reg, cache: &memCache{}, path: writeSpec(t, `name: p
stages:
  - {id: f, uses: fetch}
  - {id: after, uses: sleep, needs: [f], with: {for: 1ms}}
  - {id: s, uses: source}
  - {id: w, uses: dump, needs: [s], with: {path: made.txt}}
  - {id: r, uses: source, needs: [], with: {path: made.txt}}
`)}
	if err := writeFile(g.file("made.txt"), "before\n"); err != nil {
		t.Fatal(err)
	}
	g.run(engine.RunOptions{})
	got := g.run(engine.RunOptions{})
	wantStages(t, got, map[string]string{
		"f":     "succeeded: always runs: fetch",
		"after": "succeeded: upstream changed: f",
		"w":     "cached: cached from run 1",
		"r":     "succeeded: reads made.txt, which stage w writes",
	})
	if err := writeFile(g.file("made.txt"), "edited\n"); err != nil {
		t.Fatal(err)
	}
	wantStages(t, g.run(engine.RunOptions{}), map[string]string{"w": "succeeded: output changed: made.txt"})
	mu.Lock()
	defer mu.Unlock()
	if calls["f"] != 3 || calls["w"] != 2 {
		t.Errorf("fetch ran %d times, dump %d; want 3 and 2", calls["f"], calls["w"])
	}
}

// A stored output that fails to load when a running stage needs it (it
// vanished or went bad after the run decided) is never used: its stage
// runs instead, within the run, and says why.
func TestCacheUnloadableOutputRunsTheStageInstead(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	cache := &memCache{}
	path := writeSpec(t, "name: p\nstages:\n  - {id: a, uses: sleep, with: {for: 1ms}}\n  - {id: b, uses: sleep, with: {for: 1ms}}\n  - {id: c, uses: sleep, with: {for: 1ms}}\n")
	plan, err := engine.LoadPlan(path, reg.Registry, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := &engine.Executor{Recorder: cache, Cache: cache, Version: "test"}
	if _, err := ex.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	cache.loadErr = errors.New("sha256 mismatch")
	ds, err := ex.Forecast(context.Background(), plan, engine.RunOptions{NoCacheStages: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	if ds[1].Action != engine.ActionCached {
		t.Fatalf("b: forecast %s (%s), want cached (its output looks present)", ds[1].Action, ds[1].Reason)
	}
	r, err := ex.RunWith(context.Background(), plan, engine.RunOptions{NoCacheStages: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusSucceeded {
		t.Fatalf("run %s: %s", r.Status, r.Error)
	}
	for id, want := range map[string]string{
		"a": "succeeded: the output kept by run 1 is unusable (sha256 mismatch)",
		"b": "succeeded: the output kept by run 1 is unusable (sha256 mismatch)",
		"c": "succeeded: --no-cache=c",
	} {
		s, _ := r.Stage(id)
		if got := s.Status.String() + ": " + s.Reason; got != want {
			t.Errorf("stage %s: got %q, want %q", id, got, want)
		}
	}
}

// RerunPlan gives back the recorded run's plan: its file text (not the
// file on disk now), its overrides, and its logical time, so templates
// resolve to what they were; every stage is then cached.
func TestRerunPlanRepeatsTheRun(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	cache := &memCache{}
	path := writeSpec(t, "name: p\nstages:\n  - {id: a, uses: source, with: {path: \"raw/{{ ds }}.txt\"}}\n  - {id: b, uses: sleep, with: {for: 1ms}}\n")
	dir := filepath.Dir(path)
	if err := os.MkdirAll(filepath.Join(dir, "raw"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, day := range []string{"2025-03-01", "2025-03-02"} {
		if err := writeFile(filepath.Join(dir, "raw", day+".txt"), day); err != nil {
			t.Fatal(err)
		}
	}
	ov, err := engine.ParseOverride("b.for=2ms")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	plan, err := engine.LoadPlanFor(path, reg.Registry, []engine.Override{ov}, engine.RunContext{Trigger: engine.TriggerManual, Logical: day, IntervalStart: day, IntervalEnd: day})
	if err != nil {
		t.Fatal(err)
	}
	ex := &engine.Executor{Recorder: cache, Cache: cache, Version: "test"}
	first, err := ex.Run(context.Background(), plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFile(path, "name: p\nstages:\n  - {id: other, uses: sleep}\n"); err != nil {
		t.Fatal(err)
	}
	again, err := engine.RerunPlan(first, reg.Registry)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := again.Stage("a")
	if !ok || a.Params.String("path") != "raw/2025-03-01.txt" {
		t.Fatalf("rerun plan: stage a %v, want path raw/2025-03-01.txt", a)
	}
	if b, _ := again.Stage("b"); b.Params.Duration("for") != 2*time.Millisecond {
		t.Errorf("rerun plan lost the override: b.for = %v", b.Params.Duration("for"))
	}
	r, err := ex.Run(context.Background(), again)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Stages {
		if s.Status != engine.StatusCached || s.CachedFrom != first.ID {
			t.Errorf("stage %s: %s (%s), want cached from run %d", s.ID, s.Status, s.Reason, first.ID)
		}
	}
	first.Spec = ""
	if _, err := engine.RerunPlan(first, reg.Registry); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a run without its file: got %v, want ErrNotFound", err)
	}
}
