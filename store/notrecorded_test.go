package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestRunNotRecordedShowsFailedToRecord: a run whose final record (and
// its lean retry) could not be written is marked so; the next writable
// open records it failed to record with the results of its last
// successful write, not interrupted, and without waiting for its process
// to end (here it is this live test process).
func TestRunNotRecordedShowsFailedToRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sluice.db")
	ctx := context.Background()
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := fuzzRun()
	r.Status = engine.StatusRunning
	r.Stages[0].Status = engine.StatusRunning
	r.Stages[1].Status = engine.StatusPending
	id, err := db.BeginRun(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	r.ID = id
	r.Stages[0].Status = engine.StatusSucceeded
	r.Stages[1].Status = engine.StatusRunning
	if err := db.RecordRun(ctx, r, &engine.RunDelta{}); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkNotRecorded(ctx, id, "record run 1: write sluice.db: no space left on device"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ro.Run(ctx, id); got == nil || got.Status != engine.StatusRunning {
		t.Fatalf("read-only, before a writable open: %+v, want it as last written (running)", got)
	}
	_ = ro.Close()

	db, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != engine.StatusFailed || got.Error != "failed to record: record run 1: write sluice.db: no space left on device" {
		t.Errorf("run: %s %q, want failed, failed to record and why", got.Status, got.Error)
	}
	if s, _ := got.Stage("load"); s.Status != engine.StatusSucceeded {
		t.Errorf("stage load: %s, want succeeded as last recorded", s.Status)
	}
	if s, _ := got.Stage("model"); s.Status != engine.StatusInterrupted || !strings.HasPrefix(s.Error, "not recorded:") {
		t.Errorf("stage model: %s %q, want its result unknown: not recorded", s.Status, s.Error)
	}
	sums, err := db.Runs(ctx, RunFilter{})
	if err != nil || len(sums) != 1 || sums[0].Status != engine.StatusFailed {
		t.Errorf("runs: %+v %v, want the run failed", sums, err)
	}
	// A run that is no longer running is not marked.
	if err := db.MarkNotRecorded(ctx, id, "again"); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.Run(ctx, id); again.Error != got.Error {
		t.Errorf("a finished run was changed by a mark: %q", again.Error)
	}
}
