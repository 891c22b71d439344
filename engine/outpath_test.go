package engine_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestOutputPathConfinesWrites pins the one write policy: under the base
// folder, with symbolic links followed, unless allowed outside.
func TestOutputPathConfinesWrites(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(base, "link")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if err := os.Symlink(filepath.Join(outside, "gone"), filepath.Join(base, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(base, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("in", filepath.Join(base, "inlink")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value string
		ok    bool
	}{
		{"x.csv", true},
		{"out/new/x.csv", true},
		{"in/x.csv", true},
		{"inlink/x.csv", true},
		{"in/../x.csv", true},
		{filepath.Join(base, "abs.csv"), true},
		{"../escape.csv", false},
		{"in/../../escape.csv", false},
		{filepath.Join(outside, "x.csv"), false},
		{"/var/data/x.csv", false},
		{"link/x.csv", false},
		{"link/deeper/x.csv", false},
		{"dangling", false},
	}
	for _, tt := range tests {
		got, err := engine.OutputPath(base, tt.value, false)
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: got %v, want it allowed", tt.value, err)
		case !tt.ok && !errors.Is(err, engine.ErrOutside):
			t.Errorf("%s: got %q, %v, want ErrOutside", tt.value, got, err)
		}
		if _, err := engine.OutputPath(base, tt.value, true); err != nil {
			t.Errorf("%s with allow_outside: %v", tt.value, err)
		}
	}
}

// TestWriteOutputCannotBeRedirectedMidWrite swaps the output's folder for
// a symbolic link pointing out of the pipeline's folder while the file is
// being written, after the write policy's check passed: the write goes
// through an os.Root on the folder, so the rename that would land outside
// is refused and nothing is written there. With plain paths it landed in
// the link's target.
func TestWriteOutputCannotBeRedirectedMidWrite(t *testing.T) {
	base, outside := t.TempDir(), t.TempDir()
	sub := filepath.Join(base, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := engine.WriteOutput(base, "sub/out.csv", false, func(w io.Writer) error {
		if err := os.Rename(sub, sub+".old"); err != nil {
			return err
		}
		if err := os.Symlink(outside, sub); err != nil {
			return err
		}
		_, err := io.WriteString(w, "a\n1\n")
		return err
	})
	if !errors.Is(err, engine.ErrOutside) {
		t.Errorf("write through a folder swapped for a link: got %v, want ErrOutside", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) > 0 {
		t.Errorf("the write reached the link's target: %v", entries)
	}
	// The same write with the folder in place writes the file.
	if err := os.Remove(sub); err != nil {
		t.Fatal(err)
	}
	path, err := engine.WriteOutput(base, "sub/out.csv", false, func(w io.Writer) error {
		_, err := io.WriteString(w, "a\n1\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "a\n1\n" || path != filepath.Join(base, "sub", "out.csv") {
		t.Errorf("wrote %s: %q, %v", path, b, err)
	}
}

// TestRenameOutputCannotBeRedirected: exec's scratch file is renamed over
// the output under the same policy, so a folder that is a link pointing
// out by the time the command has written its scratch file does not take
// the output out.
func TestRenameOutputCannotBeRedirected(t *testing.T) {
	base, outside := t.TempDir(), t.TempDir()
	sub := filepath.Join(base, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(sub, ".out.csv.tmp-1-2.csv")
	if err := os.WriteFile(filepath.Join(outside, filepath.Base(scratch)), []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(sub); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, sub); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.RenameOutput(base, "sub/out.csv", false, scratch); !errors.Is(err, engine.ErrOutside) {
		t.Errorf("rename through a folder swapped for a link: got %v, want ErrOutside", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "out.csv")); err == nil {
		t.Error("the rename reached the link's target")
	}
}
