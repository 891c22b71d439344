package itest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/engine/temporal"
	"github.com/sluice-ml/sluice/store"
)

// showRun is what the tests read of `sluice show RUN --json`.
type showRun struct {
	engine.Run
	Artifacts []engine.ArtifactInfo `json:"artifacts"`
}

// show reads a recorded run through the command line.
func (h *harness) show(run string) showRun {
	h.t.Helper()
	out, stderr, code := h.sluice("show", run, "--json")
	if code != 0 {
		h.t.Fatalf("show %s: exit %d: %s", run, code, stderr)
	}
	var doc showRun
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		h.t.Fatalf("show %s: %v\n%s", run, err, out)
	}
	doc.Run.ID = doc.ID
	return doc
}

// runDoc is what the tests read of `sluice run --json`.
type runDoc struct {
	Run    int64  `json:"run"`
	Status string `json:"status"`
	Stages []struct {
		ID         string             `json:"id"`
		Status     string             `json:"status"`
		Metrics    map[string]float64 `json:"metrics"`
		Reason     string             `json:"reason"`
		CachedFrom int64              `json:"cached_from"`
	} `json:"stages"`
}

func (h *harness) runJSON(want int, args ...string) runDoc {
	h.t.Helper()
	doc, _ := h.runJSONErr(want, args...)
	return doc
}

// runJSONErr is runJSON that also returns what the run printed on stderr.
func (h *harness) runJSONErr(want int, args ...string) (runDoc, string) {
	h.t.Helper()
	out, stderr, code := h.sluice(append(args, "--json")...)
	if code != want {
		h.t.Fatalf("sluice %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), code, want, stderr)
	}
	var doc runDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		h.t.Fatalf("run --json: %v\n%s", err, out)
	}
	return doc, stderr
}

// progressLines are the lines of a run's plain progress output that do
// not depend on timing: the time of day and durations cut off.
func progressLines(stderr string) map[string]bool {
	timing := regexp.MustCompile(` in [0-9.]+(ms|s)\b.*$`)
	out := map[string]bool{}
	for _, l := range strings.Split(stderr, "\n") {
		if len(l) < 9 || l[2] != ':' {
			continue
		}
		l = timing.ReplaceAllString(l[9:], "")
		if strings.HasPrefix(l, "run ") {
			continue // the run's number differs
		}
		out[l] = true
	}
	return out
}

// artifactSet lists a run's artifacts as "stage/name sha256", sorted.
func artifactSet(arts []engine.ArtifactInfo) []string {
	var out []string
	for _, a := range arts {
		out = append(out, fmt.Sprintf("%s/%s %s", a.Stage, a.Name, a.SHA256))
	}
	sort.Strings(out)
	return out
}

// Case (a): the same pipeline gives the same metrics and byte-identical
// artifacts (model files included) on Temporal, with its stages run by a
// child `sluice worker`, as locally; the record says where it ran, and
// compare shows both runs.
func TestSameResultsAsLocal(t *testing.T) {
	h := newHarness(t)
	h.copySampleData()
	h.startChildWorker()
	file := filepath.Join("sample-data", "breast_cancer_models.yaml")

	local, localErr := h.runJSONErr(0, "run", file, "--no-cache")
	remote, remoteErr := h.runJSONErr(0, append([]string{"run", file, "--no-cache"}, h.temporalArgs()...)...)
	// The same progress and log lines reach the terminal (the stage
	// phases the worker went through are not all seen by the client).
	rl := progressLines(remoteErr)
	for l := range progressLines(localErr) {
		kept := strings.Contains(l, " | ") || strings.Contains(l, ": started") || strings.Contains(l, ": succeeded")
		if kept && !rl[l] {
			t.Errorf("the Temporal run's output lacks %q", l)
		}
	}
	if len(local.Stages) != len(remote.Stages) {
		t.Fatalf("local run has %d stages, the Temporal run %d", len(local.Stages), len(remote.Stages))
	}
	models := 0
	for i, l := range local.Stages {
		r := remote.Stages[i]
		if l.ID != r.ID || l.Status != "succeeded" || r.Status != "succeeded" {
			t.Errorf("stage %d: local %s %s, Temporal %s %s", i, l.ID, l.Status, r.ID, r.Status)
		}
		if fmt.Sprint(l.Metrics) != fmt.Sprint(r.Metrics) {
			t.Errorf("stage %s: metrics differ:\nlocal    %v\ntemporal %v", l.ID, l.Metrics, r.Metrics)
		}
	}
	ls, rs := h.show(fmt.Sprint(local.Run)), h.show(fmt.Sprint(remote.Run))
	for i, l := range ls.Stages {
		if r := rs.Stages[i]; r.Progress != l.Progress {
			t.Errorf("stage %s: progress %+v on Temporal, %+v locally", l.ID, r.Progress, l.Progress)
		}
	}
	la, ra := artifactSet(ls.Artifacts), artifactSet(rs.Artifacts)
	if strings.Join(la, "\n") != strings.Join(ra, "\n") {
		t.Errorf("artifacts differ:\nlocal:\n%s\ntemporal:\n%s", strings.Join(la, "\n"), strings.Join(ra, "\n"))
	}
	for _, a := range rs.Artifacts {
		if a.Kind == engine.KindModel {
			models++
		}
	}
	if models < 3 {
		t.Errorf("the Temporal run kept %d models, want the 3 of the pipeline: %v", models, ra)
	}
	if rs.Run.Engine != engine.EngineTemporal || !strings.HasPrefix(rs.Run.WorkflowID, "sluice-breast_cancer_models-") {
		t.Errorf("record says engine %q workflow %q, want temporal and the workflow's id", rs.Run.Engine, rs.Run.WorkflowID)
	}
	if ls.Run.EngineName() != engine.EngineLocal {
		t.Errorf("local run's engine is %q", ls.Run.EngineName())
	}
	text, _, code := h.sluice("show", fmt.Sprint(remote.Run))
	if code != 0 || !strings.Contains(text, "engine    temporal, workflow "+rs.Run.WorkflowID) {
		t.Errorf("show does not name the engine and workflow:\n%s", text)
	}
	cmp, stderr, code := h.sluice("compare", fmt.Sprint(local.Run), fmt.Sprint(remote.Run), "--json")
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, stderr)
	}
	if !strings.Contains(cmp, "metrics") {
		t.Errorf("compare --json gave no metrics:\n%s", cmp)
	}
}

// smallCSV is a table for the pipelines of these tests.
const smallCSV = "a,b\n1,2\n3,4\n5,\n"

// stageRecord returns a stage's record in a run.
func stageRecord(t *testing.T, r engine.Run, id string) engine.StageRun {
	t.Helper()
	s, ok := r.Stage(id)
	if !ok {
		t.Fatalf("run %d has no stage %s", r.ID, id)
	}
	return *s
}

// Case (b): a stage that fails once is retried once (retries: 1), by the
// child worker, and the run succeeds; one that fails every time fails the
// run after its two attempts and skips its dependents.
func TestRetriedOnce(t *testing.T) {
	h := newHarness(t)
	h.startChildWorker()
	h.writeFile("data.csv", smallCSV)
	h.writeFile("flaky.yaml", `name: flaky
seed: 1
stages:
  - id: load
    uses: read_csv
    with: {path: data.csv}
  - id: flaky
    uses: exec
    needs: [load]
    retries: 1
    with: {command: [sh, -c, 'if [ -f tried ]; then echo second try; else touch tried; echo first try fails >&2; exit 3; fi']}
`)
	doc := h.runJSON(0, append([]string{"run", "flaky.yaml"}, h.temporalArgs()...)...)
	run := h.show(fmt.Sprint(doc.Run)).Run
	if s := stageRecord(t, run, "flaky"); s.Status != engine.StatusSucceeded || s.Attempts != 2 {
		t.Errorf("flaky: %s after %d attempts, want succeeded after 2", s.Status, s.Attempts)
	}
	logs, _, _ := h.sluice("show", fmt.Sprint(doc.Run), "--logs")
	for _, want := range []string{"first try fails", "attempt 1 of 2 failed", "second try"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the run's log lacks %q:\n%s", want, logs)
		}
	}

	h.writeFile("broken.yaml", `name: broken
seed: 1
stages:
  - id: load
    uses: read_csv
    with: {path: data.csv}
  - id: broken
    uses: exec
    needs: [load]
    retries: 1
    with: {command: [sh, -c, 'echo always fails >&2; exit 4']}
  - id: after
    uses: dropna
    needs: [broken]
`)
	doc = h.runJSON(1, append([]string{"run", "broken.yaml"}, h.temporalArgs()...)...)
	run = h.show(fmt.Sprint(doc.Run)).Run
	if run.Status != engine.StatusFailed {
		t.Errorf("run is %s, want failed", run.Status)
	}
	if s := stageRecord(t, run, "broken"); s.Status != engine.StatusFailed || s.Attempts != 2 || !strings.Contains(s.Error, "status 4") {
		t.Errorf("broken: %s after %d attempts (%s), want failed after 2 with its exit status", s.Status, s.Attempts, s.Error)
	}
	if s := stageRecord(t, run, "after"); s.Status != engine.StatusSkipped {
		t.Errorf("after: %s, want skipped", s.Status)
	}
	// Both attempts' own lines are in the log, as in a local run.
	logs, _, _ = h.sluice("show", fmt.Sprint(doc.Run), "--logs", "--json")
	if n := strings.Count(logs, `"text": "always fails"`); n != 2 {
		t.Errorf("the log has %d lines \"always fails\", want one per attempt:\n%s", n, logs)
	}
}

// Case (c): a stage's timeout bounds its attempt on the worker: the stage
// fails with the timeout, the run fails, and the record says so.
func TestTimeout(t *testing.T) {
	h := newHarness(t)
	h.startChildWorker()
	h.writeFile("slow.yaml", `name: slow
seed: 1
stages:
  - id: quick
    uses: exec
    with: {command: [echo, done]}
  - id: slow
    uses: exec
    needs: []
    timeout: 1s
    with: {command: [sleep, "60"]}
`)
	doc := h.runJSON(1, append([]string{"run", "slow.yaml"}, h.temporalArgs()...)...)
	run := h.show(fmt.Sprint(doc.Run)).Run
	s := stageRecord(t, run, "slow")
	if s.Status != engine.StatusFailed || !strings.Contains(s.Error, "timed out after 1s") || s.Attempts != 1 {
		t.Errorf("slow: %s after %d attempts: %q, want failed after 1 with its timeout", s.Status, s.Attempts, s.Error)
	}
	if q := stageRecord(t, run, "quick"); q.Status != engine.StatusSucceeded {
		t.Errorf("quick (independent of slow): %s, want succeeded", q.Status)
	}
	if run.Status != engine.StatusFailed {
		t.Errorf("run is %s, want failed", run.Status)
	}
}

// Case (f): a rerun after a failure reuses the stages that finished
// (status cached, from the failed run) and runs the rest; a run from
// another machine's store (an empty run store sharing the artifact
// store) reuses them too, through the fingerprints' refs.
func TestRerunReusesFinished(t *testing.T) {
	h := newHarness(t)
	h.startChildWorker()
	h.writeFile("data.csv", smallCSV)
	h.writeFile("resume.yaml", `name: resume
seed: 1
stages:
  - id: load
    uses: read_csv
    with: {path: data.csv}
  - id: clean
    uses: dropna
    needs: [load]
  - id: sorted
    uses: sort
    needs: [clean]
    with: {by: [a]}
  - id: gate
    uses: exec
    needs: [sorted]
    with: {command: [sh, -c, 'test -f ok || { echo not yet >&2; exit 1; }']}
`)
	first := h.runJSON(1, append([]string{"run", "resume.yaml"}, h.temporalArgs()...)...)
	if first.Stages[3].Status != "failed" {
		t.Fatalf("gate: %s, want failed", first.Stages[3].Status)
	}
	h.writeFile("ok", "")
	second := h.runJSON(0, append([]string{"rerun", fmt.Sprint(first.Run)}, h.temporalArgs()...)...)
	for _, s := range second.Stages[:3] {
		if s.Status != "cached" || s.CachedFrom != first.Run {
			t.Errorf("%s: %s (cached from %d), want cached from run %d", s.ID, s.Status, s.CachedFrom, first.Run)
		}
	}
	if g := second.Stages[3]; g.Status != "succeeded" {
		t.Errorf("gate: %s, want succeeded", g.Status)
	}

	// Another machine: its own run store, the same artifact store. The
	// stages a fingerprint covers come from the refs; exec always runs.
	otherDB, err := store.Open(filepath.Join(h.Dir, "other", "sluice.db"), &store.Options{Timeout: time.Second, Artifacts: h.Artifacts})
	if err != nil {
		t.Fatal(err)
	}
	defer otherDB.Close()
	plan, err := engine.LoadPlanFor(filepath.Join(h.Dir, "resume.yaml"), stages.Registry(), nil, engine.ManualRun(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	run, err := h.runner(otherDB, nil, temporal.RunOptions{}).Run(context.Background(), plan, engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != engine.StatusSucceeded {
		t.Fatalf("run on the other store: %s (%s)", run.Status, run.Error)
	}
	for _, s := range run.Stages[:3] {
		if s.Status != engine.StatusCached || !strings.Contains(s.Reason, "cached: the result of workflow") {
			t.Errorf("other store, %s: %s (%s), want cached from the shared store", s.ID, s.Status, s.Reason)
		}
		if len(s.Artifacts) == 0 {
			t.Errorf("other store, %s: no artifacts recorded", s.ID)
		}
	}
	if g := run.Stages[3]; g.Status != engine.StatusSucceeded {
		t.Errorf("other store, gate: %s, want succeeded", g.Status)
	}
}

// Ctrl-C on `sluice run --engine temporal` cancels the workflow: the
// running stage's process is stopped on the worker, the stage after it
// never starts, the run is recorded cancelled, and sluice exits 1.
func TestInterruptCancelsWorkflow(t *testing.T) {
	h := newHarness(t)
	h.startChildWorker()
	h.writeFile("long.yaml", `name: long
seed: 1
stages:
  - id: wait
    uses: exec
    with: {command: [sh, -c, 'echo started; sleep 60']}
  - id: after
    uses: exec
    needs: [wait]
    with: {command: [echo, never]}
`)
	cmd := exec.Command(sluiceBin(t), append([]string{"--db", h.DB, "run", "long.yaml"}, h.temporalArgs()...)...)
	cmd.Dir = h.Dir
	cmd.Env = h.environ()
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, _, code := h.sluice("show", "latest", "--json")
		var doc showRun
		if code == 0 && json.Unmarshal([]byte(out), &doc) == nil {
			if s, ok := doc.Stage("wait"); ok && s.Status == engine.StatusRunning {
				break
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("stage wait never ran:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("sluice run after Ctrl-C: %v, want exit status 1\n%s", err, stderr.String())
	}
	doc := h.show("latest")
	if doc.Status != engine.StatusCancelled {
		t.Errorf("run is %s, want cancelled", doc.Status)
	}
	for _, id := range []string{"wait", "after"} {
		if s := stageRecord(t, doc.Run, id); s.Status != engine.StatusCancelled {
			t.Errorf("%s: %s, want cancelled", id, s.Status)
		}
	}
	desc, err := h.Client.DescribeWorkflowExecution(context.Background(), doc.WorkflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Errorf("workflow %s is %s, want canceled", doc.WorkflowID, st)
	}
}

// A workflow started without a stage graph (as a Temporal schedule
// starts it) plans itself on a worker and runs every stage.
func TestWorkflowPlansItself(t *testing.T) {
	h := newHarness(t)
	h.startWorker("planner")
	h.writeFile("data.csv", smallCSV)
	path := h.writeFile("self.yaml", `name: self
seed: 3
stages:
  - {id: load, uses: read_csv, with: {path: data.csv}}
  - {id: clean, uses: dropna}
  - {id: out, uses: write_csv, with: {path: out/clean.csv}}
`)
	plan, err := engine.LoadPlanFor(path, stages.Registry(), nil, engine.ManualRun(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	wr, err := h.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: h.Queue}, temporal.WorkflowName,
		temporal.RunInput{Source: temporal.SourceOf(plan)})
	if err != nil {
		t.Fatal(err)
	}
	var res temporal.RunResult
	if err := wr.Get(context.Background(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusSucceeded || len(res.Stages) != 3 {
		t.Fatalf("result %+v, want 3 stages succeeded", res)
	}
	b, err := os.ReadFile(filepath.Join(h.Dir, "out", "clean.csv"))
	if err != nil || string(b) != "a,b\n1,2\n3,4\n" {
		t.Errorf("out/clean.csv: %q (%v), want the rows without a missing value", b, err)
	}
}
