package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds sluice once for the tests that need a real process.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sluice")
		out, err := exec.Command("go", "build", "-o", binPath, "../..").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

type runRow struct {
	Run    int64  `json:"run"`
	Status string `json:"status"`
}

func listRuns(t *testing.T, bin, dir, db string) []runRow {
	t.Helper()
	cmd := exec.Command(bin, "--db", db, "runs", "--json")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("runs: %v", err)
	}
	var rows []runRow
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("runs --json: %v\n%s", err, out)
	}
	return rows
}

func TestKilledRunIsMarkedInterruptedAndEarlierRunsSurvive(t *testing.T) {
	bin := binary(t)
	dir, db := sampleDir(t)
	for i := 0; i < 2; i++ {
		cmd := exec.Command(bin, "--db", db, "run", "sample-data/iris.yaml")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
	}
	slow := filepath.Join(dir, "slow.yaml")
	mustWriteFile(t, slow, []byte("name: slow\nstages:\n  - id: wait\n    uses: exec\n    with: {command: [sleep, \"30\"]}\n"))
	cmd := exec.Command(bin, "--db", db, "run", slow)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := listRuns(t, bin, dir, db)
		if len(rows) == 3 && rows[0].Status == "running" {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the slow run never showed as running: %+v", rows)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	rows := listRuns(t, bin, dir, db)
	want := map[int64]string{1: "succeeded", 2: "succeeded", 3: "interrupted"}
	if len(rows) != 3 {
		t.Fatalf("got %d runs, want 3: %+v", len(rows), rows)
	}
	for _, r := range rows {
		if want[r.Run] != r.Status {
			t.Errorf("run %d: got %s, want %s", r.Run, r.Status, want[r.Run])
		}
	}
	show := exec.Command(bin, "--db", db, "show", "1")
	show.Dir = dir
	if out, err := show.CombinedOutput(); err != nil {
		t.Errorf("an earlier run does not read back after the kill: %v\n%s", err, out)
	}
}

func TestTwoProcessesShareOneStore(t *testing.T) {
	bin := binary(t)
	dir, db := sampleDir(t)
	slow := filepath.Join(dir, "slow.yaml")
	mustWriteFile(t, slow, []byte("name: slow\nstages:\n  - id: wait\n    uses: exec\n    with: {command: [sh, -c, 'for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 0.1; done']}\n"))
	other := exec.Command(bin, "--db", db, "run", slow)
	other.Dir = dir
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	// Meanwhile this process runs and reads.
	for i := 0; i < 3; i++ {
		if _, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/iris.yaml"); code != 0 {
			t.Fatalf("run in this process: %s", stderr)
		}
		if _, stderr, code := sluice(t, dir, "--db", db, "runs"); code != 0 {
			t.Fatalf("runs in this process: %s", stderr)
		}
	}
	done := make(chan error, 1)
	go func() { done <- other.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the other process failed: %v", err)
		}
	case <-time.After(20 * time.Second):
		other.Process.Kill()
		t.Fatal("the other process hung on the shared store")
	}
	rows := listRuns(t, bin, dir, db)
	seen := map[int64]bool{}
	for _, r := range rows {
		if seen[r.Run] {
			t.Errorf("run number %d given twice", r.Run)
		}
		seen[r.Run] = true
		if r.Status != "succeeded" {
			t.Errorf("run %d: %s", r.Run, r.Status)
		}
	}
	if len(rows) != 4 {
		t.Errorf("got %d runs, want 4", len(rows))
	}
}
