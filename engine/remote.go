package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"
)

// This file is the seam for running a plan's stages elsewhere (on the
// workers of a distributed engine) with the executor's own code: the
// machine that starts the run keeps its record with a Tracker, which
// decides, records and reports exactly as RunWith does, and each stage
// runs on a worker through RunStage, which gathers inputs from the
// artifact store, runs the stage's attempt and keeps its output as the
// executor does. Only references, metrics and small records travel
// between the two.

// RemoteStage is what a run started with Track does with one stage, for
// the orchestrator that runs it elsewhere.
type RemoteStage struct {
	ID      string
	Uses    string
	Index   int
	Inputs  []string      // ids of the stages it reads, in order
	Retries int           // the spec's retries
	Timeout time.Duration // the spec's timeout (0: none)
	// Fingerprint is the stage-cache key the run decided with; for a
	// Late stage it is recomputed when the stage starts.
	Fingerprint string
	// Cached: an earlier result stands in; the stage does not run.
	// Output is that result's output reference (nil: it kept none).
	Cached bool
	Output *ArtifactInfo
	// Reusable: nothing forces the stage to run (no --no-cache, no
	// effects a fingerprint misses, every input file hashed), so a result
	// stored elsewhere under the same fingerprint may stand in.
	Reusable bool
	// Late: it reads a file another stage of this run writes, so its
	// fingerprint is known only when it starts.
	Late bool
	// FanOut: its type splits its work into units (StageType.FanOut),
	// which an orchestrator may spread over its workers.
	FanOut bool
}

// Tracker keeps the record of a run whose stages run elsewhere: the
// same record, events and store writes as a local run, fed with what the
// orchestrator reports. Its methods are safe for concurrent use; none
// may be called after End.
type Tracker struct {
	x         *execution
	stopFlush context.CancelFunc
	flushDone chan struct{}
}

// Track begins a run of plan whose stages run elsewhere: it decides
// each stage with the stage cache as RunWith does, lets setup fill in the
// record (nil: nothing), records the run's start, announces the cached
// stages, and starts writing the record a few times a second. It returns
// the stages in file order. Errors are those of RunWith before anything
// runs.
func (e *Executor) Track(ctx context.Context, plan *Plan, opts RunOptions, setup func(*Run)) (*Tracker, []RemoteStage, error) {
	x, err := e.begin(ctx, plan, opts, setup)
	if err != nil {
		return nil, nil, err
	}
	stages := remoteStages(plan, opts, x.decisions)
	flushCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	t := &Tracker{x: x, stopFlush: stop, flushDone: make(chan struct{})}
	go func() {
		x.flushLoop(flushCtx)
		close(t.flushDone)
	}()
	return t, stages, nil
}

// PlanRemote decides, as Track does but without recording a run, what a
// run of plan does with each stage; with no Cache every stage runs.
func (e *Executor) PlanRemote(ctx context.Context, plan *Plan, opts RunOptions) ([]RemoteStage, error) {
	ds, err := e.decide(ctx, plan, opts)
	if err != nil {
		return nil, err
	}
	return remoteStages(plan, opts, ds), nil
}

// remoteStages turns a run's decisions into its RemoteStages, in file order.
func remoteStages(plan *Plan, opts RunOptions, ds []*Decision) []RemoteStage {
	stages := make([]RemoteStage, len(plan.Stages))
	for i, ps := range plan.Stages {
		d := ds[i]
		rs := RemoteStage{ID: ps.Spec.ID, Uses: ps.Type.Name, Index: i, Inputs: ps.Inputs, Retries: ps.Spec.Retries,
			Timeout: ps.Spec.Timeout, Fingerprint: d.Fingerprint, Late: d.late, FanOut: ps.Type.FanOut != nil}
		rs.Reusable = reusable(plan, opts, ps, d)
		if d.Action == ActionCached {
			rs.Cached = true
			for _, a := range d.stored.Artifacts {
				if a.Name == OutputArtifact {
					ref := a
					ref.Stage = ps.Spec.ID
					rs.Output = &ref
				}
			}
		}
		stages[i] = rs
	}
	return stages
}

// reusable reports whether nothing but the lack of a stored result makes
// the decision run ps.
func reusable(plan *Plan, opts RunOptions, ps *PlannedStage, d *Decision) bool {
	if opts.NoCache || d.late || ps.Type.Cache == CacheNever || ps.Type.Cache == CacheVerifyWrites {
		return false
	}
	for _, id := range opts.NoCacheStages {
		if id == ps.Spec.ID {
			return false
		}
	}
	files, err := readsOf(ps, plan.Spec.Dir)
	return err == nil && len(d.Reads) == len(files)
}

// RunID returns the run's number in the recorder.
func (t *Tracker) RunID() int64 { return t.x.run.ID }

func (t *Tracker) index(id string) (int, error) {
	ps, ok := t.x.plan.Stage(id)
	if !ok {
		return 0, fmt.Errorf("no stage %q in the run", id)
	}
	return ps.Index, nil
}

// Started records that an attempt of stage id began.
func (t *Tracker) Started(id string, attempt int) error {
	i, err := t.index(id)
	if err != nil {
		return err
	}
	x := t.x
	x.mu.Lock()
	s := &x.run.Stages[i]
	if s.Status == StatusPending || s.Started.IsZero() {
		s.Started = time.Now().UTC()
	}
	s.Status = StatusRunning
	s.Attempts = attempt
	reason := s.Reason
	x.mu.Unlock()
	x.publish(Event{Kind: EventStageStarted, Stage: id, Status: StatusRunning, Attempt: attempt, Reason: reason})
	return nil
}

// Progress records how far stage id is.
func (t *Tracker) Progress(id string, p Progress) error {
	i, err := t.index(id)
	if err != nil {
		return err
	}
	x := t.x
	x.mu.Lock()
	s := &x.run.Stages[i]
	s.Progress = p
	x.mu.Unlock()
	x.publish(Event{Kind: EventProgress, Stage: id, Status: StatusRunning, Progress: p})
	return nil
}

// Log adds a line a stage logged elsewhere to its log.
func (t *Tracker) Log(line LogLine) {
	t.x.logLine(line.Stage, line.Stream, line.Text, line.Fold)
}

// Logf adds a line of the orchestrator's own to a stage's log.
func (t *Tracker) Logf(id, format string, args ...any) { t.x.logf(id, format, args...) }

// Succeeded records stage id's result as RunStage reported it, with the
// attempt that gave it. A report whose Cached is set records the stage
// as cached (a result stored elsewhere stood in).
func (t *Tracker) Succeeded(id string, rep *StageReport, attempt int) error {
	i, err := t.index(id)
	if err != nil {
		return err
	}
	x := t.x
	x.mu.Lock()
	s := &x.run.Stages[i]
	now := time.Now().UTC()
	if s.Started.IsZero() {
		s.Started = now
	}
	s.Finished = now
	s.Seconds = rep.Seconds
	if attempt > 0 {
		s.Attempts = attempt
	}
	if rep.Fingerprint != "" {
		s.Fingerprint = rep.Fingerprint
	}
	if rep.Reads != nil {
		s.Reads = rep.Reads
	}
	maps.Copy(x.run.Inputs, rep.Reads)
	maps.Copy(x.run.Inputs, rep.Inputs)
	var ev Event
	if rep.Cached != "" {
		s.Status = StatusCached
		s.Reason = rep.Cached
		s.Metrics, s.Writes, s.Rows, s.Cols = rep.Metrics, rep.Writes, rep.Rows, rep.Cols
		s.Artifacts = append(s.Artifacts, rep.Artifacts...)
		x.delta.Artifacts = append(x.delta.Artifacts, rep.Artifacts...)
		if p := rep.Preview; p != nil {
			p.Stage = s.ID
			x.delta.Previews = append(x.delta.Previews, p)
		}
		if s.Progress.Total > 0 {
			s.Progress.Done = s.Progress.Total
		}
		ev = Event{Kind: EventStageFinished, Stage: s.ID, Status: StatusCached, Metrics: s.Metrics, Progress: s.Progress, Reason: s.Reason}
	} else {
		if rep.Progress != nil {
			s.Progress = *rep.Progress
		}
		ev = x.succeeded(s, rep.Kind, rep.Metrics, rep.Writes, rep.Preview, rep.Artifacts)
	}
	x.mu.Unlock()
	x.publish(ev)
	return nil
}

// Failed records that stage id failed (status failed) or was stopped
// (an error wrapping ErrCancelled: status cancelled) after took.
func (t *Tracker) Failed(id string, failure error, took time.Duration) error {
	i, err := t.index(id)
	if err != nil {
		return err
	}
	x := t.x
	x.mu.Lock()
	s := &x.run.Stages[i]
	s.Finished = time.Now().UTC()
	if s.Started.IsZero() {
		s.Started = s.Finished
	}
	s.Seconds = took.Seconds()
	s.Status = StatusFailed
	if errors.Is(failure, ErrCancelled) {
		s.Status = StatusCancelled
	}
	s.Error = failure.Error()
	x.mu.Unlock()
	x.logf(id, "%s: %v", s.Status, failure)
	x.publish(Event{Kind: EventStageFinished, Stage: id, Status: s.Status, Seconds: s.Seconds, Err: s.Error, Attempt: s.Attempts})
	return nil
}

// Skipped records that stage id did not run because an input failed.
func (t *Tracker) Skipped(id string) error {
	i, err := t.index(id)
	if err != nil {
		return err
	}
	t.x.skip(i)
	return nil
}

// End settles the run's status from its stages (stages not finished are
// cancelled; ctx cancelled makes the run cancelled), records it for the
// last time and announces it. The error is the recorder's, if any.
func (t *Tracker) End(ctx context.Context) (*Run, error) {
	t.stopFlush()
	<-t.flushDone
	return t.x.end(ctx)
}

// StageReport is what running one stage with RunStage gave: references
// and small records only, never the values themselves.
type StageReport struct {
	Kind      Kind               `json:"kind"`
	Metrics   map[string]float64 `json:"metrics,omitempty"`
	Artifacts []ArtifactInfo     `json:"artifacts,omitempty"` // its output (OutputArtifact) first, then the files it keeps
	Preview   *Preview           `json:"preview,omitempty"`   // bounded (PreviewRows × PreviewCols)
	Rows      int                `json:"rows,omitempty"`      // table outputs
	Cols      int                `json:"cols,omitempty"`
	Writes    map[string]string  `json:"writes,omitempty"` // files it wrote (CacheVerifyWrites) → SHA-256
	Inputs    map[string]string  `json:"inputs,omitempty"` // files it read that no parameter names → SHA-256
	// Fingerprint and Reads are set when they were computed as the stage
	// started (a Late stage).
	Fingerprint string            `json:"fingerprint,omitempty"`
	Reads       map[string]string `json:"reads,omitempty"`
	Seconds     float64           `json:"seconds"`
	// Cached, when not empty, says which stored result stood in for
	// running the stage (Tracker.Succeeded records it as cached).
	Cached string `json:"cached,omitempty"`
	// Progress is the stage's count as it ended (nil: none reported), so
	// the record ends where the stage did, not where the last heartbeat was.
	Progress *Progress `json:"progress,omitempty"`
}

// Output returns the reference of the stage's output value, if it kept one.
func (r *StageReport) Output() (ArtifactInfo, bool) {
	for _, a := range r.Artifacts {
		if a.Name == OutputArtifact {
			return a, true
		}
	}
	return ArtifactInfo{}, false
}

// StageRunOptions are the choices of one RunStage call.
type StageRunOptions struct {
	Attempt int // 1 for the first attempt
	// Inputs are the output references of the stage's inputs, in the
	// order of its needs.
	Inputs []ArtifactInfo
	// Upstream are the fingerprints of its inputs, in the same order:
	// a Late stage's fingerprint is computed from them as it starts.
	Upstream []string
	// Late: compute the fingerprint as the stage starts (see RemoteStage).
	Late bool
	// Tap receives every event of the stage (logs, progress), in order,
	// on the stage's goroutines; it must not block for long.
	Tap func(Event)
	// Results, for a FanOut stage, are the results of all its units in
	// unit order (run elsewhere): the stage runs only its Reduce on them.
	Results []json.RawMessage
}

// RunStage runs one stage of plan alone, as the executor runs it within
// a run: its inputs read back from the artifact store, one attempt with
// the spec's timeout (retries are the caller's), its output and the
// files it keeps written to the artifact store. It needs e.Artifacts.
// The error is the stage's (wrapping ErrCancelled when ctx was
// cancelled), or one loading its inputs.
func (e *Executor) RunStage(ctx context.Context, plan *Plan, id string, opts StageRunOptions) (*StageReport, error) {
	if e.Artifacts == nil {
		return nil, errors.New("run stage: no artifact store")
	}
	ps, ok := plan.Stage(id)
	if !ok {
		return nil, fmt.Errorf("run stage: no stage %q in %s", id, plan.Spec.File)
	}
	if len(opts.Inputs) != len(ps.Inputs) {
		return nil, fmt.Errorf("run stage %s: %d inputs given, it reads %d", id, len(opts.Inputs), len(ps.Inputs))
	}
	began := time.Now()
	x := &execution{ex: e, plan: plan, rec: &NopRecorder{}, run: &Run{Inputs: map[string]string{}}, lines: map[string]int{},
		vals: map[string]Value{}, refs: map[any]ArtifactInfo{}, tap: opts.Tap, results: opts.Results}
	for _, s := range plan.Stages {
		x.run.Stages = append(x.run.Stages, StageRun{ID: s.Spec.ID})
	}
	attempt := max(opts.Attempt, 1)
	x.run.Stages[ps.Index].Attempts = attempt
	inputs := make([]Value, len(ps.Inputs))
	for j, ref := range opts.Inputs {
		if plan.decode == nil {
			return nil, errors.New("run stage: the catalog has no decoder")
		}
		v, err := loadValue(ctx, e.Artifacts, plan.decode, ref)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", ps.Inputs[j], err)
		}
		inputs[j] = v
	}
	rep := &StageReport{Kind: ps.Type.Out}
	if opts.Late {
		for j, in := range ps.Inputs {
			if j < len(opts.Upstream) {
				x.run.Stages[plan.mustIndex(in)].Fingerprint = opts.Upstream[j]
			}
		}
		if err := x.refingerprint(ps); err != nil {
			return nil, err
		}
		rep.Fingerprint = x.run.Stages[ps.Index].Fingerprint
		rep.Reads = x.run.Stages[ps.Index].Reads
	}
	out, err := x.attempt(ctx, ps, inputs, attempt)
	if err != nil {
		return nil, err
	}
	if ps.Type.Cache == CacheVerifyWrites {
		rep.Writes, _ = hashFiles(writesOf(ps, plan.Spec.Dir))
	}
	if rep.Artifacts, err = x.keep(ctx, ps, out); err != nil {
		return nil, err
	}
	if out.Value != nil {
		rep.Kind = out.Value.Kind()
		if p := out.Value.Preview(); p != nil {
			p.Stage = id
			rep.Preview = p
			if rep.Kind == KindTable {
				rep.Rows, rep.Cols = p.Rows, p.Cols
			}
		}
	}
	rep.Metrics = out.Metrics
	for name, sum := range x.run.Inputs {
		if _, own := rep.Reads[name]; !own {
			if rep.Inputs == nil {
				rep.Inputs = map[string]string{}
			}
			rep.Inputs[name] = sum
		}
	}
	if p := x.run.Stages[ps.Index].Progress; p.Total > 0 || p.Done > 0 {
		rep.Progress = &p
	}
	rep.Seconds = time.Since(began).Seconds()
	return rep, nil
}

// mustIndex returns the index of the stage with the given id, which
// validation guarantees exists.
func (p *Plan) mustIndex(id string) int {
	s, ok := p.Stage(id)
	if !ok {
		panic("engine: no stage " + id)
	}
	return s.Index
}
