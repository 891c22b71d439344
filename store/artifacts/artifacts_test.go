package artifacts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
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

var _ engine.ArtifactStore = (*artifacts.Dir)(nil)

func mustOpen(t *testing.T) *artifacts.Dir {
	t.Helper()
	d, err := artifacts.Open(filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestPutGetRoundTrip(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"small", []byte("hello, artifacts")},
		{"large", bytes.Repeat([]byte("0123456789abcdef"), 1<<16)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key, n, err := d.Put(ctx, bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if key != sum(tt.data) || n != int64(len(tt.data)) {
				t.Fatalf("got key %s size %d, want %s size %d", key, n, sum(tt.data), len(tt.data))
			}
			got, err := engine.ReadArtifact(ctx, d, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Fatalf("read %d bytes, want the %d put", len(got), len(tt.data))
			}
			if ok, err := d.Has(ctx, key); err != nil || !ok {
				t.Fatalf("Has = %v, %v; want true", ok, err)
			}
			if size, err := d.Size(ctx, key); err != nil || size != n {
				t.Fatalf("Size = %d, %v; want %d", size, err, n)
			}
		})
	}
}

func TestMissingAndBadKeys(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	missing := sum([]byte("never stored"))
	if _, err := d.Get(ctx, missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of a missing key: got %v, want fs.ErrNotExist", err)
	}
	if _, err := d.Size(ctx, missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Size of a missing key: got %v, want fs.ErrNotExist", err)
	}
	if ok, err := d.Has(ctx, missing); ok || err != nil {
		t.Errorf("Has of a missing key = %v, %v; want false, nil", ok, err)
	}
	if err := d.Delete(ctx, missing); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil", err)
	}
	for _, key := range []string{"", "abc", "../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("g", 64)} {
		if _, err := d.Get(ctx, key); !errors.Is(err, artifacts.ErrBadKey) {
			t.Errorf("Get(%q): got %v, want ErrBadKey", key, err)
		}
		if err := d.Delete(ctx, key); !errors.Is(err, artifacts.ErrBadKey) {
			t.Errorf("Delete(%q): got %v, want ErrBadKey", key, err)
		}
	}
}

// TestCorruptNeverTrusted damages a stored blob in the ways a crash or a
// disk can (cut short, a byte flipped, emptied) and checks that reading
// it fails instead of handing back the damaged bytes.
func TestCorruptNeverTrusted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := bytes.Repeat([]byte("sluice"), 10000)
	for _, tt := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"flipped", func(b []byte) []byte { c := bytes.Clone(b); c[len(c)/3] ^= 1; return c }},
		{"empty", func([]byte) []byte { return nil }},
		{"extended", func(b []byte) []byte { return append(bytes.Clone(b), 'x') }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := mustOpen(t)
			key, _, err := d.Put(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(d.Root(), "sha256", key[:2], key)
			if err := os.WriteFile(p, tt.damage(data), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := engine.ReadArtifact(ctx, d, key); !errors.Is(err, artifacts.ErrCorrupt) {
				t.Fatalf("read of a %s blob: got %v, want ErrCorrupt", tt.name, err)
			}
			// Putting the content again repairs a blob of the wrong size.
			if tt.name != "flipped" {
				if _, _, err := d.Put(ctx, bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
				if _, err := engine.ReadArtifact(ctx, d, key); err != nil {
					t.Fatalf("after a new Put: %v", err)
				}
			}
		})
	}
}

// TestTempFilesAreNotBlobs leaves what a writer killed mid-Put would
// leave and checks that List does not show it and RemoveTemp clears it
// once it is older than the cutoff.
func TestTempFilesAreNotBlobs(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	half := filepath.Join(d.Root(), ".tmp-123456")
	if err := os.WriteFile(half, []byte("half a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, _, err := d.Put(ctx, strings.NewReader("whole"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := d.List(ctx, func(k string, _ int64, _ time.Time) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != key {
		t.Fatalf("List = %v, want [%s]", keys, key)
	}
	if n, _, err := d.RemoveTemp(ctx, time.Now().Add(-time.Hour), false); err != nil || n != 0 {
		t.Fatalf("RemoveTemp with an old cutoff removed %d (%v), want 0: the file may be a write in progress", n, err)
	}
	n, size, err := d.RemoveTemp(ctx, time.Now().Add(time.Second), false)
	if err != nil || n != 1 || size != int64(len("half a blob")) {
		t.Fatalf("RemoveTemp = %d files, %d bytes, %v; want 1, %d, nil", n, size, err, len("half a blob"))
	}
	if _, err := os.Stat(half); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary file still there: %v", err)
	}
	if ok, _ := d.Has(ctx, key); !ok {
		t.Fatal("RemoveTemp removed a blob")
	}
}

func TestDeleteBefore(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	key, n, err := d.Put(ctx, strings.NewReader("old output"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d.Root(), "sha256", key[:2], key)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(-time.Minute)
	// A Put of the same content refreshes it: the collector must keep it.
	if _, _, err := d.Put(ctx, strings.NewReader("old output")); err != nil {
		t.Fatal(err)
	}
	if gone, _, err := d.DeleteBefore(ctx, key, cutoff); err != nil || gone {
		t.Fatalf("DeleteBefore of a refreshed blob = %v, %v; want kept", gone, err)
	}
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	gone, freed, err := d.DeleteBefore(ctx, key, cutoff)
	if err != nil || !gone || freed != n {
		t.Fatalf("DeleteBefore = %v, %d, %v; want true, %d, nil", gone, freed, err, n)
	}
	if gone, _, err := d.DeleteBefore(ctx, key, cutoff); err != nil || gone {
		t.Fatalf("DeleteBefore of a missing blob = %v, %v; want false, nil", gone, err)
	}
}

// TestConcurrentPutAndCollect races writers putting the same content
// against a collector deleting it with a cutoff before the writers
// began: every Put that returned must leave a readable blob.
func TestConcurrentPutAndCollect(t *testing.T) {
	t.Parallel()
	d := mustOpen(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("race"), 4096)
	key, _, err := d.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 50; round++ {
		p := filepath.Join(d.Root(), "sha256", key[:2], key)
		old := time.Now().Add(-time.Hour)
		_ = os.Chtimes(p, old, old)
		cutoff := time.Now().Add(-time.Minute)
		var wg sync.WaitGroup
		wg.Add(2)
		errs := make(chan error, 2)
		go func() {
			defer wg.Done()
			if _, _, err := d.Put(ctx, bytes.NewReader(data)); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, _, err := d.DeleteBefore(ctx, key, cutoff); err != nil {
				errs <- err
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rc, err := d.Get(ctx, key)
		if err != nil {
			t.Fatalf("round %d: the blob a Put just returned is gone: %v", round, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round %d: read %d bytes, %v", round, len(got), err)
		}
	}
}
