package store_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

const (
	helperDBEnv   = "SLUICE_STORE_HELPER_DB"
	helperRunsEnv = "SLUICE_STORE_HELPER_RUNS"
)

// writeRuns records n runs of the pipeline the way the executor does:
// begin, a few snapshots with log lines, a final snapshot. It returns
// their numbers.
func writeRuns(ctx context.Context, db *store.DB, pipeline string, n int, report func(id int64)) ([]int64, error) {
	var ids []int64
	for i := range n {
		r := newRun(pipeline)
		id, err := db.BeginRun(ctx, r)
		if err != nil {
			return ids, err
		}
		r.ID = id
		ids = append(ids, id)
		for j := range 3 {
			r.Heartbeat = time.Now().UTC()
			d := &engine.RunDelta{Logs: []engine.LogLine{
				{Stage: "load", Time: r.Heartbeat, Text: fmt.Sprintf("%s run %d flush %d", pipeline, i, j)},
				{Stage: "model", Time: r.Heartbeat, Text: "fitting"},
			}}
			if err := db.RecordRun(ctx, r, d); err != nil {
				return ids, err
			}
		}
		finish(r, engine.StatusSucceeded)
		key, size, err := db.ArtifactStore().Put(ctx, strings.NewReader(pipeline))
		if err != nil {
			return ids, err
		}
		d := &engine.RunDelta{Artifacts: []engine.ArtifactInfo{{Stage: "model", Name: "model", Format: "json", SHA256: key, Size: int(size)}}}
		if err := db.RecordRun(ctx, r, d); err != nil {
			return ids, err
		}
		if report != nil {
			report(id)
		}
	}
	return ids, nil
}

// TestHelperProcess is the second process of TestTwoProcesses: it writes
// runs to the store its parent names and prints their numbers.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperDBEnv)
	if path == "" {
		t.Skip("the second process of TestTwoProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(helperRunsEnv))
	db, err := store.Open(path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	defer db.Close()
	_, err = writeRuns(context.Background(), db, "child", n, func(id int64) { fmt.Printf("run %d\n", id) })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
}

// TestTwoProcesses runs a second process (this test binary again) that
// writes runs to the store while this one writes runs of its own and
// polls the list, as the workbench does. Both must finish without error,
// the run numbers must be unique, and every run must read back whole.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second process")
	}
	t.Parallel()
	const n = 15
	db := mustOpen(t)
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperDBEnv+"="+db.Path(), helperRunsEnv+"="+strconv.Itoa(n))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// Poll like the workbench: every run listed is running or succeeded,
	// never interrupted while its process lives.
	stop := make(chan struct{})
	var (
		wg       sync.WaitGroup
		pollErr  error
		polls    int
		sawChild bool
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runs, err := db.Runs(ctx, store.RunFilter{})
			if err != nil {
				pollErr = err
				return
			}
			polls++
			for _, s := range runs {
				if s.Status != engine.StatusRunning && s.Status != engine.StatusSucceeded {
					pollErr = fmt.Errorf("run %d of %s is %s", s.ID, s.Pipeline, s.Status)
					return
				}
				sawChild = sawChild || s.Pipeline == "child"
			}
			// Opening again marks runs of dead processes; the other
			// process is alive, so nothing may be marked.
			again, err := store.Open(db.Path(), nil)
			if err != nil {
				pollErr = err
				return
			}
			again.Close()
		}
	}()

	parentIDs, err := writeRuns(ctx, db, "parent", n, nil)
	if err != nil {
		t.Errorf("parent: %v", err)
	}
	waitErr := cmd.Wait()
	close(stop)
	wg.Wait()
	if waitErr != nil {
		t.Fatalf("child: %v\nstderr: %s\nstdout: %s", waitErr, stderr.String(), stdout.String())
	}
	if pollErr != nil {
		t.Errorf("poller: %v", pollErr)
	}
	t.Logf("%d polls; saw the child's runs while it ran: %v", polls, sawChild)

	var childIDs []int64
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "run "); ok {
			id, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				t.Fatalf("child printed %q", sc.Text())
			}
			childIDs = append(childIDs, id)
		}
	}
	if len(childIDs) != n || len(parentIDs) != n {
		t.Fatalf("child wrote %d runs, parent %d; want %d each", len(childIDs), len(parentIDs), n)
	}
	all := slices.Concat(parentIDs, childIDs)
	slices.Sort(all)
	for i, id := range all {
		if id != int64(i+1) {
			t.Fatalf("run numbers %v, want 1..%d each once", all, 2*n)
		}
	}
	for pipeline, ids := range map[string][]int64{"parent": parentIDs, "child": childIDs} {
		for _, id := range ids {
			r, err := db.Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Pipeline != pipeline || r.Status != engine.StatusSucceeded {
				t.Errorf("run %d: %s %s, want %s succeeded", id, r.Pipeline, r.Status, pipeline)
			}
			if logs, err := db.Logs(ctx, id, "", 0); err != nil || len(logs) != 6 {
				t.Errorf("run %d: %d log lines, %v; want 6", id, len(logs), err)
			}
			if data, _, err := db.Artifact(ctx, id, "model", "model"); err != nil || string(data) != pipeline {
				t.Errorf("run %d: artifact %q, %v; want %q", id, data, err, pipeline)
			}
		}
	}
}
