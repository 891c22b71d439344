package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Cache is where the executor finds earlier results of stages: the run
// store. *store.DB implements it. Every method is safe for concurrent
// use, also by several processes on one store.
type Cache interface {
	// RecentRuns returns up to n of the newest runs of the pipeline,
	// newest first (every status, running ones included).
	RecentRuns(ctx context.Context, pipeline string, n int) ([]*Run, error)
	// Lookup returns, for each fingerprint, up to n recorded results of a
	// stage with that fingerprint and status succeeded or cached, newest
	// first.
	Lookup(ctx context.Context, fingerprints []string, n int) (map[string][]CacheEntry, error)
	// Result returns what an earlier stage kept: its artifacts'
	// references (each checked present in the artifact store, with the
	// size recorded; the bytes are verified against their SHA-256 when
	// read) and its table preview (nil if none). It returns an error if
	// an artifact is missing; the error says which.
	Result(ctx context.Context, run int64, s *StageRun) (*StoredResult, error)
}

// CacheEntry is one earlier result: the run that holds it and the stage
// within it.
type CacheEntry struct {
	Run   *Run
	Stage string
}

// StoredResult is what an earlier stage kept, read back and verified.
type StoredResult struct {
	Artifacts []ArtifactInfo
	Preview   *Preview
	// Load decodes the stage's output value; nil when the output was
	// not kept, so a stage that needs it must run its producer again.
	// The executor sets it from the OutputArtifact reference.
	Load func(ctx context.Context) (Value, error)
}

// RunOptions are the per-run choices of Executor.RunWith and Forecast.
type RunOptions struct {
	// NoCache runs every stage, whatever is stored.
	NoCache bool
	// NoCacheStages runs these stages and everything downstream of them.
	NoCacheStages []string
	// Sweep is the sweep the run belongs to ("" for none), recorded with
	// it (sluice run --sweep).
	Sweep string
}

// Action is what a run does with a stage.
type Action string

// Actions.
const (
	ActionRun    Action = "run"    // the stage runs
	ActionCached Action = "cached" // an earlier result stands in
)

// Decision is what a run will do with one stage, and why.
type Decision struct {
	Stage       string            `json:"id"`
	Uses        string            `json:"uses"`
	Action      Action            `json:"action"`
	Reason      string            `json:"reason"`
	CachedFrom  int64             `json:"cached_from,omitempty"`
	Fingerprint string            `json:"fingerprint"`
	Reads       map[string]string `json:"reads,omitempty"`

	hit    *CacheEntry   // ActionCached: the result reused
	stored *StoredResult // ActionCached: its artifacts, verified
	late   bool          // it reads a file this run writes: hash it when it starts
}

// Forecast is what a run of plan would do, stage by stage, in file
// order: the same decisions a real run takes (RunWith makes them with
// this very code), without running anything.
func (e *Executor) Forecast(ctx context.Context, plan *Plan, opts RunOptions) ([]Decision, error) {
	d, err := e.decide(ctx, plan, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Decision, len(d))
	for i, x := range d {
		out[i] = *x
	}
	return out, nil
}

// lookupDepth is how many earlier results of one fingerprint are tried
// before the stage runs.
const lookupDepth = 8

// historyDepth is how many recent runs of the pipeline are read to
// explain why a stage runs.
const historyDepth = 20

// decide makes the decision for every stage of plan, in file order.
// It reads the cache but writes nothing.
func (e *Executor) decide(ctx context.Context, plan *Plan, opts RunOptions) ([]*Decision, error) {
	n := len(plan.Stages)
	ds := make([]*Decision, n)
	byID := make(map[string]int, n)
	for i, ps := range plan.Stages {
		byID[ps.Spec.ID] = i
		ds[i] = &Decision{Stage: ps.Spec.ID, Uses: ps.Type.Name}
	}
	for _, id := range opts.NoCacheStages {
		if _, ok := byID[id]; !ok {
			return nil, fmt.Errorf("--no-cache=%s: no stage %q in %s: %w", id, id, plan.Spec.File, ErrInvalid)
		}
	}

	// Files some stage of this run writes: a stage reading one of them
	// reads what the run makes, unknown beforehand.
	writers := map[string]string{}
	for _, ps := range plan.Stages {
		for _, abs := range writesOf(ps, plan.Spec.Dir) {
			writers[abs] = ps.Spec.ID
		}
	}

	// Fingerprints, in topological order, and what forces a stage to run
	// whatever is stored.
	forced := make([]string, n)  // reason, "" if not forced
	fresh := make([]string, n)   // why its output is new each run ("" if it is not)
	readErr := make([]string, n) // a file it reads cannot be hashed
	noCache := map[string]bool{}
	for _, id := range opts.NoCacheStages {
		noCache[id] = true
	}
	for _, k := range plan.order {
		ps, d := plan.Stages[k], ds[k]
		var upstream []string
		for _, in := range ps.Inputs {
			j := byID[in]
			upstream = append(upstream, ds[j].Fingerprint)
			if forced[j] != "" && forced[k] == "" && !opts.NoCache {
				forced[k] = forced[j]
			}
			if fresh[j] != "" && fresh[k] == "" {
				fresh[k] = "upstream changed: " + in
			}
		}
		if opts.NoCache {
			forced[k] = "--no-cache"
		} else if noCache[ps.Spec.ID] {
			forced[k] = "--no-cache=" + ps.Spec.ID
		}
		if ps.Type.Cache == CacheNever {
			fresh[k] = fmt.Sprintf("always runs: %s has effects no fingerprint covers", ps.Type.Name)
		}
		files, err := readsOf(ps, plan.Spec.Dir)
		if err != nil {
			readErr[k] = fmt.Sprintf("cannot list the files it reads: %v", err)
		}
		for name, abs := range files {
			if w, ok := writers[abs]; ok && w != ps.Spec.ID {
				d.late = true
				if fresh[k] == "" {
					fresh[k] = fmt.Sprintf("reads %s, which stage %s writes", name, w)
				}
			}
		}
		if readErr[k] == "" {
			sums, err := hashFiles(files)
			if err != nil {
				readErr[k] = fmt.Sprintf("cannot read input %v", err)
			}
			d.Reads = sums
		}
		d.Fingerprint = fingerprint(fingerprintInput{
			Version: e.Version, Uses: ps.Type.Name, Seed: ps.Seed, Params: ps.Params,
			Upstream: upstream, Reads: d.Reads,
		})
	}

	// Earlier results, for the stages that may use one.
	var want []string
	for k := range plan.Stages {
		if forced[k] == "" && fresh[k] == "" && readErr[k] == "" {
			want = append(want, ds[k].Fingerprint)
		}
	}
	entries := map[string][]CacheEntry{}
	if e.Cache != nil && len(want) > 0 {
		var err error
		if entries, err = e.Cache.Lookup(ctx, want, lookupDepth); err != nil {
			return nil, fmt.Errorf("stage cache: %w", err)
		}
	}
	// The pipeline's recent runs explain why a stage runs; they are read
	// only if some stage needs explaining (not under --no-cache, say).
	var recent []*Run
	readRecent := false
	history := func() ([]*Run, error) {
		if readRecent || e.Cache == nil {
			return recent, nil
		}
		readRecent = true
		var err error
		if recent, err = e.Cache.RecentRuns(ctx, plan.Spec.Name, historyDepth); err != nil {
			return nil, fmt.Errorf("stage cache: %w", err)
		}
		return recent, nil
	}

	resolved := plan.ResolvedParams()
	for _, k := range plan.order {
		ps, d := plan.Stages[k], ds[k]
		switch {
		case forced[k] != "":
			d.Action, d.Reason = ActionRun, forced[k]
			continue
		case fresh[k] != "":
			d.Action, d.Reason = ActionRun, fresh[k]
			continue
		case readErr[k] != "":
			d.Action, d.Reason = ActionRun, readErr[k]
			continue
		}
		var rejected string // why the newest earlier result was not taken
		for _, ent := range computedFirst(entries[d.Fingerprint]) {
			why, stored, err := e.usable(ctx, plan, ps, ent)
			if err != nil {
				return nil, err
			}
			if why != "" {
				if rejected == "" {
					rejected = why
				}
				continue
			}
			hit := ent
			d.Action, d.hit, d.stored = ActionCached, &hit, stored
			d.CachedFrom = ent.Run.ID
			d.Reason = fmt.Sprintf("cached from run %d", ent.Run.ID)
			break
		}
		if d.Action == "" {
			runs, err := history()
			if err != nil {
				return nil, err
			}
			d.Action = ActionRun
			d.Reason = explain(e.Version, plan, ps, resolved[ps.Spec.ID], ds, byID, runs, rejected)
		}
	}

	// A stage that runs needs the values of its inputs: an input taken
	// from the cache must be loadable, or it runs too. Going against the
	// topological order settles a stage's dependents before the stage.
	for i := len(plan.order) - 1; i >= 0; i-- {
		k := plan.order[i]
		d := ds[k]
		if d.Action != ActionCached || d.stored.Load != nil {
			continue
		}
		for j, ps := range plan.Stages {
			if ds[j].Action != ActionRun || !contains(ps.Inputs, d.Stage) {
				continue
			}
			d.Action, d.hit, d.stored = ActionRun, nil, nil
			d.Reason = fmt.Sprintf("%s needs its output, which run %d did not keep", ps.Spec.ID, d.CachedFrom)
			d.CachedFrom = 0
			break
		}
	}
	return ds, nil
}

// computedFirst orders earlier results so that those a stage computed
// (status succeeded) come before copies reused by later runs (status
// cached), newest first within each: "cached from" then names the run
// that did the work while it is still there.
func computedFirst(l []CacheEntry) []CacheEntry {
	out := make([]CacheEntry, 0, len(l))
	for _, pass := range []Status{StatusSucceeded, StatusCached} {
		for _, e := range l {
			if s, ok := e.Run.Stage(e.Stage); ok && s.Status == pass {
				out = append(out, e)
			}
		}
	}
	return out
}

// usable checks an earlier result of ps: it must be a success recorded
// by this sluice, its artifacts present and whole, and the files it
// wrote (for a stage that writes files) still there and unchanged. It
// returns why not ("" if usable) and what it read back.
func (e *Executor) usable(ctx context.Context, plan *Plan, ps *PlannedStage, ent CacheEntry) (string, *StoredResult, error) {
	s, ok := ent.Run.Stage(ent.Stage)
	if !ok || (s.Status != StatusSucceeded && s.Status != StatusCached) {
		return fmt.Sprintf("no usable result in run %d", ent.Run.ID), nil, nil
	}
	if ps.Type.Cache == CacheVerifyWrites {
		for _, name := range sortedKeys(s.Writes) {
			sum, err := hashFile(ResolvePath(plan.Spec.Dir, name))
			switch {
			case err != nil:
				return fmt.Sprintf("output missing: %s", name), nil, nil
			case sum != s.Writes[name]:
				return fmt.Sprintf("output changed: %s", name), nil, nil
			}
		}
		if len(s.Writes) == 0 && len(writesOf(ps, plan.Spec.Dir)) > 0 {
			return fmt.Sprintf("run %d did not record the files it wrote", ent.Run.ID), nil, nil
		}
	}
	stored, err := e.Cache.Result(ctx, ent.Run.ID, s)
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		if errors.Is(err, ErrNotFound) {
			return fmt.Sprintf("run %d's result is gone (%v)", ent.Run.ID, err), nil, nil
		}
		return fmt.Sprintf("run %d's result is unusable (%v)", ent.Run.ID, err), nil, nil
	}
	if stored.Load == nil && e.Artifacts != nil && plan.decode != nil {
		for _, a := range stored.Artifacts {
			if a.Name == OutputArtifact {
				ref := a
				stored.Load = func(ctx context.Context) (Value, error) { return e.LoadOutput(ctx, plan, ref) }
			}
		}
	}
	return "", stored, nil
}

// explain says why ps runs although nothing forced it: what differs from
// the stage's latest earlier record in the pipeline's recent runs, or
// why that record's result could not be used (rejected).
func explain(version string, plan *Plan, ps *PlannedStage, params map[string]any, ds []*Decision, byID map[string]int, recent []*Run, rejected string) string {
	var prev *Run
	var ps0 *StageRun
	for _, r := range recent {
		if r.Status == StatusRunning {
			continue // another run underway: compare with what finished
		}
		if s, ok := r.Stage(ps.Spec.ID); ok && s.Fingerprint != "" {
			prev, ps0 = r, s
			break
		}
	}
	if prev == nil {
		if rejected != "" {
			return rejected
		}
		return "new"
	}
	if ps0.Uses != ps.Type.Name {
		return fmt.Sprintf("type changed: %s → %s", ps0.Uses, ps.Type.Name)
	}
	if diff := paramDiff(ps.Spec.ID, prev.Params[ps.Spec.ID], params); diff != "" {
		return "params changed: " + diff
	}
	d := ds[ps.Index]
	var changed []string
	for _, name := range sortedKeys(d.Reads) {
		if ps0.Reads[name] != d.Reads[name] {
			changed = append(changed, name)
		}
	}
	if len(changed) > 0 {
		return "input changed: " + strings.Join(changed, ", ")
	}
	if !equalStrings(ps0.Needs, ps.Inputs) {
		return fmt.Sprintf("inputs changed: %s → %s", listOrNone(ps0.Needs), listOrNone(ps.Inputs))
	}
	var ups []string
	for _, in := range ps.Inputs {
		s, ok := prev.Stage(in)
		if !ok || s.Fingerprint != ds[byID[in]].Fingerprint {
			ups = append(ups, in)
		}
	}
	if len(ups) > 0 {
		return "upstream changed: " + strings.Join(ups, ", ")
	}
	if ps0.Seed != ps.Seed {
		return fmt.Sprintf("seed changed: pipeline seed %d → %d", prev.Seed, plan.Spec.Seed)
	}
	if prev.Version != version {
		return fmt.Sprintf("sluice version changed: %s → %s", prev.Version, version)
	}
	if ps0.Fingerprint == d.Fingerprint {
		switch ps0.Status {
		case StatusSucceeded, StatusCached:
			if rejected != "" {
				return rejected
			}
			return fmt.Sprintf("no usable result of run %d", prev.ID)
		case StatusRunning, StatusPending:
			return fmt.Sprintf("still running in run %d", prev.ID)
		case StatusFailed, StatusCancelled, StatusSkipped, StatusInterrupted:
			return fmt.Sprintf("%s in run %d", ps0.Status, prev.ID)
		}
	}
	if rejected != "" {
		return rejected
	}
	return "fingerprint changed"
}

// paramDiff renders what differs between two stages' resolved
// parameters: "model.C 1 → 0.05, model.tol 0.001 → (unset)".
func paramDiff(stage string, old, cur map[string]any) string {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var parts []string
	for _, k := range sortedKeys(keys) {
		o, oOK := old[k]
		c, cOK := cur[k]
		if oOK && cOK && sameValue(o, c) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s.%s %s → %s", stage, k, valueText(o, oOK), valueText(c, cOK)))
	}
	return strings.Join(parts, ", ")
}

// sameValue compares parameter values as JSON would carry them (a
// recorded run's numbers come back as float64).
func sameValue(a, b any) bool {
	return reflect.DeepEqual(jsonRound(a), jsonRound(b))
}

func valueText(v any, ok bool) string {
	if !ok {
		return "(unset)"
	}
	switch x := jsonRound(v).(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case float64:
		return fmt.Sprintf("%g", x)
	}
	return fmt.Sprint(jsonRound(v))
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, ", ")
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// jsonRound gives v as a JSON round trip gives it back, so that a value
// read from a recorded run compares equal to the same value resolved now.
func jsonRound(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}
