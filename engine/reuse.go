package engine

import (
	"context"
	"fmt"
	"maps"
	"time"
)

// reuse records stage i as cached: the earlier result its decision
// found stands in for running it. Its artifacts and preview are
// recorded again with this run; its output value is loaded only if a
// stage that runs needs it (see value).
func (x *execution) reuse(i int) {
	d := x.decisions[i]
	src, _ := d.hit.Run.Stage(d.hit.Stage)
	now := time.Now().UTC()
	x.mu.Lock()
	s := &x.run.Stages[i]
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
		x.delta.Artifacts = append(x.delta.Artifacts, a)
	}
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
// loaded (once) and checked on the way.
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
	x.loadMu.Lock()
	defer x.loadMu.Unlock()
	x.mu.Lock()
	v = x.vals[id]
	x.mu.Unlock()
	if v != nil {
		return v, nil
	}
	d := x.decisions[ps.Index]
	if d.stored.Load == nil {
		return nil, fmt.Errorf("input %s: run %d did not keep its output", id, d.CachedFrom)
	}
	v, err := d.stored.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("input %s: the output kept by run %d is unusable: %w", id, d.CachedFrom, err)
	}
	if v.Kind() != ps.Type.Out {
		return nil, fmt.Errorf("input %s: run %d kept %s, the stage gives %s", id, d.CachedFrom, v.Kind(), ps.Type.Out)
	}
	x.mu.Lock()
	x.vals[id] = v
	x.mu.Unlock()
	return v, nil
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
