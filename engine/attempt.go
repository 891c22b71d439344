package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// execute runs stage i: gathers its inputs' values, runs it with its
// retries, and keeps its output.
func (x *execution) execute(ctx context.Context, i int) stageResult {
	ps := x.plan.Stages[i]
	began := time.Now()
	inputs := make([]Value, len(ps.Inputs))
	for j, id := range ps.Inputs {
		v, err := x.value(ctx, id)
		if err != nil {
			return stageResult{index: i, err: err, took: time.Since(began)}
		}
		inputs[j] = v
	}
	if x.decisions != nil && x.decisions[i].late {
		if err := x.refingerprint(ps); err != nil {
			return stageResult{index: i, err: err, took: time.Since(began)}
		}
	}
	out, err := x.attempts(ctx, ps, inputs)
	r := stageResult{index: i, out: out, err: err}
	if err == nil && ps.Type.Cache == CacheVerifyWrites {
		// What it wrote, so a later run can tell the files are
		// unchanged; a file it did not write leaves no record and
		// so no reusable result.
		r.writes, _ = hashFiles(writesOf(ps, x.plan.Spec.Dir))
	}
	if err == nil {
		r.arts, r.err = x.keep(ctx, ps, out)
		if out.Value != nil {
			r.preview = out.Value.Preview()
		}
	}
	r.took = time.Since(began)
	return r
}

// attempts runs a stage with its retries and timeout.
func (x *execution) attempts(ctx context.Context, ps *PlannedStage, inputs []Value) (*Output, error) {
	backoff := x.ex.RetryBackoff
	if backoff <= 0 {
		backoff = time.Second
	}
	var err error
	for attempt := 1; attempt <= ps.Spec.Retries+1; attempt++ {
		x.mu.Lock()
		x.run.Stages[ps.Index].Attempts = attempt
		x.mu.Unlock()
		x.publish(Event{Kind: EventStageStarted, Stage: ps.Spec.ID, Status: StatusRunning, Attempt: attempt, Reason: x.run.Stages[ps.Index].Reason})
		var out *Output
		out, err = x.attempt(ctx, ps, inputs, attempt)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if attempt <= ps.Spec.Retries {
			wait := backoff << (attempt - 1)
			if wait > time.Minute {
				wait = time.Minute
			}
			x.logf(ps.Spec.ID, "attempt %d of %d failed: %v; retrying in %s", attempt, ps.Spec.Retries+1, err, wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil, err
			}
		}
	}
	return nil, err
}

func (x *execution) attempt(ctx context.Context, ps *PlannedStage, inputs []Value, attempt int) (out *Output, err error) {
	if ps.Spec.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, ps.Spec.Timeout, fmt.Errorf("timed out after %s", ps.Spec.Timeout))
		defer cancel()
	}
	sc := &StageContext{Plan: x.plan, Stage: ps, Params: ps.Params, Inputs: inputs, Seed: ps.Seed, Attempt: attempt, RunID: x.run.ID, Version: x.ex.Version, x: x}
	type result struct {
		out *Output
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				x.logf(ps.Spec.ID, "panic: %v\n%s", p, debug.Stack())
				ch <- result{err: fmt.Errorf("panic: %v", p)}
			}
		}()
		run := ps.Type.Run
		if f := ps.Type.FanOut; f != nil {
			run = f.Run
			if x.results != nil {
				run = func(ctx context.Context, sc *StageContext) (*Output, error) { return f.Reduce(ctx, sc, x.results) }
			}
		}
		o, e := run(ctx, sc)
		ch <- result{o, e}
	}()
	select {
	case r := <-ch:
		out, err = r.out, r.err
	case <-ctx.Done():
		// Give the stage time to stop what it started (an exec stage kills
		// its process group and waits for it), then abandon it.
		select {
		case r := <-ch:
			out, err = r.out, r.err
		case <-time.After(CancelGrace):
		}
		if err == nil && out == nil {
			err = ctx.Err()
		}
	}
	if ctxErr := context.Cause(ctx); ctxErr != nil && err != nil {
		if errors.Is(ctxErr, context.Canceled) {
			return nil, fmt.Errorf("%w: %v", ErrCancelled, err)
		}
		if !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%v (%w)", ctxErr, err)
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = &Output{}
	}
	switch {
	case out.Value == nil && ps.Type.Out != KindNone:
		return nil, fmt.Errorf("stage type %s gave nothing, declared %s", ps.Type.Name, ps.Type.Out)
	case out.Value != nil && out.Value.Kind() != ps.Type.Out:
		return nil, fmt.Errorf("stage type %s gave %s, declared %s", ps.Type.Name, out.Value.Kind(), ps.Type.Out)
	}
	return out, nil
}

// finish records a stage's result and returns its status.
func (x *execution) finish(r stageResult) Status {
	ps := x.plan.Stages[r.index]
	x.mu.Lock()
	s := &x.run.Stages[r.index]
	s.Finished = time.Now().UTC()
	s.Seconds = s.Finished.Sub(s.Started).Seconds()
	if r.err != nil {
		s.Status = StatusFailed
		if errors.Is(r.err, ErrCancelled) {
			s.Status = StatusCancelled
		}
		s.Error = r.err.Error()
		x.mu.Unlock()
		x.logf(ps.Spec.ID, "%s: %v", s.Status, r.err)
		x.publish(Event{Kind: EventStageFinished, Stage: ps.Spec.ID, Status: s.Status, Seconds: s.Seconds, Err: s.Error, Attempt: s.Attempts})
		return s.Status
	}
	x.vals[ps.Spec.ID] = r.out.Value
	var kind Kind
	if r.out.Value != nil {
		kind = r.out.Value.Kind()
	}
	ev := x.succeeded(s, kind, r.out.Metrics, r.writes, r.preview, r.arts)
	x.mu.Unlock()
	x.publish(ev)
	return StatusSucceeded
}

// succeeded records a stage's successful result in its record s and
// returns the event announcing it. Call with x.mu held.
func (x *execution) succeeded(s *StageRun, kind Kind, metrics map[string]float64, writes map[string]string, preview *Preview, arts []ArtifactInfo) Event {
	s.Status = StatusSucceeded
	s.Metrics = metrics
	s.Writes = writes
	if p := preview; p != nil {
		p.Stage = s.ID
		if kind == KindTable {
			s.Rows, s.Cols = p.Rows, p.Cols
		}
		x.delta.Previews = append(x.delta.Previews, p)
	}
	s.Artifacts = append(s.Artifacts, arts...)
	x.delta.Artifacts = append(x.delta.Artifacts, arts...)
	// The work is done: a count that stopped short (a solver converged
	// before max_iter) is the whole of it; a total with no count reported
	// is complete. The phase is over.
	switch {
	case s.Progress.Done > 0 && s.Progress.Done < s.Progress.Total:
		s.Progress.Total = s.Progress.Done
	case s.Progress.Total > 0:
		s.Progress.Done = s.Progress.Total
	}
	s.Progress.Phase = ""
	return Event{Kind: EventStageFinished, Stage: s.ID, Status: s.Status, Seconds: s.Seconds, Metrics: s.Metrics, Attempt: s.Attempts, Progress: s.Progress}
}

func (x *execution) skip(i int) {
	x.mu.Lock()
	s := &x.run.Stages[i]
	s.Status = StatusSkipped
	s.Error = "skipped: an input failed"
	x.mu.Unlock()
	x.publish(Event{Kind: EventStageFinished, Stage: s.ID, Status: StatusSkipped, Err: s.Error})
}

func (x *execution) cancelled(i int, took time.Duration) {
	x.mu.Lock()
	s := &x.run.Stages[i]
	s.Status = StatusCancelled
	s.Finished = time.Now().UTC()
	s.Seconds = took.Seconds()
	s.Error = "cancelled while running"
	x.mu.Unlock()
	x.publish(Event{Kind: EventStageFinished, Stage: s.ID, Status: StatusCancelled, Err: s.Error})
}

func (x *execution) relPath(abs string) string {
	if rel, ok := strings.CutPrefix(abs, x.plan.Spec.Dir+string(os.PathSeparator)); ok {
		return rel
	}
	return abs
}
