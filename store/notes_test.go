package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// TestTagsAndNotes: tags and a note survive the executor's later
// snapshots of the run, show in Run and Runs, and go away when removed.
func TestTagsAndNotes(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	r := begin(t, db, newRun("iris"))
	other := addRun(t, db, "iris", engine.StatusSucceeded)

	tags, err := db.Tag(ctx, r.ID, "paper", "baseline", "paper")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"baseline", "paper"}; !slices.Equal(tags, want) {
		t.Errorf("Tag: got %v, want %v", tags, want)
	}
	if err := db.SetNote(ctx, r.ID, "\n  C too high?\n"); err != nil {
		t.Fatal(err)
	}
	// The run is still running: its next snapshot must not drop them.
	finish(r, engine.StatusSucceeded)
	if err := db.RecordRun(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tags, []string{"baseline", "paper"}) || got.Note != "C too high?" {
		t.Errorf("Run: got tags %v note %q", got.Tags, got.Note)
	}
	sums, err := db.Runs(ctx, store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sums {
		switch s.ID {
		case r.ID:
			if !slices.Equal(s.Tags, []string{"baseline", "paper"}) || s.Note != "C too high?" {
				t.Errorf("Runs: run %d has tags %v note %q", s.ID, s.Tags, s.Note)
			}
		case other.ID:
			if len(s.Tags) != 0 || s.Note != "" {
				t.Errorf("Runs: untagged run %d has tags %v note %q", s.ID, s.Tags, s.Note)
			}
		}
	}
	if tags, err = db.Untag(ctx, r.ID, "paper", "never-there"); err != nil || !slices.Equal(tags, []string{"baseline"}) {
		t.Errorf("Untag: got %v, %v; want [baseline]", tags, err)
	}
	if err := db.SetNote(ctx, r.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Untag(ctx, r.ID, "baseline"); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Run(ctx, r.ID)
	if len(got.Tags) != 0 || got.Note != "" {
		t.Errorf("after removing everything: tags %v note %q", got.Tags, got.Note)
	}
}

func TestTagErrors(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	r := addRun(t, db, "iris", engine.StatusSucceeded)
	if _, err := db.Tag(ctx, 99, "x"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("tag on a missing run: got %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "two words", "a:b", "-neg", string(make([]byte, 65))} {
		if _, err := db.Tag(ctx, r.ID, "ok", bad); err == nil {
			t.Errorf("Tag(%q): no error", bad)
		}
	}
	got, _ := db.Run(ctx, r.ID)
	if len(got.Tags) != 0 {
		t.Errorf("a rejected tag list wrote %v", got.Tags)
	}
}
