package engine

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

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
