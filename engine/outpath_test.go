package engine_test

import (
	"errors"
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
