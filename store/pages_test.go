package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// cyclicStore writes a store of enough runs for its buckets to need
// branch pages, then points the first child of every branch page in use
// at the branch itself: a page tree with cycles, which bbolt's cursors
// descend for ever. It returns the file's path.
func cyclicStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sluice.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 150 {
		r := fuzzRun()
		id, err := db.BeginRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		r.ID = id
		if err := db.RecordRun(ctx, r, &engine.RunDelta{Logs: []engine.LogLine{{Stage: "load", Text: "a line"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var branches []int
	var pageSize int
	err = bdb.View(func(tx *bolt.Tx) error {
		pageSize = tx.DB().Info().PageSize
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type == "branch" {
				branches = append(branches, id)
			}
		}
	})
	_ = bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(branches) < 2 {
		t.Fatalf("%d branch pages: the store is too small to have cycles made", len(branches))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range branches {
		// The first branch element's page id, after the page header and
		// the element's position and key size.
		at := id*pageSize + pageHeaderSize + 8
		ne.PutUint64(data[at:], uint64(id))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadsRefuseCyclicPageTree: every read of a store whose page tree
// has a cycle reports the store damaged instead of going round for ever
// (it used to: only Check walked the tree), read-only or not.
func TestReadsRefuseCyclicPageTree(t *testing.T) {
	path := cyclicStore(t)
	ctx := context.Background()
	for _, readOnly := range []bool{true, false} {
		done := make(chan error, 1)
		go func() {
			db, err := Open(path, &Options{ReadOnly: readOnly, Retry: -1})
			if err != nil {
				done <- err
				return
			}
			defer db.Close()
			for _, read := range []func() error{
				func() error { _, err := db.Runs(ctx, RunFilter{}); return err },
				func() error { _, err := db.Run(ctx, 1); return err },
				func() error { _, err := db.Logs(ctx, 1, "load", 0); return err },
				func() error { _, err := db.Usage(ctx); return err },
				func() error { return db.Check(ctx) },
			} {
				if err := read(); !errors.Is(err, ErrDamaged) {
					done <- err
					return
				}
			}
			done <- ErrDamaged
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("read-only %v: got %v, want ErrDamaged from every read", readOnly, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("read-only %v: a read of a store with a cyclic page tree did not end", readOnly)
		}
	}
}
