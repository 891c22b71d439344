package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/engine/temporal"
	"github.com/sluice-ml/sluice/store"
)

// waitFor polls cond every 200ms until it holds or limit passes; it
// fails the test with what, and the last state cond described, if not.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (last: %s)", what, limit, last)
}

// TestWorkerKilledMidStage is case (d): a child `sluice worker` is killed
// with SIGKILL while it runs a stage; the stage is retried on another
// worker once its heartbeat stops, the run succeeds, and the artifact
// store holds no torn blob, the run one record.
func TestWorkerKilledMidStage(t *testing.T) {
	h := newHarness(t)
	data, err := os.ReadFile(filepath.Join(repo, "sample-data", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	h.writeFile("iris.csv", string(data))
	file := h.writeFile("kill.yaml", `name: kill
seed: 7
stages:
  - id: slow
    uses: exec
    with: {command: [sh, -c, 'echo started; sleep 8; cp iris.csv "$SLUICE_OUTPUT"'], output: out/slow.csv}
  - id: keep
    uses: filter
    with: {expr: 'sepal_length > 5'}
  - id: save
    uses: write_csv
    with: {path: out/kept.csv}
`)
	child := h.startChildWorker()
	db := h.openStore()
	plan, err := engine.LoadPlan(file, stages.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := h.runner(db, nil, temporal.RunOptions{HeartbeatTimeout: 3 * time.Second})
	type outcome struct {
		run *engine.Run
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		run, err := r.Run(context.Background(), plan, engine.RunOptions{})
		done <- outcome{run, err}
	}()

	// Wait until the child runs the stage and has reported from it.
	prefix := fmt.Sprintf("%d@", child.Cmd.Process.Pid)
	var wid string
	waitFor(t, 2*time.Minute, "the child worker runs stage slow", func() (bool, string) {
		if wid == "" {
			runs, err := db.WorkflowRuns(context.Background())
			if err != nil || len(runs) == 0 {
				return false, fmt.Sprint("no run recorded yet ", err)
			}
			wid = runs[0].WorkflowID
		}
		desc, err := h.Client.DescribeWorkflowExecution(context.Background(), wid, "")
		if err != nil {
			return false, err.Error()
		}
		for _, pa := range desc.GetPendingActivities() {
			if pa.GetActivityId() == "slow" && pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED &&
				strings.HasPrefix(pa.GetLastWorkerIdentity(), prefix) && pa.GetHeartbeatDetails() != nil {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d pending activities", len(desc.GetPendingActivities()))
	})
	h.startWorker("rescuer")
	child.Kill(syscall.SIGKILL)

	var got outcome
	select {
	case got = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the run did not end after its worker was killed")
	}
	if got.err != nil {
		t.Fatal(got.err)
	}
	run := got.run
	if run.Status != engine.StatusSucceeded {
		t.Fatalf("run %s, want succeeded: %+v", run.Status, run.Stages)
	}
	slow, _ := run.Stage("slow")
	if slow.Attempts != 2 {
		t.Errorf("stage slow took %d attempts, want 2 (the killed one and the rescue)", slow.Attempts)
	}
	// One record of the run, every stage once.
	wruns, err := db.WorkflowRuns(context.Background())
	if err != nil || len(wruns) != 1 || wruns[0].ID != run.ID {
		t.Fatalf("workflow runs in the store: %+v, %v; want the one run", wruns, err)
	}
	for _, st := range run.Stages {
		if st.Status != engine.StatusSucceeded {
			t.Errorf("stage %s %s, want succeeded", st.ID, st.Status)
		}
	}
	// No torn blob: every one stored reads back whole under its key.
	n := 0
	err = h.Artifacts.List(context.Background(), func(key string, size int64, _ time.Time) error {
		n++
		_, err := engine.ReadArtifact(context.Background(), h.Artifacts, key)
		return err
	})
	if err != nil || n == 0 {
		t.Fatalf("artifacts: %d blobs, %v", n, err)
	}
	// The output is the whole file, written once.
	kept, err := os.ReadFile(filepath.Join(h.Dir, "out", "kept.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := 1 // header
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		first, _, _ := strings.Cut(line, ",")
		v, err := strconv.ParseFloat(first, 64)
		if err != nil {
			t.Fatalf("the input's first column: %v", err)
		}
		if v > 5 {
			want++
		}
	}
	if lines := strings.Count(string(kept), "\n"); lines != want {
		t.Errorf("out/kept.csv has %d lines, want %d", lines, want)
	}
}

// TestScheduleBackfill is case (g): a pipeline's Temporal Schedule plus a
// backfill of three intervals makes exactly three runs (one per interval,
// each for its day), a second backfill of the same period none, and
// sluice runs sync imports the three once.
func TestScheduleBackfill(t *testing.T) {
	h := newHarness(t)
	h.copySampleData()
	h.startWorker("scheduled")
	// A pipeline name of its own: schedules and interval ids live as long
	// as the server.
	name := fmt.Sprintf("daily_%d", time.Now().UnixNano())
	text, err := os.ReadFile(filepath.Join(h.Dir, "sample-data", "scheduled", "daily_iris.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("sample-data", "scheduled", name+".yaml")
	h.writeFile(file, strings.Replace(string(text), "name: daily_iris", "name: "+name, 1))
	t.Cleanup(func() {
		_ = h.Client.ScheduleClient().GetHandle(context.Background(), temporal.ScheduleID(name)).Delete(context.Background())
	})

	args := append([]string{"schedule"}, h.temporalArgs()...)
	out, stderr, code := h.sluice(append(args, file)...)
	if code != 0 || !strings.Contains(out, "created schedule "+temporal.ScheduleID(name)) {
		t.Fatalf("schedule: exit %d\n%s%s", code, out, stderr)
	}
	// Again: the same Schedule, updated.
	if out, stderr, code := h.sluice(append(args, file)...); code != 0 || !strings.Contains(out, "updated schedule") {
		t.Fatalf("schedule again: exit %d\n%s%s", code, out, stderr)
	}

	days := []string{"2025-03-01", "2025-03-02", "2025-03-03"}
	backfill := append(append([]string{"backfill"}, h.temporalArgs()...), file, "--from", days[0], "--to", days[2])
	if out, stderr, code := h.sluice(backfill...); code != 0 || strings.Count(out, "asked") != 3 {
		t.Fatalf("backfill: exit %d\n%s%s", code, out, stderr)
	}
	ctx := context.Background()
	for _, d := range days {
		logical, _ := time.Parse("2006-01-02", d)
		wid := temporal.IntervalWorkflowID(name, logical)
		waitFor(t, 3*time.Minute, "the run of "+d, func() (bool, string) {
			desc, err := h.Client.DescribeWorkflowExecution(ctx, wid, "")
			if err != nil {
				return false, err.Error()
			}
			st := desc.GetWorkflowExecutionInfo().GetStatus()
			if st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				t.Fatalf("the run of %s ended %s", d, st)
			}
			return st == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, st.String()
		})
		if _, err := os.Stat(filepath.Join(h.Dir, "sample-data", "scheduled", "out", "daily", "iris_"+strings.ReplaceAll(d, "-", "")+".csv")); err != nil {
			t.Errorf("the run of %s wrote no output: %v", d, err)
		}
	}
	count := func(workflowType string, closed bool) (int, error) {
		q := fmt.Sprintf("WorkflowType = '%s' AND TaskQueue = '%s'", workflowType, h.Queue)
		if closed {
			q += " AND ExecutionStatus != 'Running'"
		}
		resp, err := h.Client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: h.Namespace, Query: q})
		return int(resp.GetCount()), err
	}
	settled := func(scheduled int) func() (bool, string) {
		return func() (bool, string) {
			s, err1 := count(temporal.ScheduledWorkflowName, true)
			p, err2 := count(temporal.WorkflowName, false)
			return err1 == nil && err2 == nil && s == scheduled && p == 3, fmt.Sprintf("%d ticks ended, %d pipeline runs (%v %v)", s, p, err1, err2)
		}
	}
	waitFor(t, time.Minute, "three ticks, three runs", settled(3))
	replayScheduled(t, h)

	// The same period again: three more ticks, no new run.
	if out, stderr, code := h.sluice(backfill...); code != 0 {
		t.Fatalf("backfill again: exit %d\n%s%s", code, out, stderr)
	}
	waitFor(t, 2*time.Minute, "six ticks, still three runs", settled(6))

	sync := append([]string{"runs", "sync"}, h.temporalArgs()[2:]...)
	out, stderr, code = h.sluice(sync...)
	if code != 0 || !strings.HasPrefix(out, "imported 3 runs") {
		t.Fatalf("runs sync: exit %d\n%s%s", code, out, stderr)
	}
	out, _, code = h.sluice("runs", "--json")
	if code != 0 {
		t.Fatalf("runs --json: exit %d", code)
	}
	var runs []struct {
		Pipeline string    `json:"pipeline"`
		Status   string    `json:"status"`
		Trigger  string    `json:"trigger"`
		Logical  time.Time `json:"logical_time"`
	}
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, r := range runs {
		if r.Pipeline != name || r.Status != "succeeded" || r.Trigger != string(engine.TriggerBackfill) {
			t.Errorf("synced run %+v: want %s, succeeded, backfill", r, name)
		}
		seen[r.Logical.UTC().Format("2006-01-02")] = true
	}
	if len(runs) != 3 || !seen[days[0]] || !seen[days[1]] || !seen[days[2]] {
		t.Errorf("synced runs %+v: want one per day of %v", runs, days)
	}
	if out, stderr, code := h.sluice(sync...); code != 0 || !strings.HasPrefix(out, "imported 0 runs; 3 already here") {
		t.Fatalf("runs sync again: exit %d\n%s%s", code, out, stderr)
	}
}

// TestWorkerOnS3 runs a pipeline on Temporal with a child worker and the
// client both on an S3 bucket (an in-process fake): the run succeeds, its
// artifacts are in the bucket, whole, and none beside the database.
func TestWorkerOnS3(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("cluster"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithTimeSkewLimit(0)).Server())
	defer srv.Close()
	// The child processes read these: the standard AWS variables.
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "itest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "itest-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	const loc = "s3://cluster/runs"

	h := newHarness(t)
	h.copySampleData()
	h.startChildWorker("--artifacts", loc)
	out, stderr, code := h.sluice(append(append([]string{"--artifacts", loc, "run"}, h.temporalArgs()...), "sample-data/iris.yaml", "--json")...)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	var doc struct {
		Status string `json:"status"`
		Stages []struct {
			ID      string             `json:"id"`
			Metrics map[string]float64 `json:"metrics"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Status != "succeeded" {
		t.Fatalf("run: %v %s", err, out)
	}
	s3, err := store.OpenArtifacts(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = s3.List(context.Background(), func(key string, _ int64, _ time.Time) error {
		n++
		_, err := engine.ReadArtifact(context.Background(), s3, key)
		return err
	})
	if err != nil || n == 0 {
		t.Fatalf("bucket: %d blobs, %v", n, err)
	}
	local := 0
	_ = h.Artifacts.List(context.Background(), func(string, int64, time.Time) error { local++; return nil })
	if local != 0 {
		t.Errorf("%d blobs beside the database; want them all in the bucket", local)
	}
	// The same run locally scores the same.
	lout, lerr, code := h.sluice("run", "sample-data/iris.yaml", "--json", "--no-cache")
	if code != 0 {
		t.Fatalf("local run: exit %d\n%s", code, lerr)
	}
	var ldoc struct {
		Stages []struct {
			ID      string             `json:"id"`
			Metrics map[string]float64 `json:"metrics"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(lout), &ldoc); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(doc.Stages)
	b, _ := json.Marshal(ldoc.Stages)
	if !bytes.Equal(a, b) {
		t.Errorf("metrics on Temporal with S3 %s, locally %s", a, b)
	}
}

// TestRunsSyncFollow is runs sync --follow: a run started from another
// machine (another run store) is imported while it runs, its record kept
// up to date until it ends (what the workbench polls), and a run this
// store recorded itself is not imported again.
func TestRunsSyncFollow(t *testing.T) {
	h := newHarness(t)
	h.copySampleData()
	h.startWorker("follow")
	data, err := os.ReadFile(filepath.Join(repo, "sample-data", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	h.writeFile("iris.csv", string(data))
	file := h.writeFile("follow.yaml", `name: follow
seed: 3
stages:
  - id: slow
    uses: exec
    with: {command: [sh, -c, 'echo started; sleep 6; cp iris.csv "$SLUICE_OUTPUT"'], output: out/slow.csv}
  - id: keep
    uses: filter
    with: {expr: 'petal_length > 2'}
`)
	// A run this store follows itself.
	if _, stderr, code := h.sluice(append(append([]string{"run"}, h.temporalArgs()...), "sample-data/iris.yaml")...); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}

	// Another machine: its own run store, the same cluster and artifacts.
	odb, err := store.Open(filepath.Join(t.TempDir(), "other.db"), &store.Options{Timeout: time.Second, Artifacts: h.Artifacts})
	if err != nil {
		t.Fatal(err)
	}
	defer odb.Close()
	plan, err := engine.LoadPlan(file, stages.Registry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	other := h.runner(odb, nil, temporal.RunOptions{})
	type outcome struct {
		run *engine.Run
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		run, err := other.Run(context.Background(), plan, engine.RunOptions{})
		done <- outcome{run, err}
	}()

	sync := exec.Command(sluiceBin(t), append([]string{"--db", h.DB, "runs", "sync"}, append(h.temporalArgs()[2:], "--follow", "--poll", "200ms")...)...)
	sync.Dir, sync.Env = h.Dir, h.environ()
	var out syncBuffer
	sync.Stdout, sync.Stderr = &out, &out
	if err := sync.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sync.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = sync.Process.Kill()
			<-exited
		}
	}()

	db := h.openStore()
	ctx := context.Background()
	synced := func() (*engine.Run, string) {
		runs, err := db.WorkflowRuns(ctx)
		if err != nil {
			return nil, err.Error()
		}
		for _, r := range runs {
			run, err := db.Run(ctx, r.ID)
			if err == nil && run.Pipeline == "follow" {
				return run, ""
			}
		}
		return nil, fmt.Sprintf("%d workflow runs, none of pipeline follow", len(runs))
	}
	// Live: imported while the workflow still runs, stage slow running.
	waitFor(t, 2*time.Minute, "the running run imported", func() (bool, string) {
		run, why := synced()
		if run == nil {
			return false, why
		}
		slow, _ := run.Stage("slow")
		desc, err := h.Client.DescribeWorkflowExecution(ctx, run.WorkflowID, "")
		if err != nil {
			return false, err.Error()
		}
		live := desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		if !live {
			t.Fatalf("the workflow ended before its import showed it running (run %s, stage slow %s)\n%s", run.Status, slow.Status, out.String())
		}
		return run.Status == engine.StatusRunning && slow.Status == engine.StatusRunning, fmt.Sprintf("run %s, slow %s", run.Status, slow.Status)
	})
	var got outcome
	select {
	case got = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the other machine's run did not end")
	}
	if got.err != nil || got.run.Status != engine.StatusSucceeded {
		t.Fatalf("the other machine's run: %v %v", got.run, got.err)
	}
	waitFor(t, time.Minute, "the imported run ends as the workflow did", func() (bool, string) {
		run, why := synced()
		if run == nil {
			return false, why
		}
		return run.Status == engine.StatusSucceeded, run.Status.String()
	})
	run, _ := synced()
	for _, st := range got.run.Stages {
		mine, ok := run.Stage(st.ID)
		if !ok || mine.Status != st.Status || mine.Rows != st.Rows || len(mine.Artifacts) != len(st.Artifacts) {
			t.Errorf("stage %s: imported %+v, recorded where it ran %+v", st.ID, mine, st)
			continue
		}
		for i := range st.Artifacts {
			if mine.Artifacts[i].SHA256 != st.Artifacts[i].SHA256 {
				t.Errorf("stage %s: imported artifact %s, recorded %s", st.ID, mine.Artifacts[i].SHA256, st.Artifacts[i].SHA256)
			}
		}
	}
	if run.Engine != engine.EngineTemporal || run.WorkflowID != got.run.WorkflowID {
		t.Errorf("imported run: engine %q workflow %q; want temporal, %q", run.Engine, run.WorkflowID, got.run.WorkflowID)
	}

	_ = sync.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("runs sync --follow stopped with %v\n%s", err, out.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("runs sync --follow did not stop on SIGINT\n%s", out.String())
	}
	if !strings.Contains(out.String(), "imported 1 run: ") || !strings.Contains(out.String(), "1 already here") {
		t.Errorf("runs sync said:\n%s\nwant 1 imported, 1 already here", out.String())
	}
	runs, err := db.WorkflowRuns(ctx)
	if err != nil || len(runs) != 2 {
		t.Errorf("workflow runs in the store: %+v, %v; want the one run here and the one imported", runs, err)
	}
}

// replayScheduled replays the history of one tick's sluice.scheduled
// workflow with this tree's code; with -record it writes it for the main
// module's replay test (engine/temporal/testdata/history_scheduled.json),
// so a non-deterministic change to ScheduledWorkflow fails go test ./...
func replayScheduled(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	resp, err := h.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: h.Namespace, PageSize: 1,
		Query: fmt.Sprintf("WorkflowType = '%s' AND TaskQueue = '%s'", temporal.ScheduledWorkflowName, h.Queue),
	})
	if err != nil || len(resp.GetExecutions()) == 0 {
		t.Fatalf("no tick to replay: %v", err)
	}
	ex := resp.GetExecutions()[0].GetExecution()
	hist, err := collectHistory(h.Client.GetWorkflowHistory(ctx, ex.GetWorkflowId(), ex.GetRunId(), false, 0))
	if err != nil {
		t.Fatal(err)
	}
	rep := worker.NewWorkflowReplayer()
	temporal.RegisterWorkflows(rep)
	if err := rep.ReplayWorkflowHistory(nil, hist); err != nil {
		t.Errorf("a tick's history does not replay: %v", err)
	}
	if *record {
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(repo, "engine", "temporal", "testdata", "history_scheduled.json")
		if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	}
}
