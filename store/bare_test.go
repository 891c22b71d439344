package store_test

import (
	"context"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/store"
)

// TestOpenFinishesABareFile: a process killed after bbolt set its file up
// but before the store's first transaction leaves a bbolt file with no
// bucket; the next writable open makes it a store instead of refusing it.
func TestOpenFinishesABareFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	b, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatalf("open a bare bbolt file: %v", err)
	}
	defer db.Close()
	if _, err := db.Runs(context.Background(), store.RunFilter{}); err != nil {
		t.Fatalf("runs of the finished store: %v", err)
	}
	if err := db.Check(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}
}
