//go:build linux

package cli

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// killPipeline runs an exec command (a direct child: sleep with a marker
// duration), feeds it a table so exec writes its input scratch folder,
// and writes CSV and JSONL files, so a kill can land in a child, in a
// scratch file or in an atomic write.
const killPipeline = `name: killed
seed: 1
stages:
  - {id: load, uses: read_csv, with: {path: sample-data/digits.csv}}
  - {id: wait, uses: exec, needs: [load], with: {command: [sleep, "0.417"]}}
  - {id: fill, uses: fillna, needs: [wait], with: {value: 0}}
  - {id: csv, uses: write_csv, needs: [fill], with: {path: out/digits.csv}}
  - {id: jsonl, uses: write_jsonl, needs: [fill], with: {path: out/digits.jsonl}}
  - {id: more, uses: exec, needs: [csv], with: {command: [sleep, "0.417"]}}
`

// markedChildren returns the pids of the pipeline's exec children still
// alive, found by their command line. A zombie, or a process with SIGKILL
// pending (the parent-death signal was delivered; a loaded machine has not
// yet scheduled its exit), is not alive: it can run no more code.
// Only children of this test's runs count: their environment holds the
// test's own TMPDIR (another test process on the machine runs the same
// pipeline, and its children are alive for good reason).
func markedChildren(t *testing.T, tmp string) []string {
	t.Helper()
	var pids []string
	mark := []byte("TMPDIR=" + tmp + "\x00")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Equal(cmdline, []byte("sleep\x000.417\x00")) {
			continue
		}
		environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, environ...), append([]byte{0}, mark...)) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		if killPending(filepath.Join("/proc", e.Name(), "status")) {
			continue
		}
		pids = append(pids, e.Name())
	}
	return pids
}

// killPending reports whether the process whose /proc status file is
// given has SIGKILL pending, for its thread or its whole thread group.
func killPending(status string) bool {
	b, err := os.ReadFile(status)
	if err != nil {
		return true // gone
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "SigPnd" && name != "ShdPnd") {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
		if err == nil && mask&(1<<(uint(syscall.SIGKILL)-1)) != 0 {
			return true
		}
	}
	return false
}

// TestSIGKILLAtRandomMoments is the reliability trial: `sluice run` is
// killed with SIGKILL at 20 random moments of a run that starts child
// processes and writes files. After each kill: every run that finished is
// intact (show reads it back, succeeded), the killed one is interrupted,
// no exec child is alive; after the next run no temporary file of a
// killed process is left, in the output folder or in the temp folder.
func TestSIGKILLAtRandomMoments(t *testing.T) {
	bin := binary(t)
	dir, db := sampleDir(t)
	if err := os.WriteFile(filepath.Join(dir, "kill.yaml"), []byte(killPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	env := append(os.Environ(), "TMPDIR="+tmp)
	rng := rand.New(rand.NewPCG(11, 20))
	sluiceCmd := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"--db", db}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		return cmd
	}
	killed, recorded := 0, 0
	for i := range 20 {
		after := time.Duration(rng.IntN(1500)) * time.Millisecond
		cmd := sluiceCmd("run", "kill.yaml", "--no-cache")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		finished := err == nil
		if !finished {
			killed++
		}
		// The parent-death signal reaches the children as the kernel reaps
		// sluice; give it a moment on a loaded machine.
		deadline := time.Now().Add(2 * time.Second)
		for len(markedChildren(t, tmp)) > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if left := markedChildren(t, tmp); len(left) > 0 {
			t.Errorf("kill %d at %s: exec children %v still alive", i+1, after, left)
			for _, p := range left {
				if pid := atoiOr(p); pid > 0 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		// A kill before the run is recorded (while the file is read and
		// checked) leaves no run; otherwise the run is the newest one.
		rows := listRuns(t, bin, dir, db)
		switch {
		case finished && len(rows) != recorded+1:
			t.Fatalf("kill %d: the run finished but %d runs are recorded, want %d", i+1, len(rows), recorded+1)
		case len(rows) != recorded && len(rows) != recorded+1:
			t.Fatalf("kill %d: %d runs recorded, want %d or %d", i+1, len(rows), recorded, recorded+1)
		}
		current := int64(0)
		if len(rows) == recorded+1 {
			current = int64(len(rows))
		}
		recorded = len(rows)
		for _, r := range rows {
			// A run is either finished and recorded as succeeded (a kill
			// can land after the final record, while the process exits)
			// or interrupted; never left running or half-recorded.
			if r.Status != "interrupted" && r.Status != "succeeded" {
				t.Errorf("kill %d at %s: run %d is %s, want interrupted or succeeded", i+1, after, r.Run, r.Status)
			}
			if r.Run == current && finished && r.Status != "succeeded" {
				t.Errorf("kill %d at %s: run %d exited 0 but is %s", i+1, after, r.Run, r.Status)
			}
			if r.Status == "succeeded" {
				if out, err := sluiceCmd("show", itoa(r.Run), "--json").CombinedOutput(); err != nil {
					t.Errorf("show %d: %v\n%s", r.Run, err, out)
				}
			}
		}
	}
	t.Logf("%d of 20 runs killed before they finished", killed)
	if out, err := sluiceCmd("run", "kill.yaml", "--no-cache").CombinedOutput(); err != nil {
		t.Fatalf("a run after the kills: %v\n%s", err, out)
	}
	for _, folder := range []string{filepath.Join(dir, "out"), tmp} {
		entries, _ := os.ReadDir(folder)
		for _, e := range entries {
			if _, ok := engine.TempOwner(e.Name()); ok || strings.HasPrefix(e.Name(), "sluice-exec-") {
				t.Errorf("%s left in %s", e.Name(), folder)
			}
		}
	}
}

func atoiOr(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
