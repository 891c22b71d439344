package artifacts_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store/artifacts"
)

var _ engine.RefStore = (*artifacts.Dir)(nil)

func TestRefPutGet(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	name := sum([]byte("a stage fingerprint"))
	if _, err := d.GetRef(ctx, name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("GetRef of a missing ref: got %v, want fs.ErrNotExist", err)
	}
	k1, k2 := sum([]byte("one")), sum([]byte("two"))
	for _, k := range []string{k1, k2} {
		if err := d.PutRef(ctx, name, k); err != nil {
			t.Fatal(err)
		}
		got, err := d.GetRef(ctx, name)
		if err != nil || got != k {
			t.Fatalf("GetRef = %q, %v; want %q", got, err, k)
		}
	}
	// A short name (any length of hex digits) works too.
	if err := d.PutRef(ctx, "a", k1); err != nil {
		t.Fatal(err)
	}
	if got, err := d.GetRef(ctx, "a"); err != nil || got != k1 {
		t.Fatalf("GetRef(a) = %q, %v; want %q", got, err, k1)
	}
	// Refs are not blobs: List does not see them.
	err := d.List(ctx, func(key string, _ int64, _ time.Time) error {
		return fmt.Errorf("List gave %s; the store holds no blob", key)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRefBadNamesAndKeys(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	key := sum([]byte("x"))
	for _, name := range []string{"", "ABCDEF", "../etc", "0a/0b", "xyz", strings.Repeat("a", 129), "a\n"} {
		if err := d.PutRef(ctx, name, key); !errors.Is(err, artifacts.ErrBadRef) {
			t.Errorf("PutRef(%q): got %v, want ErrBadRef", name, err)
		}
		if _, err := d.GetRef(ctx, name); !errors.Is(err, artifacts.ErrBadRef) {
			t.Errorf("GetRef(%q): got %v, want ErrBadRef", name, err)
		}
	}
	for _, k := range []string{"", "abc", strings.ToUpper(key)} {
		if err := d.PutRef(ctx, "ab", k); !errors.Is(err, artifacts.ErrBadKey) {
			t.Errorf("PutRef to key %q: got %v, want ErrBadKey", k, err)
		}
	}
	// Nothing was written by the refused calls.
	if _, err := os.Stat(filepath.Join(d.Root(), "refs")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("refused PutRefs left a refs folder: %v", err)
	}
}

func TestRefDamagedFile(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	name := "abcd"
	if err := d.PutRef(ctx, name, sum([]byte("y"))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d.Root(), "refs", "ab", name)
	if err := os.WriteFile(p, []byte("not a key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetRef(ctx, name); !errors.Is(err, artifacts.ErrCorrupt) {
		t.Fatalf("GetRef of a damaged ref: got %v, want ErrCorrupt", err)
	}
}

// TestRefConcurrent has many writers point one ref at different keys
// while readers read it: a reader always sees one whole key that some
// writer wrote, and no temporary file is left.
func TestRefConcurrent(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	name := sum([]byte("shared fingerprint"))
	keys := map[string]bool{}
	for i := range 8 {
		keys[sum([]byte{byte(i)})] = true
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for k := range keys {
		wg.Go(func() {
			for range 20 {
				if err := d.PutRef(ctx, name, k); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 50 {
				got, err := d.GetRef(ctx, name)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if !keys[got] {
					errs <- fmt.Errorf("read key %q that no writer wrote", got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, _, err := d.RemoveTemp(ctx, time.Now().Add(time.Hour), true)
	if err != nil || n != 0 {
		t.Fatalf("temporary files left: %d, %v", n, err)
	}
}
