package engine_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestWriteFileAtomic: the folder is made, the bytes land whole, an
// existing file's mode is kept, and a failed write leaves no file.
func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "p.yaml")
	if err := engine.WriteFileAtomic(path, []byte("name: p\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := engine.WriteFileAtomic(path, []byte("name: q\n")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(b) != "name: q\n" || st.Mode().Perm() != 0o600 {
		t.Errorf("got %q mode %v, want the new bytes and mode 0600", b, st.Mode().Perm())
	}
	blocked := filepath.Join(path, "under-a-file.yaml")
	if err := engine.WriteFileAtomic(blocked, []byte("x")); err == nil {
		t.Error("a path under a file: no error")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only p.yaml", len(entries))
	}
}
