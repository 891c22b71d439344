package engine

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"
)

// cachedRecord fills a stage's record from the earlier result its
// decision found, which stands in for running it.
func cachedRecord(s *StageRun, d *Decision, now time.Time) {
	src, _ := d.hit.Run.Stage(d.hit.Stage)
	s.Status = StatusCached
	s.Started, s.Finished = now, now
	s.CachedFrom = d.hit.Run.ID
	s.Metrics = maps.Clone(src.Metrics)
	s.Rows, s.Cols = src.Rows, src.Cols
	s.Writes = maps.Clone(src.Writes)
	s.Progress = src.Progress
	if s.Progress.Total > 0 {
		s.Progress.Done = s.Progress.Total
	}
	s.Artifacts = nil
	for _, a := range d.stored.Artifacts {
		a.Stage = s.ID
		s.Artifacts = append(s.Artifacts, a)
	}
}

// reuse records with the run what cached stage i kept (its artifacts'
// references and its preview), logs where it came from and announces
// it. Its record was filled before the run began (cachedRecord); its
// output value is loaded only if a stage that runs needs it (see value).
func (x *execution) reuse(i int) {
	d := x.decisions[i]
	x.mu.Lock()
	s := &x.run.Stages[i]
	x.delta.Artifacts = append(x.delta.Artifacts, s.Artifacts...)
	if p := d.stored.Preview; p != nil {
		c := *p
		c.Stage = s.ID
		x.delta.Previews = append(x.delta.Previews, &c)
	}
	ev := Event{Kind: EventStageFinished, Stage: s.ID, Status: StatusCached, Metrics: s.Metrics, Progress: s.Progress, Reason: s.Reason}
	x.mu.Unlock()
	if d.hit.Stage == s.ID {
		x.logf(s.ID, "cached: the result of run %d stands in (fingerprint %.12s)", d.hit.Run.ID, d.Fingerprint)
	} else {
		x.logf(s.ID, "cached: the result of run %d stage %s stands in (fingerprint %.12s)", d.hit.Run.ID, d.hit.Stage, d.Fingerprint)
	}
	x.publish(ev)
}

// value returns the output of stage id for a stage about to run: the
// value it gave in this run, or, for a cached stage, its stored output
// loaded (once) and checked on the way. A stored output that cannot be
// loaded (gone, or failing its hash check since the run decided) is
// never used: the stage runs instead, here, and its record says why.
func (x *execution) value(ctx context.Context, id string) (Value, error) {
	x.mu.Lock()
	v := x.vals[id]
	x.mu.Unlock()
	if v != nil {
		return v, nil
	}
	ps, ok := x.plan.Stage(id)
	if !ok || x.decisions == nil || x.decisions[ps.Index].Action != ActionCached {
		return nil, fmt.Errorf("input %s has no value", id)
	}
	// One lock per stage: recomputing a stage loads its own inputs,
	// which are upstream, so locks are taken downstream to upstream and
	// never in a cycle.
	x.mu.Lock()
	if x.loading == nil {
		x.loading = map[string]*sync.Mutex{}
	}
	mu := x.loading[id]
	if mu == nil {
		mu = &sync.Mutex{}
		x.loading[id] = mu
	}
	x.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	x.mu.Lock()
	v = x.vals[id]
	x.mu.Unlock()
	if v != nil {
		return v, nil
	}
	d := x.decisions[ps.Index]
	var err error
	switch {
	case d.stored.Load == nil:
		err = fmt.Errorf("run %d did not keep its output", d.CachedFrom)
	default:
		if v, err = d.stored.Load(ctx); err == nil && v.Kind() != ps.Type.Out {
			err = fmt.Errorf("run %d kept %s, the stage gives %s", d.CachedFrom, v.Kind(), ps.Type.Out)
		}
	}
	if err == nil {
		x.mu.Lock()
		x.vals[id] = v
		x.mu.Unlock()
		return v, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("input %s: %w", id, ctx.Err())
	}
	return x.recompute(ctx, ps, fmt.Sprintf("the output kept by run %d is unusable (%v)", d.CachedFrom, err))
}

// recompute runs a stage recorded as cached whose stored output turned
// out unusable, and gives its value.
func (x *execution) recompute(ctx context.Context, ps *PlannedStage, why string) (Value, error) {
	x.mu.Lock()
	s := &x.run.Stages[ps.Index]
	s.Status, s.Reason, s.CachedFrom = StatusRunning, why, 0
	s.Started, s.Finished = time.Now().UTC(), time.Time{}
	s.Metrics, s.Artifacts, s.Writes, s.Rows, s.Cols = nil, nil, nil, 0, 0
	s.Progress = Progress{}
	x.mu.Unlock()
	x.logf(ps.Spec.ID, "%s: running the stage", why)
	if st := x.finish(x.execute(ctx, ps.Index)); st != StatusSucceeded {
		return nil, fmt.Errorf("input %s %s", ps.Spec.ID, st)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.vals[ps.Spec.ID], nil
}

// refingerprint hashes, as the stage starts, the files a stage reads that
// another stage of this run writes, and records its fingerprint anew.
func (x *execution) refingerprint(ps *PlannedStage) error {
	files, err := readsOf(ps, x.plan.Spec.Dir)
	if err != nil {
		return err
	}
	sums, err := hashFiles(files)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	var upstream []string
	for _, in := range ps.Inputs {
		s, _ := x.run.Stage(in)
		upstream = append(upstream, s.Fingerprint)
	}
	s := &x.run.Stages[ps.Index]
	s.Reads = sums
	s.Fingerprint = fingerprint(fingerprintInput{
		Version: x.ex.Version, Uses: ps.Type.Name, Seed: ps.Seed, Params: ps.Params,
		Upstream: upstream, Reads: sums,
	})
	for name, sum := range sums {
		x.run.Inputs[name] = sum
	}
	return nil
}
