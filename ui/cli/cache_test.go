package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/store/artifacts"
)

// cachePipeline reads a CSV, keeps a copy on a branch of its own (a
// stage with a side effect), splits, scales, fits and scores: every kind
// of stage the cache treats differently.
const cachePipeline = `name: cachecase
seed: 7
stages:
  - id: load
    uses: read_csv
    with: {path: data.csv}
  - id: keep
    uses: write_csv
    with: {path: out/clean.csv}
  - id: split
    uses: split
    needs: [load]
    with: {target: species, test_size: 0.25, stratify: true}
  - id: scale
    uses: standard_scaler
  - id: model
    uses: logistic_regression
    with: {C: 1.0, max_iter: 200}
  - id: score
    uses: evaluate
`

// cacheCase is a folder holding the pipeline, its data and a store.
type cacheCase struct {
	t   *testing.T
	dir string
	db  string
}

func newCacheCase(t *testing.T) *cacheCase {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "sample-data", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	c := &cacheCase{t: t, dir: dir, db: filepath.Join(dir, "store.db")}
	c.write("data.csv", string(data))
	c.write("p.yaml", cachePipeline)
	return c
}

func (c *cacheCase) path(name string) string { return filepath.Join(c.dir, name) }

func (c *cacheCase) write(name, text string) {
	c.t.Helper()
	if err := os.MkdirAll(filepath.Dir(c.path(name)), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(c.path(name), []byte(text), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cacheCase) read(name string) string {
	c.t.Helper()
	b, err := os.ReadFile(c.path(name))
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

// edit replaces old with new in the pipeline file.
func (c *cacheCase) edit(old, new string) {
	c.t.Helper()
	s := c.read("p.yaml")
	if !strings.Contains(s, old) {
		c.t.Fatalf("pipeline has no %q", old)
	}
	c.write("p.yaml", strings.Replace(s, old, new, 1))
}

// run runs the pipeline with args and returns its --json document.
func (c *cacheCase) run(args ...string) runDoc {
	c.t.Helper()
	all := append([]string{"run", c.path("p.yaml"), "--db", c.db, "--json"}, args...)
	out, stderr, code := sluice(c.t, "", all...)
	var d runDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		c.t.Fatalf("run %v (exit %d): %v\n%s\n%s", args, code, err, out, stderr)
	}
	return d
}

// dry forecasts the pipeline with args.
func (c *cacheCase) dry(args ...string) dryDoc {
	c.t.Helper()
	all := append([]string{"run", c.path("p.yaml"), "--db", c.db, "--json", "--dry"}, args...)
	out, stderr, code := sluice(c.t, "", all...)
	if code != ExitOK {
		c.t.Fatalf("dry run %v: exit %d\n%s", args, code, stderr)
	}
	var d dryDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		c.t.Fatalf("dry run %v: %v\n%s", args, err, out)
	}
	return d
}

// storeRun opens the case's store and reads a run.
func (c *cacheCase) storeRun(id int64) (*store.DB, *engine.Run) {
	c.t.Helper()
	db, err := store.Open(c.db, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	r, err := db.Run(context.Background(), id)
	if err != nil {
		c.t.Fatal(err)
	}
	return db, r
}

// TestDryMatchesRun checks, case by case, that `run --dry` says exactly
// what the run then does — every stage's action (run or cached) and its
// reason — and that the cache decides as documented.
func TestDryMatchesRun(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(c *cacheCase)
		args    []string
		// want holds, for some stages, "cached" or the start of the reason
		// the stage ran for.
		want map[string]string
	}{
		{
			name: "empty store",
			want: map[string]string{"load": "new", "keep": "new", "model": "new", "score": "new"},
		},
		{
			name:    "unchanged",
			prepare: func(c *cacheCase) { c.run() },
			want:    map[string]string{"load": "cached", "keep": "cached", "split": "cached", "scale": "cached", "model": "cached", "score": "cached"},
		},
		{
			name:    "param change in the file",
			prepare: func(c *cacheCase) { c.run(); c.edit("C: 1.0", "C: 0.05") },
			want:    map[string]string{"model": "params changed: model.C 1 → 0.05", "score": "upstream changed: model", "keep": "cached", "load": "cached", "split": "cached", "scale": "cached"},
		},
		{
			name:    "--set",
			prepare: func(c *cacheCase) { c.run() },
			args:    []string{"--set", "model.C=0.5"},
			want:    map[string]string{"model": "params changed: model.C 1 → 0.5", "score": "upstream changed: model", "keep": "cached", "load": "cached", "split": "cached", "scale": "cached"},
		},
		{
			name:    "--set to the value in the file",
			prepare: func(c *cacheCase) { c.run() },
			args:    []string{"--set", "model.C=1"},
			want:    map[string]string{"load": "cached", "model": "cached", "score": "cached"},
		},
		{
			name: "one changed byte of the data",
			prepare: func(c *cacheCase) {
				c.run()
				c.write("data.csv", strings.Replace(c.read("data.csv"), "5.1,3.5,1.4,0.2", "5.1,3.5,1.4,0.3", 1))
			},
			want: map[string]string{"load": "input changed: data.csv", "keep": "upstream changed: load", "split": "upstream changed: load", "model": "upstream changed: scale", "score": "upstream changed: model"},
		},
		{
			name: "touch only",
			prepare: func(c *cacheCase) {
				c.run()
				later := time.Now().Add(time.Hour)
				if err := os.Chtimes(c.path("data.csv"), later, later); err != nil {
					c.t.Fatal(err)
				}
			},
			want: map[string]string{"load": "cached", "keep": "cached", "model": "cached", "score": "cached"},
		},
		{
			name:    "upstream change",
			prepare: func(c *cacheCase) { c.run(); c.edit("test_size: 0.25", "test_size: 0.3") },
			want:    map[string]string{"split": "params changed: split.test_size 0.25 → 0.3", "scale": "upstream changed: split", "model": "upstream changed: scale", "keep": "cached", "load": "cached"},
		},
		{
			name:    "seed change",
			prepare: func(c *cacheCase) { c.run(); c.edit("seed: 7", "seed: 8") },
			want:    map[string]string{"load": "seed changed: pipeline seed 7 → 8", "model": "upstream changed: scale"},
		},
		{
			name:    "--no-cache",
			prepare: func(c *cacheCase) { c.run() },
			args:    []string{"--no-cache"},
			want:    map[string]string{"load": "--no-cache", "keep": "--no-cache", "model": "--no-cache", "score": "--no-cache"},
		},
		{
			name:    "--no-cache=STAGE",
			prepare: func(c *cacheCase) { c.run() },
			args:    []string{"--no-cache=model"},
			want:    map[string]string{"model": "--no-cache=model", "score": "--no-cache=model", "keep": "cached", "load": "cached", "scale": "cached"},
		},
		{
			name: "side-effect output missing",
			prepare: func(c *cacheCase) {
				c.run()
				if err := os.Remove(c.path("out/clean.csv")); err != nil {
					c.t.Fatal(err)
				}
			},
			want: map[string]string{"keep": "output missing: out/clean.csv", "load": "cached", "split": "cached", "model": "cached", "score": "cached"},
		},
		{
			name:    "side-effect output changed",
			prepare: func(c *cacheCase) { c.run(); c.write("out/clean.csv", "edited by hand\n") },
			want:    map[string]string{"keep": "output changed: out/clean.csv", "model": "cached", "score": "cached"},
		},
		{
			name: "failed earlier run",
			prepare: func(c *cacheCase) {
				// A file where the output's folder should be: the write
				// stage fails at run time, its dependents are skipped.
				c.write("out", "not a folder\n")
				if d := c.run(); d.Status != "failed" {
					c.t.Fatalf("setup run: got %s, want failed", d.Status)
				}
				if err := os.Remove(c.path("out")); err != nil {
					c.t.Fatal(err)
				}
			},
			want: map[string]string{"keep": "failed in run 1", "load": "cached", "split": "cached", "model": "cached", "score": "cached"},
		},
		{
			name: "back to an earlier parameter",
			prepare: func(c *cacheCase) {
				c.run()
				c.run("--set", "model.C=0.5")
			},
			want: map[string]string{"model": "cached", "score": "cached"},
		},
		{
			name: "interrupted earlier run",
			prepare: func(c *cacheCase) {
				c.run()
				db, r := c.storeRun(1)
				defer db.Close()
				// What the store records when the process running it died
				// after load and keep finished.
				r.Status = engine.StatusInterrupted
				for i := range r.Stages {
					if s := &r.Stages[i]; s.ID != "load" && s.ID != "keep" {
						s.Status = engine.StatusInterrupted
					}
				}
				if err := db.RecordRun(context.Background(), r, nil); err != nil {
					c.t.Fatal(err)
				}
			},
			want: map[string]string{"load": "cached", "keep": "cached", "split": "interrupted in run 1", "model": "interrupted in run 1", "score": "interrupted in run 1"},
		},
		{
			name: "new stage added",
			prepare: func(c *cacheCase) {
				c.run()
				c.write("p.yaml", c.read("p.yaml")+"  - id: cv\n    uses: cross_validate\n    needs: [scale]\n    with: {model: logistic_regression, cv: 3}\n")
			},
			want: map[string]string{"cv": "new", "scale": "cached", "model": "cached", "score": "cached", "keep": "cached"},
		},
		{
			name: "stage removed",
			prepare: func(c *cacheCase) {
				c.run()
				c.edit("  - id: score\n    uses: evaluate\n", "")
			},
			want: map[string]string{"load": "cached", "keep": "cached", "model": "cached"},
		},
		{
			name: "missing artifact",
			prepare: func(c *cacheCase) {
				c.run()
				damageArtifacts(c, 1, "model", false)
			},
			want: map[string]string{"model": "run 1's result is gone", "scale": "cached", "score": "cached", "keep": "cached"},
		},
		{
			name: "artifact failing its hash check",
			prepare: func(c *cacheCase) {
				c.run()
				damageArtifacts(c, 1, "score", true)
			},
			want: map[string]string{"score": "run 1's result is unusable", "model": "cached", "keep": "cached"},
		},
		{
			name: "another pipeline file, same work",
			prepare: func(c *cacheCase) {
				c.run()
				c.edit("name: cachecase", "name: renamed")
			},
			want: map[string]string{"load": "cached", "model": "cached", "score": "cached"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCacheCase(t)
			if tc.prepare != nil {
				tc.prepare(c)
			}
			dry := c.dry(tc.args...)
			if tc.prepare == nil {
				if _, err := os.Stat(c.db); err == nil {
					t.Error("--dry created the store")
				}
			}
			real := c.run(tc.args...)
			if len(dry.Stages) != len(real.Stages) {
				t.Fatalf("dry has %d stages, the run %d", len(dry.Stages), len(real.Stages))
			}
			for i, d := range dry.Stages {
				r := real.Stages[i]
				cached := r.Status == engine.StatusCached.String()
				if d.Stage != r.ID || (d.Action == engine.ActionCached) != cached || d.Reason != r.Reason || d.CachedFrom != r.CachedFrom {
					t.Errorf("stage %s: dry said %s (%s), the run %s (%s)", d.Stage, d.Action, d.Reason, r.Status, r.Reason)
				}
				want, ok := tc.want[d.Stage]
				switch {
				case !ok:
				case want == "cached" && !cached:
					t.Errorf("stage %s: got %s (%s), want cached", d.Stage, r.Status, r.Reason)
				case want != "cached" && (cached || !strings.HasPrefix(r.Reason, want)):
					t.Errorf("stage %s: got %s (%s), want it run: %s", d.Stage, r.Status, r.Reason, want)
				}
			}
			for id := range tc.want {
				if _, ok := findStage(real, id); !ok {
					t.Errorf("no stage %s in the run", id)
				}
			}
		})
	}
}

func findStage(d runDoc, id string) (runStageDoc, bool) {
	for _, s := range d.Stages {
		if s.ID == id {
			return s, true
		}
	}
	return runStageDoc{}, false
}

// damageArtifacts deletes the bytes of what stage kept in run from the
// artifact store, as a careless clean-up might, or (flip) changes a byte
// of each, as a failing disk might.
func damageArtifacts(c *cacheCase, run int64, stage string, flip bool) {
	c.t.Helper()
	ctx := context.Background()
	db, err := store.Open(c.db, &store.Options{ReadOnly: true})
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	r, err := db.Run(ctx, run)
	if err != nil {
		c.t.Fatal(err)
	}
	s, ok := r.Stage(stage)
	if !ok || len(s.Artifacts) == 0 {
		c.t.Fatalf("run %d stage %s kept no artifact", run, stage)
	}
	arts := artifacts.New(store.ArtifactsDir(c.db))
	for _, a := range s.Artifacts {
		if flip {
			p := filepath.Join(arts.Root(), "sha256", a.SHA256[:2], a.SHA256)
			b, err := os.ReadFile(p)
			if err != nil {
				c.t.Fatal(err)
			}
			b[len(b)/2] ^= 1
			if err := os.WriteFile(p, b, 0o644); err != nil {
				c.t.Fatal(err)
			}
			continue
		}
		if err := arts.Delete(ctx, a.SHA256); err != nil {
			c.t.Fatal(err)
		}
	}
}

// TestRerunRepeatsTheRecordedFileAndOverrides reruns a run after its file
// changed on disk and then vanished: the rerun runs the text recorded
// with the run and its --set overrides, reusing every stage, from
// another working folder too.
func TestRerunRepeatsTheRecordedFileAndOverrides(t *testing.T) {
	c := newCacheCase(t)
	first := c.run("--set", "model.C=0.5")
	c.edit("C: 1.0", "C: 3.0")
	if err := os.Remove(c.path("p.yaml")); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := sluice(t, t.TempDir(), "rerun", "1", "--db", c.db, "--json")
	if code != ExitOK {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	var again runDoc
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatal(err)
	}
	for i, s := range again.Stages {
		if s.Status != "cached" || s.CachedFrom != first.Run {
			t.Errorf("stage %s: got %s (%s), want cached from run %d", s.ID, s.Status, s.Reason, first.Run)
		}
		if s.Metrics["accuracy"] != first.Stages[i].Metrics["accuracy"] {
			t.Errorf("stage %s: accuracy %v, first run %v", s.ID, s.Metrics["accuracy"], first.Stages[i].Metrics["accuracy"])
		}
	}
	db, r := c.storeRun(again.Run)
	db.Close()
	if len(r.Overrides) != 1 || r.Overrides[0] != "model.C=0.5" || r.Params["model"]["C"] != 0.5 {
		t.Errorf("rerun recorded overrides %v and C=%v, want model.C=0.5", r.Overrides, r.Params["model"]["C"])
	}
	if _, stderr, code := sluice(t, "", "rerun", "9", "--db", c.db); code != ExitInvalid || !strings.Contains(stderr, "run 9") {
		t.Errorf("rerun of a run that is not there: exit %d, %q", code, stderr)
	}
}

// TestConcurrentRunsShareTheCache runs one pipeline four times at once
// on one store, in four processes, after a parameter change: both succeed, every stage either ran
// or reused a result that was complete and of the same fingerprint, and
// a third run finds everything cached.
func TestConcurrentRunsShareTheCache(t *testing.T) {
	c := newCacheCase(t)
	c.run()
	bin := binary(t)
	var wg sync.WaitGroup
	docs := make([]runDoc, 4)
	for i := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "run", c.path("p.yaml"), "--db", c.db, "--json", "--set", "model.C=0.25")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("concurrent run %d: %v\n%s", i, err, stderr.String())
				return
			}
			if err := json.Unmarshal(out, &docs[i]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	db, err := store.Open(c.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		r, err := db.Run(context.Background(), d.Run)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r.Stages {
			if s.Status != engine.StatusCached {
				continue
			}
			src, err := db.Run(context.Background(), s.CachedFrom)
			if err != nil {
				t.Fatalf("run %d stage %s: cached from run %d: %v", r.ID, s.ID, s.CachedFrom, err)
			}
			ss, ok := src.Stage(s.ID)
			if !ok || ss.Fingerprint != s.Fingerprint || (ss.Status != engine.StatusSucceeded && ss.Status != engine.StatusCached) {
				t.Errorf("run %d stage %s reused run %d's %+v", r.ID, s.ID, s.CachedFrom, ss)
			}
			for _, a := range s.Artifacts {
				if _, _, err := db.Artifact(context.Background(), r.ID, s.ID, a.Name); err != nil {
					t.Errorf("run %d stage %s: %v", r.ID, s.ID, err)
				}
			}
		}
	}
	last := c.run("--set", "model.C=0.25")
	for _, s := range last.Stages {
		if s.Status != "cached" {
			t.Errorf("after the concurrent runs, stage %s: got %s (%s), want cached", s.ID, s.Status, s.Reason)
		}
	}
}
