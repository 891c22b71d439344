package engine_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestCleanStaleTempsRemovesOnlyDeadWriters leaves temporary files as a
// SIGKILLed sluice would (".out.csv.tmp-PID-…" of a process that is gone),
// beside one of a live process and files that only look similar: only the
// dead writer's go.
func TestCleanStaleTempsRemovesOnlyDeadWriters(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no process check")
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	deadPID := strconv.Itoa(dead.ProcessState.Pid())
	live := strconv.Itoa(os.Getpid())
	dir := t.TempDir()
	names := map[string]bool{ // name → removed
		".out.csv.tmp-" + deadPID + "-123":   true,
		".out.csv.tmp-" + deadPID + "-9.csv": true,
		".out.csv.tmp-" + live + "-456":      false,
		"out.csv":                            false,
		".out.csv.tmp-notapid-1":             false,
		"notes.tmp-" + deadPID + "-1":        false,
		".hidden":                            false,
	}
	for name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scratch := filepath.Join(os.TempDir(), engine.ExecScratchPrefix+deadPID+"-test")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(scratch)
	engine.CleanStaleTemps([]string{dir})
	for name, removed := range names {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed %v, want %v", name, gone, removed)
		}
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("the exec scratch folder of a dead process is still there: %v", err)
	}
}
