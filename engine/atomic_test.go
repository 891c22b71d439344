package engine_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestWriteFileAtomic: the bytes land whole with mode 0644; a write that
// fails or panics leaves the old file as it was and no temporary file; a
// missing folder is an error (WriteBytesAtomic makes it, WriteFileAtomic
// does not).
func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	want := strings.Repeat("a,b\n1,2\n", 300_000) // over the 1 MiB buffer
	if err := engine.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, want)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != want {
		t.Errorf("got %d bytes, want the %d written", len(b), len(want))
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode: got %v, want 0644", st.Mode().Perm())
	}
	before, _ := os.ReadFile(path)
	boom := errors.New("boom")
	err := engine.WriteFileAtomic(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, "half a file"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want boom", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the writer's panic did not reach the caller")
			}
		}()
		_ = engine.WriteFileAtomic(path, func(w io.Writer) error { panic("crash") })
	}()
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("failed write changed the file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := engine.WriteFileAtomic(filepath.Join(dir, "no", "such", "dir.csv"), func(io.Writer) error { return nil }); err == nil {
		t.Errorf("missing directory: got no error")
	}
}

// TestWriteBytesAtomic: the folder is made, the bytes land whole, an
// existing file's mode is kept, and a failed write leaves no file.
func TestWriteBytesAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "p.yaml")
	if err := engine.WriteBytesAtomic(path, []byte("name: p\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := engine.WriteBytesAtomic(path, []byte("name: q\n")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(b) != "name: q\n" || st.Mode().Perm() != 0o600 {
		t.Errorf("got %q mode %v, want the new bytes and mode 0600", b, st.Mode().Perm())
	}
	blocked := filepath.Join(path, "under-a-file.yaml")
	if err := engine.WriteBytesAtomic(blocked, []byte("x")); err == nil {
		t.Error("a path under a file: no error")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only p.yaml", len(entries))
	}
}

// TestTempOwner: the names WriteFileAtomic gives its temporary files name
// their writer; other names, and malformed ones, do not.
func TestTempOwner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var seen string
	err := engine.WriteFileAtomic(filepath.Join(dir, "out.csv"), func(io.Writer) error {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 {
			return errors.New("want the one temporary file while writing")
		}
		seen = entries[0].Name()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pid, ok := engine.TempOwner(seen); !ok || pid != os.Getpid() {
		t.Errorf("TempOwner(%q) = %d, %v; want this process, %d", seen, pid, ok, os.Getpid())
	}
	for _, name := range []string{"out.csv", ".out.csv", ".out.csv.tmp-", ".out.csv.tmp-x-1", ".out.csv.tmp-0-1", "out.csv.tmp-12-1", ".x.tmp-12"} {
		if pid, ok := engine.TempOwner(name); ok {
			t.Errorf("TempOwner(%q) = %d, true; want not a temporary file", name, pid)
		}
	}
}
