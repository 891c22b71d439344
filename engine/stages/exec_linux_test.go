//go:build linux

package stages_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
)

// TestExecCancelLeavesNoProcess cancels a run whose command ignores
// SIGTERM and has started a grandchild in a session of its own (setsid),
// out of the command's process group. When the executor returns, both are
// gone: the group is killed after the SIGTERM grace, the executor waits
// for it, and the escaped grandchild, handed to sluice as subreaper, is
// killed and reaped. Before, sluice returned after 200 ms with both
// still running.
func TestExecCancelLeavesNoProcess(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/bin/setsid"); err != nil {
		t.Skip("no setsid")
	}
	script := `trap "" TERM; setsid sh -c '` + hostPID + ` > g.tmp; mv g.tmp grandchild; exec sleep 30' & while [ ! -s grandchild ]; do sleep 0.01; done; ` + hostPID + ` > pid; while :; do sleep 0.05; done`
	path := execPipeline(t, script, "", false)
	plan := mustPlan(t, path)
	dir := filepath.Dir(path)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range 6000 { // until the command and its grandchild run (a minute at most)
			if b, err := os.ReadFile(filepath.Join(dir, "pid")); err == nil && strings.HasSuffix(string(b), "\n") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	run, _ := execute(t, ctx, plan)
	if run.Status != engine.StatusCancelled {
		t.Errorf("run: got %s, want cancelled", run.Status)
	}
	for _, name := range []string{"pid", "grandchild"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid > 0 && alive(pid) {
			t.Errorf("%s %d is still alive when the run has returned", name, pid)
			_ = syscallKill(pid)
		}
	}
}

// TestExecLeavesNoBackgroundJob: a command that exits leaving a
// background job (in its group, or escaped with setsid) behind does not
// leave it running after the stage.
func TestExecLeavesNoBackgroundJob(t *testing.T) {
	t.Parallel()
	path := execPipeline(t, `sh -c '`+hostPID+` > j.tmp; mv j.tmp job; exec sleep 30' & setsid sh -c '`+hostPID+` > e.tmp; mv e.tmp escaped; exec sleep 30' & while [ ! -s job ] || [ ! -s escaped ]; do sleep 0.01; done`, "", false)
	run, _ := execute(t, context.Background(), mustPlan(t, path))
	if run.Status != engine.StatusSucceeded {
		t.Fatalf("run: got %s (%s)", run.Status, run.Error)
	}
	for _, name := range []string{"job", "escaped"} {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(path), name))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid > 0 && alive(pid) {
			t.Errorf("%s %d outlived the stage", name, pid)
			_ = syscallKill(pid)
		}
	}
}

// TestReadRefusesFIFO names a FIFO as a read_csv input: validation and the
// run refuse it at once instead of blocking in open(2).
func TestReadRefusesFIFO(t *testing.T) {
	t.Parallel()
	path := pipeline(t, "  - {id: load, uses: read_csv, with: {path: in.csv}}\n", nil)
	if err := syscall.Mkfifo(filepath.Join(filepath.Dir(path), "in.csv"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := engine.LoadPlan(path, stages.Registry(), nil)
		if err == nil {
			_, err = outputs(t, mustPlan(t, path))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("got %v, want a not-a-regular-file error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
}
