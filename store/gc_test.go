package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// runWithArtifact records a finished run whose model stage kept data.
func runWithArtifact(t *testing.T, db *store.DB, pipeline string, data []byte) (*engine.Run, engine.ArtifactInfo) {
	t.Helper()
	r := begin(t, db, newRun(pipeline))
	finish(r, engine.StatusSucceeded)
	info := kept(t, db, engine.ArtifactInfo{Stage: "model", Name: "model", Format: "sluice"}, data)
	st, _ := r.Stage("model")
	st.Artifacts = []engine.ArtifactInfo{info}
	if err := db.RecordRun(context.Background(), r, &engine.RunDelta{Artifacts: []engine.ArtifactInfo{info}}); err != nil {
		t.Fatal(err)
	}
	return r, info
}

// age sets an artifact's time back, as if written an hour ago.
func age(t *testing.T, db *store.DB, key string) {
	t.Helper()
	p := filepath.Join(store.ArtifactsDir(db.Path()), "sha256", key[:2], key)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

func TestTrashHidesAndRestoreBrings(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	a, _ := runWithArtifact(t, db, "iris", []byte("model a"))
	b, _ := runWithArtifact(t, db, "iris", []byte("model b"))
	if err := db.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if runs, _ := db.Runs(ctx, store.RunFilter{}); len(runs) != 1 || runs[0].ID != a.ID {
		t.Errorf("Runs after Delete = %+v, want only run %d", runs, a.ID)
	}
	if id, _ := db.Latest(ctx, "iris"); id != a.ID {
		t.Errorf("Latest after Delete = %d, want %d", id, a.ID)
	}
	if n, _ := db.Count(ctx); n != 1 {
		t.Errorf("Count after Delete = %d, want 1", n)
	}
	if hits, _ := db.Lookup(ctx, []string{"fp-model"}, 8); len(hits["fp-model"]) != 1 || hits["fp-model"][0].Run.ID != a.ID {
		t.Errorf("the stage cache still offers a run in the trash: %+v", hits)
	}
	if err := db.Delete(ctx, b.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Delete twice: %v, want ErrNotFound", err)
	}
	if err := db.Delete(ctx, a.ID, 99); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Delete of a missing run: %v, want ErrNotFound", err)
	}
	if runs, _ := db.Runs(ctx, store.RunFilter{}); len(runs) != 1 {
		t.Errorf("a failed Delete moved some runs: %+v", runs)
	}
	trash, err := db.Trash(ctx)
	if err != nil || len(trash) != 1 || trash[0].ID != b.ID || trash[0].Pipeline != "iris" {
		t.Errorf("Trash = %+v, %v", trash, err)
	}
	if err := db.Restore(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if id, _ := db.Latest(ctx, "iris"); id != b.ID {
		t.Errorf("Latest after Restore = %d, want %d", id, b.ID)
	}
	if hits, _ := db.Lookup(ctx, []string{"fp-model"}, 8); len(hits["fp-model"]) != 2 {
		t.Errorf("Restore did not put the run back in the stage cache: %+v", hits)
	}
	if err := db.Restore(ctx, b.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Restore of a run not in the trash: %v, want ErrNotFound", err)
	}
	running := begin(t, db, newRun("iris"))
	if err := db.Delete(ctx, running.ID); err == nil {
		t.Error("Delete of a running run succeeded")
	}
}

func TestGCRemovesOnlyWhatNoRunNeeds(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	big := bytes.Repeat([]byte("forest "), 1<<16)
	keep, kinfo := runWithArtifact(t, db, "iris", []byte("kept model"))
	gone, ginfo := runWithArtifact(t, db, "iris", big)
	shared, sinfo := runWithArtifact(t, db, "iris", []byte("kept model")) // shares keep's artifact
	for _, k := range []string{kinfo.SHA256, ginfo.SHA256, sinfo.SHA256} {
		age(t, db, k)
	}
	// An artifact of a run that has not recorded it yet: new, kept.
	fresh, _, err := db.ArtifactStore().Put(ctx, bytes.NewReader([]byte("in flight")))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(ctx, gone.ID, shared.ID); err != nil {
		t.Fatal(err)
	}
	dry, err := db.GC(ctx, store.GCOptions{Dry: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Runs) != 2 || dry.Files != 1 || dry.Bytes != int64(len(big)) || dry.Kept != 1 {
		t.Errorf("dry gc = %+v; want runs 2 and 3, one file of %d bytes, one kept", dry, len(big))
	}
	if u, _ := db.Usage(ctx); u.Trashed != 2 || u.ArtifactFiles != 3 {
		t.Errorf("dry gc changed the store: %+v", u)
	}
	// An artifact already missing is not an error.
	if err := db.ArtifactStore().Delete(ctx, ginfo.SHA256); err != nil {
		t.Fatal(err)
	}
	rep, err := db.GC(ctx, store.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.After.Trashed != 0 || rep.After.Runs != 1 {
		t.Errorf("gc = %+v", rep)
	}
	for _, k := range []string{kinfo.SHA256, fresh} {
		if ok, _ := db.ArtifactStore().Has(ctx, k); !ok {
			t.Errorf("gc removed artifact %.12s, which is referenced or in flight", k)
		}
	}
	if _, err := db.Run(ctx, gone.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("run %d after gc: %v, want ErrNotFound", gone.ID, err)
	}
	if data, _, err := db.Artifact(ctx, keep.ID, "model", "model"); err != nil || string(data) != "kept model" {
		t.Errorf("the kept run's artifact: %q, %v", data, err)
	}
}

func TestGCKeepLastAndOlderThan(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	var ids []int64
	for range 4 {
		ids = append(ids, addRun(t, db, "iris", engine.StatusSucceeded).ID)
	}
	other := addRun(t, db, "digits", engine.StatusSucceeded)
	rep, err := db.GC(ctx, store.GCOptions{KeepLast: 2, OlderThan: time.Hour})
	if err != nil || len(rep.Runs) != 0 {
		t.Fatalf("gc --keep-last 2 --older-than 1h of new runs deleted %v, %v", rep.Runs, err)
	}
	rep, err = db.GC(ctx, store.GCOptions{KeepLast: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.Runs[0] != ids[0] || rep.Runs[1] != ids[1] {
		t.Errorf("gc --keep-last 2 deleted %v, want %v", rep.Runs, ids[:2])
	}
	if _, err := db.Run(ctx, other.ID); err != nil {
		t.Errorf("the other pipeline's only run: %v", err)
	}
}

// TestCompactionJournalIsReplayed leaves the journal a compaction that
// died after making its copy durable would leave, and checks that the
// next operation finishes the copy before reading.
func TestCompactionJournalIsReplayed(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	r := addRun(t, db, "iris", engine.StatusSucceeded)
	// The journal: a copy of the store as it is now.
	b, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	later := addRun(t, db, "iris", engine.StatusSucceeded)
	if err := os.WriteFile(db.Path()+".compacted", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Run(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db.Path() + ".compacted"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is still there: %v", err)
	}
	// The journal's state won: the run recorded after the copy is gone,
	// as it would be had the compaction finished.
	if _, err := db.Run(ctx, later.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("run %d after replay: %v", later.ID, err)
	}
}

// TestMigrateV1 opens a store of schema version 1, whose artifacts'
// bytes lived in bbolt, and finds them moved to the artifact store.
func TestMigrateV1(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	r, info := runWithArtifact(t, db, "iris", []byte("a version 1 model"))
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Make it version 1: the blob back in the database, gone from the
	// artifact store.
	key := append(binary.BigEndian.AppendUint64(nil, uint64(r.ID)), "model\x00model"...)
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		blobs, err := tx.CreateBucket([]byte("artifacts"))
		if err != nil {
			return err
		}
		if err := blobs.Put(key, []byte("a version 1 model")); err != nil {
			return err
		}
		if err := tx.DeleteBucket([]byte("trash")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("1"))
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(store.ArtifactsDir(path)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(path, &store.Options{ReadOnly: true}); !errors.Is(err, store.ErrSchema) {
		t.Errorf("read-only open of version 1: %v, want ErrSchema", err)
	}
	again, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, got, err := again.Artifact(ctx, r.ID, "model", "model")
	if err != nil || string(data) != "a version 1 model" || got.SHA256 != info.SHA256 {
		t.Errorf("after migration: %q %+v, %v", data, got, err)
	}
	if err := again.Check(ctx); err != nil {
		t.Error(err)
	}
}
