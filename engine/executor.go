package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Output is what a stage's RunFunc returns.
type Output struct {
	Value     Value // nil: the stage gives nothing downstream
	Metrics   map[string]float64
	Artifacts []Artifact // files kept beside the value (the exported model file)
}

// Recorder persists runs as they go. The executor calls BeginRun once,
// before any stage starts, and RecordRun a few times a second with the
// latest snapshot and what was added since the last call, and once at the
// end; the last call must be durable when it returns. Errors say what
// failed ("begin run: …", "record run N: …"); the executor returns them
// unwrapped.
type Recorder interface {
	BeginRun(ctx context.Context, r *Run) (int64, error)
	RecordRun(ctx context.Context, r *Run, d *RunDelta) error
}

// RunDelta is what a run added since the previous RecordRun call.
type RunDelta struct {
	Logs      []LogLine
	Previews  []*Preview
	Artifacts []ArtifactInfo // references: the bytes are in the artifact store
}

// Empty reports whether the delta holds nothing.
func (d *RunDelta) Empty() bool {
	return len(d.Logs) == 0 && len(d.Previews) == 0 && len(d.Artifacts) == 0
}

// NopRecorder keeps nothing; it numbers runs from 1 in memory.
type NopRecorder struct {
	mu   sync.Mutex
	next int64
}

// BeginRun numbers the run.
func (n *NopRecorder) BeginRun(context.Context, *Run) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.next++
	return n.next, nil
}

// RecordRun does nothing.
func (n *NopRecorder) RecordRun(context.Context, *Run, *RunDelta) error { return nil }

// CancelGrace is how long a cancelled stage attempt has to return before
// the executor abandons it. A stage that starts processes must have them
// gone within it: exec sends SIGTERM to its process group, SIGKILL 300 ms
// later, and returns once the command is reaped.
const CancelGrace = 900 * time.Millisecond

// Executor runs plans. Its fields are read-only once a run starts; one
// Executor may run several plans at once.
type Executor struct {
	Recorder      Recorder      // nil: NopRecorder
	Cache         Cache         // earlier results; nil: every stage runs
	Events        *Broker       // nil: no events
	MaxParallel   int           // ready stages run at once; 0: number of CPUs
	Version       string        // sluice version, part of every stage fingerprint
	RetryBackoff  time.Duration // delay before the first retry, doubling after; 0: 1s
	FlushInterval time.Duration // how often the recorder is called; 0: 250ms
	Grace         time.Duration // how long a cancelled run waits for its stages to return; 0 (or less than CancelGrace): 1s
	MaxLogLines   int           // lines kept per stage; 0: 100,000
	// Artifacts is where every successful stage's output value (and the
	// files it keeps beside it) is written; run records keep references
	// only. nil: outputs live in memory for the run and are not kept.
	Artifacts ArtifactStore
}

// execution is one run in progress.
type execution struct {
	ex    *Executor
	plan  *Plan
	rec   Recorder
	mu    sync.Mutex
	run   *Run
	delta RunDelta
	lines map[string]int
	vals  map[string]Value
	refs  map[any]ArtifactInfo // values written this run, by identity

	decisions []*Decision            // per stage, in file order (nil outside RunWith)
	loading   map[string]*sync.Mutex // per cached stage: one load (or recomputation) at a time
}

// Run executes the plan and returns the finished record. Ready stages run
// concurrently up to MaxParallel. A failed stage is retried as its spec
// says, then fails the run and skips its dependents while independent
// branches finish. Cancelling ctx stops the run within Grace and marks
// unfinished stages cancelled. The error is non-nil only when the
// recorder or the cache fails; the run's own outcome is in Run.Status.
func (e *Executor) Run(ctx context.Context, plan *Plan) (*Run, error) {
	return e.RunWith(ctx, plan, RunOptions{})
}

// RunWith is Run with per-run options. Before anything runs it decides,
// with the code Forecast uses, which stages an earlier result stands in
// for (status cached); the others run, each with the reason recorded.
// It also returns an error when the cache cannot be read, before
// anything is recorded, and one wrapping ErrInvalid when opts name a
// stage the plan does not have.
func (e *Executor) RunWith(ctx context.Context, plan *Plan, opts RunOptions) (*Run, error) {
	// What killed runs left behind in the folders this one writes to goes
	// first (only sluice's own temporary names, of processes now gone).
	CleanStaleTemps(plan.outputDirs())
	decisions, err := e.decide(ctx, plan, opts)
	if err != nil {
		return nil, err
	}
	rec := e.Recorder
	if rec == nil {
		rec = &NopRecorder{}
	}
	host, _ := os.Hostname()
	now := time.Now().UTC()
	run := &Run{
		Pipeline:  plan.Spec.Name,
		File:      plan.Spec.File,
		Dir:       plan.Spec.Dir,
		Spec:      string(plan.Spec.Source),
		SpecHash:  plan.Spec.Hash(),
		Seed:      plan.Spec.Seed,
		Overrides: plan.Spec.Overrides,
		Params:    plan.ResolvedParams(),
		Inputs:    map[string]string{},
		Status:    StatusRunning,
		Started:   now,
		Version:   e.Version,
		Host:      host,
		PID:       os.Getpid(),
		Heartbeat: now,
		Sweep:     opts.Sweep,
	}
	run.setContext(plan.Spec.Context)
	for i, ps := range plan.Stages {
		d := decisions[i]
		st := StageRun{ID: ps.Spec.ID, Uses: ps.Type.Name, Needs: ps.Inputs, Kind: ps.Type.Out, Seed: ps.Seed,
			Fingerprint: d.Fingerprint, Reason: d.Reason, Reads: d.Reads}
		if d.Action == ActionCached {
			// In the first record already, so the artifacts it refers
			// to count as referenced (by a collector) from the start.
			cachedRecord(&st, d, now)
		}
		run.Stages = append(run.Stages, st)
		for name, sum := range d.Reads {
			run.Inputs[name] = sum
		}
	}
	id, err := rec.BeginRun(context.WithoutCancel(ctx), run)
	if err != nil {
		return nil, err // the Recorder's error says "begin run: …" itself
	}
	run.ID = id
	x := &execution{ex: e, plan: plan, rec: rec, run: run, lines: map[string]int{}, vals: map[string]Value{}, refs: map[any]ArtifactInfo{}, decisions: decisions}
	x.publish(Event{Kind: EventRunStarted, Run: x.snapshot()})
	for _, k := range plan.order {
		if decisions[k].Action == ActionCached {
			x.reuse(k)
		}
	}

	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	flushDone := make(chan error, 1)
	go func() { flushDone <- x.flushLoop(flushCtx) }()

	x.schedule(ctx)

	stopFlush()
	flushErr := <-flushDone
	x.mu.Lock()
	x.finishRun(ctx)
	final := x.snapshot()
	d := x.takeDelta()
	x.mu.Unlock()
	// The run is over for subscribers once it is recorded: a header that
	// says succeeded means the store says so too.
	recErr := rec.RecordRun(context.WithoutCancel(ctx), final, d)
	x.publish(Event{Kind: EventRunFinished, Status: final.Status, Seconds: final.Seconds, Run: final})
	// A Recorder's errors name the run already ("record run 2: …"): they
	// are returned as they are, not wrapped in the same words again.
	if recErr != nil {
		return final, recErr
	}
	if flushErr != nil {
		return final, flushErr
	}
	return final, nil
}

// finishRun sets the run's final status from its stages. Call with x.mu held.
func (x *execution) finishRun(ctx context.Context) {
	r := x.run
	r.Finished = time.Now().UTC()
	r.Seconds = r.Finished.Sub(r.Started).Seconds()
	r.Status = StatusSucceeded
	for i := range r.Stages {
		s := &r.Stages[i]
		switch s.Status {
		case StatusPending, StatusRunning:
			s.Status = StatusCancelled
			if s.Started.IsZero() {
				s.Error = "not started: the run was cancelled"
			} else {
				s.Finished = r.Finished
				s.Seconds = s.Finished.Sub(s.Started).Seconds()
				s.Error = "cancelled while running"
			}
		}
	}
	for _, s := range r.Stages {
		if s.Status == StatusFailed {
			r.Status = StatusFailed
			if r.Error == "" {
				r.Error = fmt.Sprintf("stage %s failed: %s", s.ID, s.Error)
			}
		}
	}
	if ctx.Err() != nil && r.Status == StatusSucceeded {
		for _, s := range r.Stages {
			if s.Status == StatusCancelled {
				r.Status = StatusCancelled
				r.Error = "cancelled"
				break
			}
		}
	}
}

type stageResult struct {
	index   int
	out     *Output
	arts    []ArtifactInfo // where out was written
	preview *Preview
	err     error
	took    time.Duration
	writes  map[string]string // CacheVerifyWrites: the files it wrote → SHA-256
}

// schedule is the run loop: start ready stages up to the limit, collect
// results, skip dependents of failures, and stop on cancellation.
func (x *execution) schedule(ctx context.Context) {
	plan := x.plan
	n := len(plan.Stages)
	limit := x.ex.MaxParallel
	if limit <= 0 {
		limit = runtime.NumCPU()
	}
	byID := make(map[string]int, n)
	for i, ps := range plan.Stages {
		byID[ps.Spec.ID] = i
	}
	state := make([]Status, n)
	for i := range state {
		state[i] = x.run.Stages[i].Status // pending, or cached
	}
	done := make(chan stageResult, n)
	running := 0
	stageCtx, cancelStages := context.WithCancel(ctx)
	defer cancelStages()

	ready := func(i int) (bool, bool) { // ready, blocked-by-failure
		for _, in := range plan.Stages[i].Inputs {
			switch state[byID[in]] {
			case StatusSucceeded, StatusCached:
			case StatusFailed, StatusSkipped, StatusCancelled:
				return false, true
			default:
				return false, false
			}
		}
		return true, false
	}
	for {
		// Skip what can no longer run; start what is ready, in topological order.
		if ctx.Err() == nil {
			for _, k := range plan.order {
				if state[k] != StatusPending {
					continue
				}
				ok, blocked := ready(k)
				if blocked {
					state[k] = StatusSkipped
					x.skip(k)
					continue
				}
				if ok && running < limit {
					state[k] = StatusRunning
					running++
					x.start(stageCtx, k, done)
				}
			}
		}
		if running == 0 {
			return
		}
		select {
		case r := <-done:
			running--
			state[r.index] = x.finish(r)
		case <-ctx.Done():
			cancelStages()
			grace := x.ex.Grace
			if grace < CancelGrace {
				grace = time.Second
			}
			timer := time.NewTimer(grace)
			for running > 0 {
				select {
				case r := <-done:
					running--
					if r.err == nil {
						state[r.index] = x.finish(r)
					} else {
						x.cancelled(r.index, r.took)
					}
				case <-timer.C:
					running = 0 // stages that ignore cancellation are abandoned
				}
			}
			timer.Stop()
			return
		}
	}
}

func (x *execution) start(ctx context.Context, i int, done chan<- stageResult) {
	x.mu.Lock()
	s := &x.run.Stages[i]
	s.Status = StatusRunning
	s.Started = time.Now().UTC()
	x.mu.Unlock()
	go func() { done <- x.execute(ctx, i) }()
}

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
	sc := &StageContext{Plan: x.plan, Stage: ps, Params: ps.Params, Inputs: inputs, Seed: ps.Seed, Attempt: attempt, RunID: x.run.ID, x: x}
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
		o, e := ps.Type.Run(ctx, sc)
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
	s.Status = StatusSucceeded
	s.Metrics = r.out.Metrics
	s.Writes = r.writes
	x.vals[ps.Spec.ID] = r.out.Value
	if p := r.preview; p != nil {
		p.Stage = ps.Spec.ID
		if r.out.Value.Kind() == KindTable {
			s.Rows, s.Cols = p.Rows, p.Cols
		}
		x.delta.Previews = append(x.delta.Previews, p)
	}
	s.Artifacts = append(s.Artifacts, r.arts...)
	x.delta.Artifacts = append(x.delta.Artifacts, r.arts...)
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
	ev := Event{Kind: EventStageFinished, Stage: ps.Spec.ID, Status: s.Status, Seconds: s.Seconds, Metrics: s.Metrics, Attempt: s.Attempts, Progress: s.Progress}
	x.mu.Unlock()
	x.publish(ev)
	return StatusSucceeded
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

func (x *execution) flushLoop(ctx context.Context) error {
	every := x.ex.FlushInterval
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var firstErr error
	for {
		select {
		case <-ctx.Done():
			return firstErr
		case <-t.C:
			if ctx.Err() != nil {
				return firstErr // the final write takes what is left
			}
			x.mu.Lock()
			x.run.Heartbeat = time.Now().UTC()
			snap := x.snapshot()
			d := x.takeDelta()
			x.mu.Unlock()
			if err := x.rec.RecordRun(ctx, snap, d); err != nil {
				// Keep the delta for the next write, in order.
				x.mu.Lock()
				x.delta = RunDelta{
					Logs:      append(d.Logs, x.delta.Logs...),
					Previews:  append(d.Previews, x.delta.Previews...),
					Artifacts: append(d.Artifacts, x.delta.Artifacts...),
				}
				x.mu.Unlock()
				if firstErr == nil && ctx.Err() == nil {
					firstErr = err
				}
			} else {
				firstErr = nil
			}
		}
	}
}

// snapshot deep-copies the run record. Call with x.mu held, or before
// any stage starts.
func (x *execution) snapshot() *Run {
	b, err := json.Marshal(x.run)
	if err != nil {
		panic("engine: run record does not marshal: " + err.Error())
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		panic("engine: run record does not unmarshal: " + err.Error())
	}
	return &r
}

// takeDelta hands over what accumulated since the last flush. Call with x.mu held.
func (x *execution) takeDelta() *RunDelta {
	d := x.delta
	x.delta = RunDelta{}
	return &d
}

func (x *execution) publish(e Event) {
	if x.ex.Events == nil {
		return
	}
	e.Time = time.Now()
	e.RunID = x.run.ID
	e.Pipeline = x.run.Pipeline
	x.ex.Events.Publish(e)
}

func (x *execution) log(stage, stream, text string) {
	limit := x.ex.MaxLogLines
	if limit <= 0 {
		limit = 100000
	}
	line := LogLine{Stage: stage, Time: time.Now().UTC(), Stream: stream, Text: text}
	x.mu.Lock()
	x.lines[stage]++
	n := x.lines[stage]
	if n <= limit {
		x.delta.Logs = append(x.delta.Logs, line)
	} else if n == limit+1 {
		x.delta.Logs = append(x.delta.Logs, LogLine{Stage: stage, Time: line.Time, Text: fmt.Sprintf("(log truncated after %d lines)", limit)})
	}
	x.mu.Unlock()
	x.publish(Event{Kind: EventLog, Stage: stage, Line: line})
}

func (x *execution) logf(stage, format string, args ...any) {
	for _, l := range strings.Split(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n") {
		x.log(stage, "", l)
	}
}

// StageContext is what a running stage gets: its parameters, inputs and
// seed, and ways to log and report progress. Its methods are safe for
// concurrent use.
type StageContext struct {
	Plan    *Plan
	Stage   *PlannedStage
	Params  Params
	Inputs  []Value
	Seed    uint64
	Attempt int
	RunID   int64
	x       *execution
}

// NewStageContext makes a context for running a stage outside an executor
// (tests, and running one stage alone). Logs go to logf if not nil.
func NewStageContext(plan *Plan, stage *PlannedStage, inputs []Value, logf func(LogLine)) *StageContext {
	x := &execution{ex: &Executor{}, plan: plan, rec: &NopRecorder{}, run: &Run{Inputs: map[string]string{}}, lines: map[string]int{}, vals: map[string]Value{}, refs: map[any]ArtifactInfo{}}
	for _, ps := range plan.Stages {
		x.run.Stages = append(x.run.Stages, StageRun{ID: ps.Spec.ID})
	}
	if logf != nil {
		b := &Broker{}
		ctx, cancel := context.WithCancel(context.Background())
		ch := b.Subscribe(ctx)
		x.ex.Events = b
		go func() {
			for e := range ch {
				if e.Kind == EventLog {
					logf(e.Line)
				}
			}
		}()
		runtime.AddCleanup(x, func(c context.CancelFunc) { c() }, cancel)
	}
	return &StageContext{Plan: plan, Stage: stage, Params: stage.Params, Inputs: inputs, Seed: stage.Seed, Attempt: 1, x: x}
}

// ID returns the stage's id.
func (sc *StageContext) ID() string { return sc.Stage.Spec.ID }

// Logf adds a line (or several, split at newlines) to the stage's log.
func (sc *StageContext) Logf(format string, args ...any) { sc.x.logf(sc.ID(), format, args...) }

// LogWriter returns a writer whose output becomes log lines of the given
// stream ("stdout", "stderr"), one per line written. Close flushes a last
// partial line.
func (sc *StageContext) LogWriter(stream string) io.WriteCloser {
	return &lineWriter{emit: func(s string) { sc.x.log(sc.ID(), stream, s) }}
}

// Progress reports that done of total units are complete (total 0 when
// unknown).
func (sc *StageContext) Progress(done, total int64, unit string) {
	x := sc.x
	x.mu.Lock()
	s := &x.run.Stages[sc.Stage.Index]
	s.Progress = Progress{Done: done, Total: total, Unit: unit, Phase: s.Progress.Phase}
	p := s.Progress
	x.mu.Unlock()
	x.publish(Event{Kind: EventProgress, Stage: sc.ID(), Status: StatusRunning, Progress: p})
}

// Phase reports that the stage moved on to work its counted progress does
// not cover, named by label ("encoding model", "refitting best"), so a
// bar at its end does not look finished while the stage still works. The
// count stays as it was; later Progress calls keep the label. An empty
// label ends the phase.
func (sc *StageContext) Phase(label string) { sc.x.phase(sc.Stage.Index, label) }

// phase sets stage i's phase label and publishes it: StageContext.Phase,
// and the executor's own work for a stage (writing its artifacts).
func (x *execution) phase(i int, label string) {
	x.mu.Lock()
	s := &x.run.Stages[i]
	s.Progress.Phase = label
	p := s.Progress
	x.mu.Unlock()
	x.publish(Event{Kind: EventProgress, Stage: s.ID, Status: StatusRunning, Progress: p})
}

// Path resolves a path parameter's value against the pipeline's directory.
func (sc *StageContext) Path(p string) string { return ResolvePath(sc.Plan.Spec.Dir, p) }

// OutputPath resolves the value of a path parameter the stage writes,
// under the write policy (see OutputPath): the stage's allow_outside
// parameter lets it leave the pipeline's folder.
func (sc *StageContext) OutputPath(p string) (string, error) {
	return OutputPath(sc.Plan.Spec.Dir, p, sc.Params.Bool(AllowOutsideParam))
}

// RecordInput hashes a file the stage read that no path parameter names
// (an exec stage's output, say) into the run's data fingerprints.
func (sc *StageContext) RecordInput(path string) error {
	sum, err := hashFile(path)
	if err != nil {
		return err
	}
	sc.x.mu.Lock()
	sc.x.run.Inputs[sc.x.relPath(path)] = sum
	sc.x.mu.Unlock()
	return nil
}

// lineWriter splits written bytes into lines.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	emit func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.buf.Next(i+1)), "\r\n")
		w.emit(line)
	}
	if w.buf.Len() > 64<<10 { // a very long line without newline: emit it
		w.emit(w.buf.String())
		w.buf.Reset()
	}
	return len(p), nil
}

func (w *lineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.emit(w.buf.String())
		w.buf.Reset()
	}
	return nil
}
