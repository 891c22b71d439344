package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// fullRecorder stands in for a store on a disk that has room for small
// writes only: a write that carries log lines fails (as a transaction
// that must grow the file does on a full disk), or, with failAll, every
// write after BeginRun fails.
type fullRecorder struct {
	memRecorder
	failAll bool
	mu2     sync.Mutex
	// aDoneBRunning: a lean write recorded stage a finished while b still ran.
	aDoneBRunning bool
}

func (f *fullRecorder) RecordRun(ctx context.Context, r *engine.Run, d *engine.RunDelta) error {
	if f.failAll || len(d.Logs) > 0 {
		return errors.New("record run 1: write sluice.db: " + syscall.ENOSPC.Error())
	}
	a, _ := r.Stage("a")
	b, _ := r.Stage("b")
	if a.Status == engine.StatusSucceeded && b.Status == engine.StatusRunning {
		f.mu2.Lock()
		f.aDoneBRunning = true
		f.mu2.Unlock()
	}
	return f.memRecorder.RecordRun(ctx, r, d)
}

const failRecordPipeline = `name: p
stages:
  - {id: a, uses: sleep, with: {for: 10ms}}
  - {id: b, uses: sleep, with: {for: 400ms}}
`

func TestRunThatCannotBeRecordedInFullIsRecordedFailedWithItsResults(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, failRecordPipeline)
	rec := &fullRecorder{}
	run, err := (&engine.Executor{Recorder: rec, FlushInterval: 10 * time.Millisecond}).Run(context.Background(), plan)
	if !errors.Is(err, engine.ErrNotRecorded) {
		t.Fatalf("error: got %v, want one wrapping ErrNotRecorded", err)
	}
	if !strings.Contains(err.Error(), "run 1 failed to record in full") || !strings.Contains(err.Error(), "no space left on device") ||
		!strings.Contains(err.Error(), "recorded as failed, without its last") {
		t.Errorf("error: got %q, want it to say the run failed to record in full, why, and what was kept", err)
	}
	if run.Status != engine.StatusFailed || !strings.HasPrefix(run.Error, "failed to record: ") {
		t.Errorf("returned run: status %s error %q, want failed, failed to record", run.Status, run.Error)
	}
	rec.mu.Lock()
	last, logs := rec.last, len(rec.logs)
	rec.mu.Unlock()
	if last == nil || last.Status != engine.StatusFailed || !strings.HasPrefix(last.Error, "failed to record: ") {
		t.Fatalf("recorded run: %+v, want failed with failed to record", last)
	}
	for _, id := range []string{"a", "b"} {
		if s, _ := last.Stage(id); s.Status != engine.StatusSucceeded {
			t.Errorf("recorded stage %s: %s, want succeeded (its result kept)", id, s.Status)
		}
	}
	if logs != 0 {
		t.Errorf("%d log lines recorded by a store that refuses them", logs)
	}
	rec.mu2.Lock()
	defer rec.mu2.Unlock()
	if !rec.aDoneBRunning {
		t.Error("no write recorded stage a succeeded while b ran: results are not written as stages finish")
	}
}

func TestRunThatCannotBeRecordedAtAllSaysSo(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, failRecordPipeline)
	rec := &fullRecorder{failAll: true}
	run, err := (&engine.Executor{Recorder: rec, FlushInterval: 10 * time.Millisecond}).Run(context.Background(), plan)
	if !errors.Is(err, engine.ErrNotRecorded) || !strings.Contains(err.Error(), "run 1 failed to record: ") ||
		!strings.Contains(err.Error(), "will show it interrupted") {
		t.Fatalf("error: got %v, want run 1 failed to record … will show it interrupted", err)
	}
	if run.Status != engine.StatusFailed || !strings.HasPrefix(run.Error, "failed to record: ") {
		t.Errorf("returned run: status %s error %q, want failed, failed to record", run.Status, run.Error)
	}
	if rec.calls != 0 {
		t.Errorf("%d writes succeeded on a store that refuses all", rec.calls)
	}
}

// flakyRecorder fails its first n periodic writes (of a running run),
// then records everything.
type flakyRecorder struct {
	memRecorder
	n, failed int
}

func (f *flakyRecorder) RecordRun(ctx context.Context, r *engine.Run, d *engine.RunDelta) error {
	f.mu.Lock()
	if f.n > 0 && r.Status == engine.StatusRunning {
		f.n--
		f.failed++
		f.mu.Unlock()
		return errors.New("record run 1: timeout")
	}
	f.mu.Unlock()
	return f.memRecorder.RecordRun(ctx, r, d)
}

func TestFailedPeriodicWritesLoseNothingOnceTheStoreRecovers(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, failRecordPipeline)
	rec := &flakyRecorder{n: 4}
	run, err := (&engine.Executor{Recorder: rec, FlushInterval: 10 * time.Millisecond}).Run(context.Background(), plan)
	if err != nil {
		t.Fatalf("error: %v, want none: the final write carries what the failed ones left", err)
	}
	if rec.failed == 0 {
		t.Fatal("no periodic write was made in 400 ms of flushing every 10 ms")
	}
	if run.Status != engine.StatusSucceeded || rec.last.Status != engine.StatusSucceeded {
		t.Errorf("status: run %s, recorded %s; want succeeded", run.Status, rec.last.Status)
	}
	var texts []string
	for _, l := range rec.logs {
		texts = append(texts, l.Stage+": "+l.Text)
	}
	for _, want := range []string{"a: slept 10ms", "b: slept 400ms"} {
		found := false
		for _, s := range texts {
			found = found || s == want
		}
		if !found {
			t.Errorf("log lines %q: %q missing", texts, want)
		}
	}
	for i := 1; i < len(rec.logs); i++ {
		if rec.logs[i].Time.Before(rec.logs[i-1].Time) {
			t.Errorf("log lines out of order at %d: %q", i, texts)
			break
		}
	}
}

// markingRecorder refuses every write after BeginRun but can mark a run
// not recorded, as the store does in a write smaller than any record.
type markingRecorder struct {
	fullRecorder
	marks []string
}

func (m *markingRecorder) MarkNotRecorded(_ context.Context, id int64, why string) error {
	m.mu2.Lock()
	defer m.mu2.Unlock()
	m.marks = append(m.marks, fmt.Sprintf("%d: %s", id, why))
	return nil
}

// TestRunThatCannotBeRecordedAtAllIsMarked: when even the lean record
// fails, a Recorder that can mark the run not recorded is asked to, and
// the error says the store will show it failed to record, not interrupted.
func TestRunThatCannotBeRecordedAtAllIsMarked(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, failRecordPipeline)
	rec := &markingRecorder{fullRecorder: fullRecorder{failAll: true}}
	_, err := (&engine.Executor{Recorder: rec, FlushInterval: 10 * time.Millisecond}).Run(context.Background(), plan)
	if !errors.Is(err, engine.ErrNotRecorded) || !strings.Contains(err.Error(), "marked failed to record") {
		t.Fatalf("error: got %v, want run 1 failed to record … marked failed to record", err)
	}
	rec.mu2.Lock()
	defer rec.mu2.Unlock()
	if len(rec.marks) != 1 || !strings.HasPrefix(rec.marks[0], "1: record run 1: write sluice.db: no space left on device") {
		t.Errorf("marks: %q, want run 1 marked once, with the write's error", rec.marks)
	}
}
