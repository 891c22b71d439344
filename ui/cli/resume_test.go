package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// TestKilledRunResumes kills a sluice process (SIGKILL) while one stage
// still runs and the others have finished, then runs the pipeline
// again: every stage that finished is cached from the killed run (which
// the store marks interrupted), the command runs again (it always does),
// and the resumed run's cached model exports.
func TestKilledRunResumes(t *testing.T) {
	bin := binary(t)
	c := newCacheCase(t)
	c.write("p.yaml", `name: resume
seed: 3
stages:
  - id: load
    uses: read_csv
    with: {path: data.csv}
  - id: split
    uses: split
    with: {target: species, stratify: true}
  - id: model
    uses: logistic_regression
  - id: score
    uses: evaluate
  - id: wait
    uses: exec
    needs: [load]
    with: {command: [sh, -c, "test -f done || { touch done; i=0; while [ $i -lt 300 ] && [ ! -f stop ]; do sleep 0.1; i=$((i+1)); done; }"]}
`)
	show := func(id string) *engine.Run {
		t.Helper()
		out, err := exec.Command(bin, "--db", c.db, "show", id, "--json").Output()
		if err != nil {
			return nil
		}
		var r engine.Run
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("show --json: %v\n%s", err, out)
		}
		return &r
	}
	cmd := exec.Command(bin, "--db", c.db, "run", c.path("p.yaml"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := show("1")
		if r != nil {
			s, _ := r.Stage("score")
			w, _ := r.Stage("wait")
			if s.Status == engine.StatusSucceeded && w.Status == engine.StatusRunning {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the run never reached score done and wait running: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// Whether or not the waiting command died with sluice, it stops now.
	c.write("stop", "")
	if _, err := os.Stat(c.path("done")); err != nil {
		t.Fatalf("the command never started: %v", err)
	}

	out, err := exec.Command(bin, "--db", c.db, "run", c.path("p.yaml"), "--json").Output()
	if err != nil {
		t.Fatalf("run again: %v\n%s", err, out)
	}
	var again runDoc
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	if again.Status != "succeeded" {
		t.Errorf("the resumed run: %s", again.Status)
	}
	for _, s := range again.Stages {
		want, reason := "cached", "cached from run 1"
		if s.ID == "wait" {
			want, reason = "succeeded", "always runs: exec"
		}
		if s.Status != want || len(s.Reason) < len(reason) || s.Reason[:len(reason)] != reason {
			t.Errorf("resumed stage %s: got %s (%s), want %s (%s…)", s.ID, s.Status, s.Reason, want, reason)
		}
	}
	if r := show("1"); r == nil || r.Status != engine.StatusInterrupted {
		t.Errorf("the killed run: %+v, want it interrupted", r)
	}
	export := exec.Command(bin, "--db", c.db, "export", "2", "-o", "m.json")
	export.Dir = c.dir
	if out, err := export.CombinedOutput(); err != nil {
		t.Errorf("export of the resumed run's cached model: %v\n%s", err, out)
	}
}
