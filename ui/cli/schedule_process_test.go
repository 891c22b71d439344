package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestTwoSchedulerProcessesAndSIGTERM: two `sluice schedule` processes on
// one store start a slow pipeline once between them (its next intervals
// come due while it runs and are skipped), and SIGTERM stops both,
// leaving the run recorded as cancelled.
func TestTwoSchedulerProcessesAndSIGTERM(t *testing.T) {
	bin := binary(t)
	dir, db := sampleDir(t)
	slow := filepath.Join(dir, "slow.yaml")
	spec := "name: slow\nschedule: \"@every 1s\"\noverlap: skip\nstages:\n  - id: wait\n    uses: exec\n    with: {command: [sleep, \"30\"]}\n"
	if err := os.WriteFile(slow, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	var procs []*exec.Cmd
	for range 2 {
		cmd := exec.Command(bin, "--db", db, "schedule", "slow.yaml", "--poll", "100ms")
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	defer func() {
		for _, p := range procs {
			p.Process.Kill()
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows := listRuns(t, bin, dir, db)
		if len(rows) > 0 && rows[0].Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled run started: %+v", rows)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Several more intervals come due while the run sleeps.
	time.Sleep(2500 * time.Millisecond)
	rows := listRuns(t, bin, dir, db)
	if len(rows) != 1 {
		t.Fatalf("%d runs, want the one run: every later interval overlaps it and is skipped: %+v", len(rows), rows)
	}
	for _, p := range procs {
		if err := p.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range procs {
		done := make(chan error, 1)
		go func() { done <- p.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("scheduler %d exited with %v, want status 0 on SIGTERM", i, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("scheduler %d did not stop on SIGTERM", i)
		}
	}
	rows = listRuns(t, bin, dir, db)
	if len(rows) != 1 || rows[0].Status != "cancelled" {
		t.Errorf("after SIGTERM: %+v, want the one run cancelled", rows)
	}
}
