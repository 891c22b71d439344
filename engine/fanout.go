package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
)

// FanOut splits a stage's work into independent units (a search's candidate × fold fits) that may
// run anywhere, then combines their results. Unit descriptors and results are small JSON (< 4 KB).
//
// Units lists the work; it may announce how progress is counted with
// sc.Progress(0, total, unit) before it returns (a search counts "fits",
// one more than its units for the refit Reduce does); otherwise progress
// counts "units", one per unit. RunUnit does one unit: it sees the same
// StageContext (parameters, inputs, seed) wherever it runs, must derive
// everything else from its descriptor, and must not report progress of
// its own (the runner counts finished units). Reduce receives every
// result in unit order. The three must together be a function of the
// stage's parameters, inputs and seed, so that the same stage gives the
// same bytes however its units are spread.
type FanOut struct {
	Units   func(ctx context.Context, sc *StageContext) ([]json.RawMessage, error)
	RunUnit func(ctx context.Context, sc *StageContext, unit json.RawMessage) (json.RawMessage, error)
	Reduce  func(ctx context.Context, sc *StageContext, results []json.RawMessage) (*Output, error)
}

// MaxUnitBytes bounds a unit's descriptor and its result: they travel in
// the payloads of a distributed engine, which carry small records only.
const MaxUnitBytes = 4 << 10

// Run runs the stage in this process: Units, then every RunUnit on a pool
// of GOMAXPROCS goroutines, then Reduce with the results in unit order.
// Progress counts finished units (see FanOut). The first unit to fail
// stops the units not yet started and cancels those under way;
// cancelling ctx does the same, and Run returns ctx's error.
func (f *FanOut) Run(ctx context.Context, sc *StageContext) (*Output, error) {
	units, err := f.Units(ctx, sc)
	if err != nil {
		return nil, err
	}
	for i, u := range units {
		if len(u) > MaxUnitBytes {
			return nil, fmt.Errorf("unit %d: descriptor of %d bytes (at most %d)", i+1, len(u), MaxUnitBytes)
		}
	}
	results, err := f.RunUnits(ctx, sc, units, RunningProgress(sc, len(units)))
	if err != nil {
		return nil, err
	}
	return f.Reduce(ctx, sc, results)
}

// UnitProgress is told of each finished unit.
type UnitProgress func()

// RunningProgress returns the count of finished units Run reports for sc:
// in the unit and total the stage announced in Units, else in "units" of
// n. It reports the start (nothing done) at once.
func RunningProgress(sc *StageContext, n int) UnitProgress {
	p := sc.progress()
	if p.Unit == "" {
		p = Progress{Total: int64(n), Unit: "units"}
	}
	var mu sync.Mutex
	done := p.Done
	sc.Progress(done, p.Total, p.Unit)
	return func() {
		// Reported under the lock: two units finishing at once must not
		// publish their counts out of order (progress never goes back).
		mu.Lock()
		defer mu.Unlock()
		done++
		sc.Progress(done, p.Total, p.Unit)
	}
}

// RunUnits runs units with f.RunUnit on up to GOMAXPROCS goroutines and
// returns their results in unit order, calling done (when not nil) after
// each. A panic in RunUnit is an error of that unit. The first unit to
// fail stops the others, and its error is returned as RunUnit gave it
// (RunUnit's errors say which unit failed); when ctx is cancelled, its
// cause is returned.
func (f *FanOut) RunUnits(ctx context.Context, sc *StageContext, units []json.RawMessage, done UnitProgress) ([]json.RawMessage, error) {
	results := make([]json.RawMessage, len(units))
	if len(units) == 0 {
		return results, nil
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		first   error
		stopped bool
	)
	// fail keeps the first error and stops the other units; what they
	// return once stopped is the stop, not an error of their own.
	fail := func(err error) {
		mu.Lock()
		if !stopped {
			first, stopped = err, true
		}
		mu.Unlock()
		cancel()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(units)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := f.runUnit(ctx, sc, i, units[i])
				if err != nil {
					fail(err)
					continue
				}
				results[i] = r
				if done != nil {
					done()
				}
			}
		}()
	}
feed:
	for i := range units {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(parent); err != nil {
		return nil, err
	}
	if first != nil {
		return nil, first
	}
	return results, nil
}

// runUnit runs one unit, turning a panic into an error and checking the
// size of the result.
func (f *FanOut) runUnit(ctx context.Context, sc *StageContext, i int, unit json.RawMessage) (r json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("unit %d: panic: %v", i+1, p)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err = f.RunUnit(ctx, sc, unit)
	if err == nil && len(r) > MaxUnitBytes {
		err = fmt.Errorf("unit %d: result of %d bytes (at most %d)", i+1, len(r), MaxUnitBytes)
	}
	return r, err
}

// progress returns the stage's progress as last reported.
func (sc *StageContext) progress() Progress {
	sc.x.mu.Lock()
	defer sc.x.mu.Unlock()
	return sc.x.run.Stages[sc.Stage.Index].Progress
}

// NewUnitContext makes the context a FanOut stage's Units or RunUnit runs
// with outside an executor (on a worker of a distributed engine): stage ps
// of plan with its inputs, at attempt, for sluice version. tap receives
// every event the stage publishes (its log lines, its progress) at once
// and in order, on the stage's goroutines; it must not block for long.
func NewUnitContext(plan *Plan, ps *PlannedStage, inputs []Value, attempt int, version string, tap func(Event)) *StageContext {
	x := &execution{ex: &Executor{Version: version}, plan: plan, rec: &NopRecorder{}, run: &Run{Inputs: map[string]string{}},
		lines: map[string]int{}, vals: map[string]Value{}, refs: map[any]ArtifactInfo{}, tap: tap}
	for _, s := range plan.Stages {
		x.run.Stages = append(x.run.Stages, StageRun{ID: s.Spec.ID})
	}
	return &StageContext{Plan: plan, Stage: ps, Params: ps.Params, Inputs: inputs, Seed: ps.Seed, Attempt: max(attempt, 1), Version: version, x: x}
}
