//go:build unix

package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestLoadSpecRefusesFIFOWithoutBlocking names a FIFO as the pipeline
// file: the old code blocked in open(2) forever.
func TestLoadSpecRefusesFIFOWithoutBlocking(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := engine.LoadSpec(path)
	if !errors.Is(err, engine.ErrNoFile) || !strings.Contains(err.Error(), "not a regular file (a FIFO)") {
		t.Fatalf("got %v, want a not-a-regular-file error", err)
	}
	dir := t.TempDir()
	if _, err := engine.LoadSpec(dir); err == nil || !strings.Contains(err.Error(), "a folder") {
		t.Fatalf("a folder: got %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, engine.MaxSpecBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.LoadSpec(big); err == nil || !strings.Contains(err.Error(), "file too large") {
		t.Fatalf("a large file: got %v", err)
	}
}

// TestReadRegularFileRefusesFIFO is the check predict's model file goes
// through: a FIFO is refused at once, not waited on.
func TestReadRegularFileRefusesFIFO(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := engine.ReadRegularFile(path, 0); !errors.Is(err, engine.ErrNotRegular) {
		t.Fatalf("got %v, want ErrNotRegular", err)
	}
}
