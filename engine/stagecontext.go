package engine

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
	"sync"
)

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
	// Version is the sluice version running the stage (the executor's
	// Version), for what the stage writes that names it (a model file's
	// sluice_version); "" outside an executor.
	Version string
	x       *execution
}

// NewStageContext makes a context for running a stage outside an executor
// (tests, and running one stage alone). Logs go to logf if not nil. Its
// Version is "" until the caller sets it.
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

// LogFold adds the line of one finished cross-validation fold of a tuning
// candidate to the stage's log: c.LogLine() as its text, c as its data.
func (sc *StageContext) LogFold(c CandidateFold) {
	sc.x.logLine(sc.ID(), "", c.LogLine(), &c)
}

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

// WriteOutput writes the file a path parameter's value names, atomically
// and confined as engine.WriteOutput does, under the stage's
// allow_outside. It returns the absolute path written.
func (sc *StageContext) WriteOutput(p string, write func(io.Writer) error) (string, error) {
	return WriteOutput(sc.Plan.Spec.Dir, p, sc.Params.Bool(AllowOutsideParam), write)
}

// OutputTemp creates an empty temporary file beside the output a path
// parameter's value names, in its confined folder, as engine.OutputTemp
// does under the stage's allow_outside; RenameOutput renames it over the
// output.
func (sc *StageContext) OutputTemp(p string) (string, error) {
	return OutputTemp(sc.Plan.Spec.Dir, p, sc.Params.Bool(AllowOutsideParam))
}

// RenameOutput renames a temporary file beside the output a path
// parameter's value names over it, confined as engine.RenameOutput does.
func (sc *StageContext) RenameOutput(p, from string) (string, error) {
	return RenameOutput(sc.Plan.Spec.Dir, p, sc.Params.Bool(AllowOutsideParam), from)
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
