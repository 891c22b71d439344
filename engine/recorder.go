package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Recorder persists runs as they go. The executor calls BeginRun once,
// before any stage starts, and RecordRun a few times a second with the
// latest snapshot and what was added since the last call, and once at the
// end; the last call must be durable when it returns. Errors say what
// failed ("begin run: …", "record run N: …"). A BeginRun error is
// returned as it is; a failed final RecordRun is tried once more, lean
// (see recordLean), and the executor's error wraps ErrNotRecorded and it.
type Recorder interface {
	BeginRun(ctx context.Context, r *Run) (int64, error)
	RecordRun(ctx context.Context, r *Run, d *RunDelta) error
}

// NotRecordedMarker is implemented by a Recorder that can note, in a
// write smaller than any run record, that a run's final record could not
// be written: the run then shows as failed to record, with its results
// as of its last successful write, not as interrupted.
type NotRecordedMarker interface {
	MarkNotRecorded(ctx context.Context, id int64, why string) error
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

// flushLoop records the run every FlushInterval until ctx ends. A write
// that fails is tried again without its log lines and previews, so the
// stages' results and the artifacts they refer to are recorded as they
// finish even when the bulk cannot be (a disk filling up); what was not
// written waits, in order, for the next write and the final one.
func (x *execution) flushLoop(ctx context.Context) {
	every := x.ex.FlushInterval
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ctx.Err() != nil {
				return // the final write takes what is left
			}
			x.mu.Lock()
			x.run.Heartbeat = time.Now().UTC()
			snap := x.snapshot()
			d := x.takeDelta()
			x.mu.Unlock()
			if err := x.rec.RecordRun(ctx, snap, d); err == nil {
				continue
			}
			keep := *d
			if x.rec.RecordRun(ctx, snap, &RunDelta{Artifacts: d.Artifacts}) == nil {
				keep.Artifacts = nil
			}
			x.mu.Lock()
			x.delta = RunDelta{
				Logs:      append(keep.Logs, x.delta.Logs...),
				Previews:  append(keep.Previews, x.delta.Previews...),
				Artifacts: append(keep.Artifacts, x.delta.Artifacts...),
			}
			x.mu.Unlock()
		}
	}
}

// recordLean is the last resort when a run's final record fails (cause):
// the run is recorded as failed, saying it failed to record, with its
// stages' results and the artifacts they refer to but without the log
// lines and previews the failed write carried. That write is much
// smaller and often still fits (a full disk leaves the store the pages
// its earlier writes freed). It returns the run as it now stands and an
// error wrapping ErrNotRecorded that says which of the two happened.
func recordLean(ctx context.Context, rec Recorder, final *Run, d *RunDelta, cause error) (*Run, error) {
	lean := *final
	lean.Status = StatusFailed
	lean.Error = "failed to record: " + cause.Error()
	if final.Error != "" {
		lean.Error += "; " + final.Error
	}
	if err := rec.RecordRun(ctx, &lean, &RunDelta{Artifacts: d.Artifacts}); err != nil {
		if m, ok := rec.(NotRecordedMarker); ok {
			if m.MarkNotRecorded(ctx, final.ID, cause.Error()) == nil {
				return &lean, fmt.Errorf("run %d %w: %w; the store keeps it as of its last successful write, marked failed to record", final.ID, ErrNotRecorded, cause)
			}
		}
		return &lean, fmt.Errorf("run %d %w: %w; the store keeps it as of its last successful write, and will show it interrupted", final.ID, ErrNotRecorded, cause)
	}
	return &lean, fmt.Errorf("run %d %w in full: %w; recorded as failed, without its last %d log lines and %d previews", final.ID, ErrNotRecorded, cause, len(d.Logs), len(d.Previews))
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
