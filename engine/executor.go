package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
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
	tap       func(Event)            // RunStage: every event, synchronously, besides the broker
	results   []json.RawMessage      // RunStage of a FanOut stage: its units' results; only Reduce runs
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
	x, err := e.begin(ctx, plan, opts, nil)
	if err != nil {
		return nil, err
	}
	flushCtx, stopFlush := context.WithCancel(context.WithoutCancel(ctx))
	flushDone := make(chan struct{})
	go func() {
		x.flushLoop(flushCtx)
		close(flushDone)
	}()

	x.schedule(ctx)

	stopFlush()
	<-flushDone
	return x.end(ctx)
}

// begin decides what the run does with each stage, records its start
// (setup, if not nil, fills in the record first) and announces the
// stages an earlier result stands in for.
func (e *Executor) begin(ctx context.Context, plan *Plan, opts RunOptions, setup func(*Run)) (*execution, error) {
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
	if setup != nil {
		setup(run)
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
	return x, nil
}

// end settles the run's status, records it for the last time and
// announces it.
func (x *execution) end(ctx context.Context) (*Run, error) {
	x.mu.Lock()
	x.finishRun(ctx)
	final := x.snapshot()
	d := x.takeDelta()
	x.mu.Unlock()
	// The run is over for subscribers once it is recorded: a header that
	// says succeeded means the store says so too.
	recErr := x.rec.RecordRun(context.WithoutCancel(ctx), final, d)
	if recErr != nil {
		final, recErr = recordLean(context.WithoutCancel(ctx), x.rec, final, d, recErr)
	}
	x.publish(Event{Kind: EventRunFinished, Status: final.Status, Seconds: final.Seconds, Run: final})
	// The final record carries whatever a failed periodic write left,
	// so only its own outcome counts. A Recorder's errors name the run
	// already ("record run 2: …"): recordLean does not repeat them.
	return final, recErr
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
		case StatusSucceeded, StatusFailed, StatusCancelled, StatusSkipped, StatusInterrupted, StatusCached:
			// final already
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
			case StatusPending, StatusRunning, StatusInterrupted:
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

func (x *execution) publish(e Event) {
	if x.ex.Events == nil && x.tap == nil {
		return
	}
	e.Time = time.Now()
	e.RunID = x.run.ID
	e.Pipeline = x.run.Pipeline
	if x.tap != nil {
		x.tap(e)
	}
	x.ex.Events.Publish(e)
}

func (x *execution) log(stage, stream, text string) { x.logLine(stage, stream, text, nil) }

// logLine adds one line to a stage's log, with the fold it reports if any.
func (x *execution) logLine(stage, stream, text string, fold *CandidateFold) {
	limit := x.ex.MaxLogLines
	if limit <= 0 {
		limit = 100000
	}
	line := LogLine{Stage: stage, Time: time.Now().UTC(), Stream: stream, Text: text, Fold: fold}
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
