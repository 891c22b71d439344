//go:build linux

package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine/stages"
)

// grandchildPipeline's command starts a grandchild in a session of its own
// (setsid, out of the command's process group) and waits; each is marked
// by its sleep's duration.
const grandchildPipeline = `name: escapes
stages:
  - id: cmd
    uses: exec
    with: {command: [sh, -c, "setsid sleep 31.713 & exec sleep 31.714"]}
`

// processesRunning returns the pids of live processes whose command line
// is exactly argv (not zombies, not with SIGKILL pending).
func processesRunning(argv ...string) []int {
	want := []byte{}
	for _, a := range argv {
		want = append(append(want, a...), 0)
	}
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Equal(cmdline, want) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		if killPending(filepath.Join("/proc", e.Name(), "status")) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// TestSIGKILLLeavesNoGrandchild kills sluice with SIGKILL while its exec
// command runs with a setsid grandchild. The command dies by its
// parent-death signal; the grandchild, which has none and left the
// command's group, dies because the command was the first process of its
// own PID namespace. Where namespaces cannot be made the grandchild
// survives (the README says so) and the test skips.
func TestSIGKILLLeavesNoGrandchild(t *testing.T) {
	bin := binary(t)
	if !stages.ExecIsolated() {
		t.Skip("no PID namespaces for exec commands here: a setsid grandchild outlives a SIGKILL of sluice")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "escapes.yaml"), []byte(grandchildPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--db", filepath.Join(dir, "sluice.db"), "run", "escapes.yaml")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child, grandchild := []string{"sleep", "31.714"}, []string{"sleep", "31.713"}
	defer func() {
		for _, argv := range [][]string{child, grandchild} {
			for _, pid := range processesRunning(argv...) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for len(processesRunning(child...)) == 0 || len(processesRunning(grandchild...)) == 0 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatal("the command and its grandchild did not start within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	// The kernel kills the namespace as it reaps the command; give a
	// loaded machine a moment.
	deadline = time.Now().Add(5 * time.Second)
	for {
		c, g := processesRunning(child...), processesRunning(grandchild...)
		if len(c) == 0 && len(g) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGKILL of sluice: command %v, setsid grandchild %v still alive", c, g)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
