package temporal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/sluice-ml/sluice/engine"
)

// Activities are the activities a worker runs: Stage runs one stage,
// Plan decides a run's stage graph for a workflow started without one.
// Their fields are read-only once the worker starts.
type Activities struct {
	Registry  *engine.Registry     // the stage catalog
	Artifacts engine.ArtifactStore // where inputs are read and outputs written; shared with the client and every worker
	Version   string               // sluice's version, part of every fingerprint
	// Identity names the worker in stage results and errors.
	Identity string
	// HeartbeatEvery is how often a running stage heartbeats (0: 1s).
	HeartbeatEvery time.Duration

	caches fanOutCaches // the units' plans and inputs (fan-out stages)
}

// Plan validates the run's pipeline with the worker's catalog and decides
// its stage graph: with no run store here, every stage runs, unless a
// result stored under its fingerprint stands in when it starts. A file
// that does not validate is a non-retryable error.
func (a *Activities) Plan(ctx context.Context, in RunInput) ([]StageNode, error) {
	plan, err := in.Source.Plan(a.Registry)
	if err != nil {
		return nil, sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, nil)
	}
	ex := &engine.Executor{Version: a.Version, Artifacts: a.Artifacts}
	stages, err := ex.PlanRemote(ctx, plan, engine.RunOptions{NoCache: in.Options.NoCache, NoCacheStages: in.Options.NoCacheStages})
	if err != nil {
		return nil, sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, nil)
	}
	return NodesOf(stages), nil
}

// Stage runs one stage (engine.Executor.RunStage): inputs read from the
// artifact store, output written to it, progress and the latest log lines
// heartbeated about once a second. A cancelled activity stops the stage
// and returns the context's error. The stage's own error is an
// ApplicationError of type ErrTypeStage, retryable while the attempt is
// within the stage's retries; a file that does not validate here is
// ErrTypeInvalid, never retried.
func (a *Activities) Stage(ctx context.Context, task StageTask) (StageResult, error) {
	info := activity.GetInfo(ctx)
	attempt := int(info.Attempt)
	plan, err := task.Source.Plan(a.Registry)
	if err != nil {
		return StageResult{}, sdktemporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the pipeline does not validate on worker %s: %v", a.Identity, err), ErrTypeInvalid, nil)
	}
	if task.Reusable && task.Fingerprint != "" {
		if r, ok := a.lookup(ctx, task); ok {
			r.Attempt, r.Worker = attempt, a.Identity
			return r, nil
		}
	}
	log := &logBuffer{stage: task.Stage}
	tap := func(e engine.Event) {
		switch e.Kind {
		case engine.EventLog:
			log.add(e.Line)
		case engine.EventProgress:
			log.progress(e.Progress)
		case engine.EventRunStarted, engine.EventStageStarted, engine.EventStageFinished, engine.EventRunFinished:
			// RunStage's own bookkeeping: the workflow reports these.
		}
	}
	stopBeat := a.heartbeat(ctx, func() any { return log.heartbeat() })
	ex := &engine.Executor{Version: a.Version, Artifacts: a.Artifacts}
	rep, err := ex.RunStage(ctx, plan, task.Stage, engine.StageRunOptions{
		Attempt: attempt, Inputs: task.Inputs, Upstream: task.Upstream, Late: task.Late, Tap: tap, Results: task.Results,
	})
	stopBeat()
	if err != nil {
		if ctx.Err() != nil {
			return StageResult{}, ctx.Err()
		}
		msg := err.Error()
		// The attempt and its last log lines ride along as the error's
		// details, for the record.
		failure := StageFailure{Attempt: attempt, Logs: log.last(MaxFailureLogBytes)}
		if attempt > task.Retries {
			return StageResult{}, sdktemporal.NewNonRetryableApplicationError(msg, ErrTypeStage, nil, failure)
		}
		return StageResult{}, sdktemporal.NewApplicationError(msg, ErrTypeStage, failure)
	}
	res := StageResult{Stage: task.Stage, Report: *rep, Attempt: attempt, Worker: a.Identity}
	res.Logs, res.Dropped = log.kept()
	res.Progress = log.heartbeat().Progress
	a.remember(ctx, task, res)
	return res, nil
}

// cacheRecord is what a stage's result is stored as for the stage cache
// across machines: the blob a fingerprint's ref names.
type cacheRecord struct {
	V        int                `json:"v"`
	Workflow string             `json:"workflow"`
	Stage    string             `json:"stage"`
	Report   engine.StageReport `json:"report"`
}

// remember stores a stage's result under its fingerprint, when the
// artifact store names blobs. A failure only loses the reuse.
func (a *Activities) remember(ctx context.Context, task StageTask, res StageResult) {
	rs, ok := a.Artifacts.(engine.RefStore)
	fp := res.Report.Fingerprint
	if fp == "" {
		fp = task.Fingerprint
	}
	if !ok || fp == "" || res.Report.Cached != "" || len(res.Report.Writes) > 0 {
		return
	}
	b, err := json.Marshal(cacheRecord{V: 1, Workflow: task.WorkflowID, Stage: task.Stage, Report: res.Report})
	if err != nil {
		return
	}
	key, _, err := a.Artifacts.Put(ctx, bytes.NewReader(b))
	if err != nil {
		return
	}
	_ = rs.PutRef(ctx, fp, key)
}

// lookup finds a result stored under the task's fingerprint whose
// artifacts are all still there.
func (a *Activities) lookup(ctx context.Context, task StageTask) (StageResult, bool) {
	rs, ok := a.Artifacts.(engine.RefStore)
	if !ok {
		return StageResult{}, false
	}
	key, err := rs.GetRef(ctx, task.Fingerprint)
	if err != nil || key == "" {
		return StageResult{}, false
	}
	b, err := engine.ReadArtifact(ctx, a.Artifacts, key)
	if err != nil {
		return StageResult{}, false
	}
	var rec cacheRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.V != 1 {
		return StageResult{}, false
	}
	for _, art := range rec.Report.Artifacts {
		if has, err := a.Artifacts.Has(ctx, art.SHA256); err != nil || !has {
			return StageResult{}, false
		}
	}
	rep := rec.Report
	for i := range rep.Artifacts {
		rep.Artifacts[i].Stage = task.Stage
	}
	rep.Seconds = 0
	rep.Cached = fmt.Sprintf("cached: the result of workflow %s stage %s stands in (fingerprint %.12s)", rec.Workflow, rec.Stage, task.Fingerprint)
	return StageResult{Stage: task.Stage, Report: rep}, true
}

// logBuffer collects a running stage's log and progress for its
// heartbeats and its result.
type logBuffer struct {
	stage string
	mu    sync.Mutex
	lines []engine.LogLine // the first MaxLogLines, within MaxLogBytes
	size  int              // bytes of lines' text
	total int              // lines logged
	tail  []engine.LogLine // the latest heartbeatLines
	prog  engine.Progress
}

func (b *logBuffer) add(l engine.LogLine) {
	l.Text = cutLine(l.Text)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total++
	if len(b.lines) < MaxLogLines && b.size+len(l.Text) <= MaxLogBytes && len(b.lines) == b.total-1 {
		b.lines = append(b.lines, l)
		b.size += len(l.Text)
	}
	b.tail = append(b.tail, l)
	if len(b.tail) > heartbeatLines {
		b.tail = b.tail[len(b.tail)-heartbeatLines:]
	}
}

func (b *logBuffer) progress(p engine.Progress) {
	b.mu.Lock()
	b.prog = p
	b.mu.Unlock()
}

func (b *logBuffer) heartbeat() Heartbeat {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Heartbeat{Progress: b.prog, First: b.total - len(b.tail), Lines: append([]engine.LogLine(nil), b.tail...)}
}

// last returns the latest lines whose text fits in max bytes, oldest first.
func (b *logBuffer) last(max int) []engine.LogLine {
	b.mu.Lock()
	defer b.mu.Unlock()
	src := b.tail
	if len(b.lines) == b.total {
		src = b.lines // every line is kept: more than the tail
	}
	n, size := len(src), 0
	for n > 0 && size+len(src[n-1].Text) <= max {
		size += len(src[n-1].Text)
		n--
	}
	return append([]engine.LogLine(nil), src[n:]...)
}

func (b *logBuffer) kept() ([]engine.LogLine, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]engine.LogLine(nil), b.lines...), b.total - len(b.lines)
}

// cutLine returns s if it fits in MaxLogLine bytes, or its first bytes
// (whole UTF-8 characters) followed by engine.CutMarker.
func cutLine(s string) string {
	if len(s) <= MaxLogLine {
		return s
	}
	n := MaxLogLine - len(engine.CutMarker)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + engine.CutMarker
}

// heartbeat records details() as the activity's heartbeat at once and then
// every HeartbeatEvery (a second by default) until the returned stop is
// called; stop returns once the last heartbeat is sent.
func (a *Activities) heartbeat(ctx context.Context, details func() any) (stop func()) {
	beat, stopBeat := context.WithCancel(ctx)
	beaten := make(chan struct{})
	go func() {
		defer close(beaten)
		every := a.HeartbeatEvery
		if every <= 0 {
			every = time.Second
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			activity.RecordHeartbeat(ctx, details())
			select {
			case <-beat.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		stopBeat()
		<-beaten
	}
}
