package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/store"
)

// forestPipeline is long enough (a few hundred milliseconds to seconds)
// to be killed or collected while it writes its artifacts.
const forestPipeline = `name: digits_forest
seed: 3
stages:
  - id: load
    uses: read_csv
    with: {path: sample-data/digits.csv}
  - id: split
    uses: split
    with: {target: label, test_size: 0.25, stratify: true}
  - id: model
    uses: random_forest_classifier
    with: {n_estimators: 60}
  - id: score
    uses: evaluate
`

// checkArtifacts reads every blob in the store's artifact folder and
// fails the test if one does not hash to its name.
func checkArtifacts(t *testing.T, db string) int {
	t.Helper()
	n := 0
	root := filepath.Join(store.ArtifactsDir(db), "sha256")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(d.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != d.Name() {
			t.Errorf("artifact %s holds bytes hashing to %x: corrupt", d.Name(), sum)
		}
		n++
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return n
}

func digitsLabel(t *testing.T, dir string) {
	t.Helper()
	// The sample's target column is named label or target; use what it has.
	b, err := os.ReadFile(filepath.Join(dir, "sample-data", "digits.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(b), "\n")
	cols := strings.Split(header, ",")
	target := cols[len(cols)-1]
	if err := os.WriteFile(filepath.Join(dir, "forest.yaml"), []byte(strings.Replace(forestPipeline, "target: label", "target: "+target, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSIGKILLThenGCAndRerun kills `sluice run` at several moments of a
// forest pipeline, runs gc, and reruns: no blob in the artifact store is
// ever corrupt, gc succeeds after each kill, and the rerun succeeds and
// its model predicts.
func TestSIGKILLThenGCAndRerun(t *testing.T) {
	bin := binary(t)
	dir, db := sampleDir(t)
	digitsLabel(t, dir)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"--db", db}, args...)...)
		cmd.Dir = dir
		var errb strings.Builder
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			return string(out) + errb.String(), err
		}
		return string(out), nil
	}
	for _, after := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond} {
		cmd := exec.Command(bin, "--db", db, "run", "forest.yaml", "--no-cache")
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		checkArtifacts(t, db)
		if out, err := run("gc"); err != nil {
			t.Fatalf("gc after a kill at %s: %v\n%s", after, err, out)
		}
		checkArtifacts(t, db)
	}
	out, err := run("run", "forest.yaml", "--json")
	if err != nil {
		t.Fatalf("rerun after kills: %v\n%s", err, out)
	}
	var doc struct{ Status string }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Status != "succeeded" {
		t.Fatalf("rerun: %v %s", err, out)
	}
	if out, err := run("export", "latest", "-o", "forest.model"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if out, err := run("predict", "forest.model", "sample-data/digits.csv", "-o", "pred.csv"); err != nil {
		t.Fatalf("predict: %v\n%s", err, out)
	}
	if n := checkArtifacts(t, db); n == 0 {
		t.Fatal("no artifacts kept")
	}
}

// TestGCBesideARunningPipeline runs gc over and over in one process
// while another runs a pipeline on the same store: the run succeeds,
// keeps every artifact it refers to whole, and reruns entirely from the
// cache (which reads and verifies each of them).
func TestGCBesideARunningPipeline(t *testing.T) {
	bin := binary(t)
	dir, db := sampleDir(t)
	digitsLabel(t, dir)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"--db", db}, args...)...)
		cmd.Dir = dir
		var errb strings.Builder
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			return string(out) + errb.String(), err
		}
		return string(out), nil
	}
	// Something for gc to collect: a run in the trash.
	if out, err := run("run", "sample-data/iris.yaml"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := run("runs", "rm", "1"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	pipeline := exec.Command(bin, "--db", db, "run", "forest.yaml", "--json")
	pipeline.Dir = dir
	var stdout strings.Builder
	pipeline.Stdout = &stdout
	if err := pipeline.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pipeline.Wait() }()
	collections := 0
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the pipeline beside gc: %v\n%s", err, stdout.String())
			}
			running = false
		default:
			if out, err := run("gc"); err != nil {
				t.Fatalf("gc beside a running pipeline: %v\n%s", err, out)
			}
			collections++
		}
	}
	if collections == 0 {
		t.Log("the pipeline finished before gc ran once")
	}
	if out, err := run("gc"); err != nil {
		t.Fatalf("gc: %v\n%s", err, out)
	}
	checkArtifacts(t, db)
	out, err := run("run", "forest.yaml", "--json")
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	var doc struct {
		Stages []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Stages {
		if s.Status != "cached" {
			t.Errorf("stage %s after gc ran beside its run: %s, want cached (an artifact it kept is missing or damaged)", s.ID, s.Status)
		}
	}
	t.Logf("gc ran %d times beside the pipeline", collections)
}
