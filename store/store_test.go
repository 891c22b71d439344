package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// mustOpen opens a new store in a temporary directory. When the test
// ends it closes the store, opens it again read-only and checks it.
func mustOpen(t testing.TB) *store.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".sluice", "sluice.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { mustCheck(t, db) })
	return db
}

// kept writes data to db's artifact store and returns info referring to
// it, as the executor does with a stage's artifacts.
func kept(t testing.TB, db *store.DB, info engine.ArtifactInfo, data []byte) engine.ArtifactInfo {
	t.Helper()
	key, n, err := db.ArtifactStore().Put(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	info.SHA256, info.Size = key, int(n)
	return info
}

// mustCheck closes db, reopens its file read-only and checks the schema
// and the file's consistency.
func mustCheck(t testing.TB, db *store.DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	again, err := store.Open(db.Path(), &store.Options{ReadOnly: true})
	if err != nil {
		t.Errorf("reopen: %v", err)
		return
	}
	defer again.Close()
	if err := again.Check(context.Background()); err != nil {
		t.Errorf("check: %v", err)
	}
}

var host, _ = os.Hostname()

// newRun returns a running run of a three-stage pipeline, as the
// executor hands it to BeginRun.
func newRun(pipeline string) *engine.Run {
	now := time.Now().UTC()
	return &engine.Run{
		Pipeline:  pipeline,
		File:      pipeline + ".yaml",
		Spec:      "name: " + pipeline + "\nstages: []\n",
		SpecHash:  "0123abcd",
		Seed:      42,
		Overrides: []string{"model.C=2"},
		Params:    map[string]map[string]any{"model": {"C": 2.0, "solver": "lbfgs"}},
		Inputs:    map[string]string{},
		Status:    engine.StatusRunning,
		Started:   now,
		Version:   "test",
		Host:      host,
		PID:       os.Getpid(),
		Heartbeat: now,
		Stages: []engine.StageRun{
			{ID: "load", Uses: "read_csv", Kind: engine.KindTable},
			{ID: "model", Uses: "logistic_regression", Needs: []string{"load"}, Kind: engine.KindModel},
			{ID: "score", Uses: "evaluate", Needs: []string{"model"}, Kind: engine.KindReport},
		},
	}
}

// finish completes every stage of r and the run itself.
func finish(r *engine.Run, status engine.Status) {
	now := time.Now().UTC()
	for i := range r.Stages {
		s := &r.Stages[i]
		s.Status, s.Attempts, s.Started, s.Finished, s.Seconds = engine.StatusSucceeded, 1, r.Started, now, 0.5
		s.Fingerprint = "fp-" + s.ID
	}
	r.Stages[0].Rows, r.Stages[0].Cols = 150, 5
	r.Stages[2].Metrics = map[string]float64{"accuracy": 0.95, "f1": 0.94}
	r.Inputs["iris.csv"] = "feedface"
	r.Status, r.Finished, r.Seconds = status, now, now.Sub(r.Started).Seconds()
	if status == engine.StatusFailed {
		r.Stages[2].Status, r.Stages[2].Error, r.Error = engine.StatusFailed, "boom", "stage score failed: boom"
	}
}

// begin begins r in db and sets its number.
func begin(t testing.TB, db *store.DB, r *engine.Run) *engine.Run {
	t.Helper()
	id, err := db.BeginRun(context.Background(), r)
	if err != nil {
		t.Fatalf("begin run: %v", err)
	}
	r.ID = id
	return r
}

// addRun records a finished run of the pipeline and returns it.
func addRun(t testing.TB, db *store.DB, pipeline string, status engine.Status) *engine.Run {
	t.Helper()
	r := begin(t, db, newRun(pipeline))
	finish(r, status)
	if err := db.RecordRun(context.Background(), r, nil); err != nil {
		t.Fatalf("record run: %v", err)
	}
	return r
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenCreatesDirectories(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "sluice.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer mustCheck(t, db)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("store file: %v", err)
	}
	if n, err := db.Count(context.Background()); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0, nil", n, err)
	}
}

func TestBeginRunNumbers(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	for want := int64(1); want <= 3; want++ {
		r := newRun("iris")
		id, err := db.BeginRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if id != want {
			t.Errorf("BeginRun = %d, want %d", id, want)
		}
		if r.ID != 0 {
			t.Errorf("BeginRun changed the run's ID to %d", r.ID)
		}
		got, err := db.Run(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id || got.Status != engine.StatusRunning {
			t.Errorf("Run(%d) = id %d status %s, want id %d running", id, got.ID, got.Status, id)
		}
	}
	// Numbers are not reused after a delete, nor after reopening.
	if err := db.DeleteRun(ctx, 3); err == nil {
		t.Errorf("DeleteRun of a live running run succeeded")
	}
	r, _ := db.Run(ctx, 3)
	finish(r, engine.StatusSucceeded)
	if err := db.RecordRun(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRun(ctx, 3); err != nil {
		t.Fatal(err)
	}
	db2, err := store.Open(db.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if id, err := db2.BeginRun(ctx, newRun("iris")); err != nil || id != 4 {
		t.Errorf("BeginRun after delete and reopen = %d, %v; want 4", id, err)
	}
}

func TestRunRoundTrip(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	r := begin(t, db, newRun("iris"))
	if got, err := db.Run(ctx, r.ID); err != nil || jsonOf(t, got) != jsonOf(t, r) {
		t.Errorf("after BeginRun: Run = %s, %v\nwant %s", jsonOf(t, got), err, jsonOf(t, r))
	}
	finish(r, engine.StatusSucceeded)
	if err := db.RecordRun(ctx, r, &engine.RunDelta{}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Run(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonOf(t, got), jsonOf(t, r); g != w {
		t.Errorf("Run = %s\nwant %s", g, w)
	}
	if got.Stages[2].Metrics["accuracy"] != 0.95 || got.Params["model"]["solver"] != "lbfgs" || got.Inputs["iris.csv"] != "feedface" {
		t.Errorf("Run lost fields: %+v", got)
	}
}

func TestRecordRunCancelledContext(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	r := begin(t, db, newRun("iris"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := &engine.RunDelta{Logs: []engine.LogLine{{Stage: "load", Text: "last words"}}}
	if err := db.RecordRun(ctx, r, d); err != nil {
		t.Fatalf("RecordRun with a cancelled context: %v", err)
	}
	if logs, err := db.Logs(context.Background(), r.ID, "load", 0); err != nil || len(logs) != 1 {
		t.Errorf("logs = %v, %v; want the line recorded", logs, err)
	}
}

func TestGeneration(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	g0, err := db.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Runs(ctx, store.RunFilter{}); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.Generation(ctx); g != g0 {
		t.Errorf("Generation after a read = %d, want %d", g, g0)
	}
	r := begin(t, db, newRun("iris"))
	g1, _ := db.Generation(ctx)
	if g1 <= g0 {
		t.Errorf("Generation after BeginRun = %d, want more than %d", g1, g0)
	}
	if err := db.RecordRun(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.Generation(ctx); g <= g1 {
		t.Errorf("Generation after RecordRun = %d, want more than %d", g, g1)
	}
}

func TestRunNotFound(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	addRun(t, db, "iris", engine.StatusSucceeded)
	r := newRun("iris")
	r.ID = 9
	tests := []struct {
		name string
		call func() error
	}{
		{"Run", func() error { _, err := db.Run(ctx, 9); return err }},
		{"RecordRun", func() error { return db.RecordRun(ctx, r, nil) }},
		{"Logs", func() error { _, err := db.Logs(ctx, 9, "", 0); return err }},
		{"Preview of no run", func() error { _, err := db.Preview(ctx, 9, "load"); return err }},
		{"Preview of no stage", func() error { _, err := db.Preview(ctx, 1, "nope"); return err }},
		{"Artifact", func() error { _, _, err := db.Artifact(ctx, 1, "model", "model"); return err }},
		{"Artifacts", func() error { _, err := db.Artifacts(ctx, 9); return err }},
		{"Latest", func() error { _, err := db.Latest(ctx, "wine"); return err }},
		{"DeleteRun", func() error { return db.DeleteRun(ctx, 9) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("got %v, want an error wrapping engine.ErrNotFound", err)
			}
		})
	}
}

func TestLogs(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	r := begin(t, db, newRun("iris"))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var want []engine.LogLine
	line := func(stage, stream string) engine.LogLine {
		l := engine.LogLine{Stage: stage, Time: t0.Add(time.Duration(len(want)) * time.Millisecond), Stream: stream, Text: fmt.Sprintf("%s line %d", stage, len(want))}
		want = append(want, l)
		return l
	}
	// Three deltas, stages interleaved, so the whole-run order is not
	// the stage order.
	deltas := [][]engine.LogLine{
		{line("load", ""), line("load", "stdout")},
		{line("model", ""), line("load", "stderr"), line("model", "")},
		{line("score", ""), line("model", ""), line("load", "")},
	}
	for _, d := range deltas {
		if err := db.RecordRun(ctx, r, &engine.RunDelta{Logs: d}); err != nil {
			t.Fatal(err)
		}
	}
	only := func(stage string) []engine.LogLine {
		var out []engine.LogLine
		for _, l := range want {
			if l.Stage == stage {
				out = append(out, l)
			}
		}
		return out
	}
	tests := []struct {
		name  string
		stage string
		from  int
		want  []engine.LogLine
	}{
		{"all", "", 0, want},
		{"all from 3", "", 3, want[3:]},
		{"all from end", "", len(want), nil},
		{"all past end", "", 100, nil},
		{"load", "load", 0, only("load")},
		{"load from 2", "load", 2, only("load")[2:]},
		{"model", "model", 0, only("model")},
		{"score past end", "score", 5, nil},
		{"stage with no lines", "nope", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Logs(ctx, r.ID, tt.stage, tt.from)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := jsonOf(t, got), jsonOf(t, tt.want); g != w {
				t.Errorf("Logs(%q, %d) =\n%s\nwant\n%s", tt.stage, tt.from, g, w)
			}
		})
	}
	// Another run's lines stay apart.
	r2 := begin(t, db, newRun("iris"))
	if err := db.RecordRun(ctx, r2, &engine.RunDelta{Logs: []engine.LogLine{{Stage: "load", Time: t0, Text: "other"}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Logs(ctx, r.ID, "", 0); len(got) != len(want) {
		t.Errorf("run 1 has %d lines after run 2 logged, want %d", len(got), len(want))
	}
	if got, _ := db.Logs(ctx, r2.ID, "", 0); len(got) != 1 || got[0].Text != "other" {
		t.Errorf("run 2 logs = %v", got)
	}
}

func TestPreviewRoundTrip(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	r := begin(t, db, newRun("iris"))
	mean, std := 5.84, 0.83
	p := &engine.Preview{
		Stage: "load",
		Rows:  150,
		Columns: []engine.ColumnSummary{
			{Name: "sepal_length", Type: "float", Count: 150, Mean: &mean, Std: &std},
			{Name: "species", Type: "string", Count: 149, Missing: 1, Unique: 3, Top: []engine.TopValue{{Value: "setosa", Count: 50}}},
		},
		Head: [][]string{{"5.1", "setosa"}, {"4.9", ""}},
	}
	if err := db.RecordRun(ctx, r, &engine.RunDelta{Previews: []*engine.Preview{p}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Preview(ctx, r.ID, "load")
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonOf(t, got), jsonOf(t, p); g != w {
		t.Errorf("Preview = %s\nwant %s", g, w)
	}
	// A later preview of the stage replaces the earlier one.
	p2 := &engine.Preview{Stage: "load", Rows: 3}
	if err := db.RecordRun(ctx, r, &engine.RunDelta{Previews: []*engine.Preview{p2}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Preview(ctx, r.ID, "load"); err != nil || got.Rows != 3 {
		t.Errorf("Preview after replace = %+v, %v; want 3 rows", got, err)
	}
}

func TestArtifacts(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	r := begin(t, db, newRun("iris"))
	model := []byte(`{"format":1,"estimator":"logistic_regression"}`)
	report := bytes.Repeat([]byte("x"), 1<<20)
	d := &engine.RunDelta{Artifacts: []engine.ArtifactInfo{
		kept(t, db, engine.ArtifactInfo{Stage: "model", Name: "model", Format: "json"}, model),
		kept(t, db, engine.ArtifactInfo{Stage: "score", Name: "report", Format: "json"}, report),
	}}
	if err := db.RecordRun(ctx, r, d); err != nil {
		t.Fatal(err)
	}
	data, info, err := db.Artifact(ctx, r.ID, "model", "model")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, model) {
		t.Errorf("Artifact bytes = %q, want %q", data, model)
	}
	sum := sha256.Sum256(model)
	want := engine.ArtifactInfo{Stage: "model", Name: "model", Format: "json", Size: len(model), SHA256: hex.EncodeToString(sum[:])}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("Artifact info = %+v, want %+v", info, want)
	}
	// The bytes are the caller's: changing them changes nothing stored.
	data[0] = 'X'
	again, _, _ := db.Artifact(ctx, r.ID, "model", "model")
	if !bytes.Equal(again, model) {
		t.Errorf("stored artifact changed with the returned copy")
	}
	infos, err := db.Artifacts(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].Name != "model" || infos[1].Name != "report" || infos[1].Size != len(report) {
		t.Errorf("Artifacts = %+v", infos)
	}
	if _, _, err := db.Artifact(ctx, r.ID, "model", "nope"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Artifact of a missing name = %v, want ErrNotFound", err)
	}
	bad := &engine.RunDelta{Artifacts: []engine.ArtifactInfo{{SHA256: info.SHA256}}}
	if err := db.RecordRun(ctx, r, bad); err == nil {
		t.Errorf("RecordRun of an artifact without stage and name succeeded")
	}
}

func TestRunsFilter(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	plan := []struct {
		pipeline string
		status   engine.Status
	}{
		{"iris", engine.StatusSucceeded},   // 1
		{"wine", engine.StatusSucceeded},   // 2
		{"iris", engine.StatusFailed},      // 3
		{"iris", engine.StatusSucceeded},   // 4
		{"wine", engine.StatusCancelled},   // 5
		{"iris", engine.StatusRunning},     // 6
		{"digits", engine.StatusFailed},    // 7
		{"iris", engine.StatusSucceeded},   // 8
		{"wine", engine.StatusSucceeded},   // 9
		{"iris", engine.StatusInterrupted}, // 10
	}
	for _, p := range plan {
		r := begin(t, db, newRun(p.pipeline))
		if p.status != engine.StatusRunning {
			finish(r, p.status)
			r.Status = p.status
			if err := db.RecordRun(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		filter store.RunFilter
		want   []int64
	}{
		{"all", store.RunFilter{}, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"pipeline", store.RunFilter{Pipeline: "iris"}, []int64{10, 8, 6, 4, 3, 1}},
		{"no such pipeline", store.RunFilter{Pipeline: "nope"}, nil},
		{"limit", store.RunFilter{Limit: 3}, []int64{10, 9, 8}},
		{"before", store.RunFilter{Before: 5}, []int64{4, 3, 2, 1}},
		{"before past the end", store.RunFilter{Before: 100, Limit: 2}, []int64{10, 9}},
		{"before the first", store.RunFilter{Before: 1}, nil},
		{"page", store.RunFilter{Pipeline: "iris", Before: 8, Limit: 2}, []int64{6, 4}},
		{"status", store.RunFilter{Status: []engine.Status{engine.StatusFailed}}, []int64{7, 3}},
		{"statuses", store.RunFilter{Pipeline: "wine", Status: []engine.Status{engine.StatusSucceeded, engine.StatusCancelled}}, []int64{9, 5, 2}},
		{"running", store.RunFilter{Status: []engine.Status{engine.StatusRunning}}, []int64{6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Runs(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("Runs(%+v) = %v, want %v", tt.filter, ids, tt.want)
			}
		})
	}
	t.Run("summary", func(t *testing.T) {
		got, err := db.Runs(ctx, store.RunFilter{Limit: 1, Before: 4})
		if err != nil || len(got) != 1 {
			t.Fatalf("Runs = %v, %v", got, err)
		}
		s := got[0]
		if s.ID != 3 || s.Pipeline != "iris" || s.Status != engine.StatusFailed || s.Stages != 3 || s.Done != 3 ||
			s.MetricStage != "score" || s.Metrics["accuracy"] != 0.95 || s.Error == "" || s.Started.IsZero() {
			t.Errorf("summary = %+v", s)
		}
	})
	t.Run("latest", func(t *testing.T) {
		for _, tt := range []struct {
			pipeline string
			want     int64
		}{{"", 10}, {"iris", 10}, {"wine", 9}, {"digits", 7}} {
			if got, err := db.Latest(ctx, tt.pipeline); err != nil || got != tt.want {
				t.Errorf("Latest(%q) = %d, %v; want %d", tt.pipeline, got, err, tt.want)
			}
		}
	})
	t.Run("count", func(t *testing.T) {
		if n, err := db.Count(ctx); err != nil || n != len(plan) {
			t.Errorf("Count = %d, %v; want %d", n, err, len(plan))
		}
	})
}

func TestDeleteRun(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	keep := addRun(t, db, "iris", engine.StatusSucceeded)
	gone := begin(t, db, newRun("iris"))
	finish(gone, engine.StatusSucceeded)
	d := &engine.RunDelta{
		Logs:      []engine.LogLine{{Stage: "load", Text: "hello"}},
		Previews:  []*engine.Preview{{Stage: "load", Rows: 1}},
		Artifacts: []engine.ArtifactInfo{kept(t, db, engine.ArtifactInfo{Stage: "model", Name: "model"}, []byte("m"))},
	}
	if err := db.RecordRun(ctx, gone, d); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordRun(ctx, keep, d); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRun(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Run(ctx, gone.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Run after delete: %v", err)
	}
	if runs, _ := db.Runs(ctx, store.RunFilter{}); len(runs) != 1 || runs[0].ID != keep.ID {
		t.Errorf("Runs after delete = %+v", runs)
	}
	if logs, err := db.Logs(ctx, keep.ID, "", 0); err != nil || len(logs) != 1 {
		t.Errorf("kept run's logs = %v, %v", logs, err)
	}
	if _, _, err := db.Artifact(ctx, keep.ID, "model", "model"); err != nil {
		t.Errorf("kept run's artifact: %v", err)
	}
	if _, err := db.Preview(ctx, keep.ID, "load"); err != nil {
		t.Errorf("kept run's preview: %v", err)
	}
}

// writeMeta replaces the schema version in a closed store's file.
func writeMeta(t *testing.T, path, version string) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte(version)) })
	if err != nil {
		t.Fatal(err)
	}
}

func TestSchemaVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sluice.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	addRun(t, db, "iris", engine.StatusSucceeded)

	writeMeta(t, path, strconv.Itoa(store.SchemaVersion+1))
	for _, ro := range []bool{false, true} {
		_, err := store.Open(path, &store.Options{ReadOnly: ro})
		if !errors.Is(err, store.ErrSchema) {
			t.Fatalf("Open(ReadOnly %v) of a newer schema = %v, want ErrSchema", ro, err)
		}
		want := fmt.Sprintf("schema version %d, newer than version %d", store.SchemaVersion+1, store.SchemaVersion)
		if !bytes.Contains([]byte(err.Error()), []byte(want)) || !bytes.Contains([]byte(err.Error()), []byte(path)) {
			t.Errorf("error %q does not name the path and the versions", err)
		}
	}
	// An open DB checks on every operation, too.
	if _, err := db.Run(context.Background(), 1); !errors.Is(err, store.ErrSchema) {
		t.Errorf("Run on a newer schema = %v, want ErrSchema", err)
	}
	writeMeta(t, path, "banana")
	if _, err := store.Open(path, nil); !errors.Is(err, store.ErrSchema) {
		t.Errorf("Open of an unreadable schema = %v, want ErrSchema", err)
	}
	writeMeta(t, path, strconv.Itoa(store.SchemaVersion))
	if _, err := db.Run(context.Background(), 1); err != nil {
		t.Errorf("Run after restoring the schema: %v", err)
	}
	mustCheck(t, db)
}

func TestNotStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, bytes.Repeat([]byte("these are not the pages you are looking for\n"), 200), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("hi"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	b, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err })
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{text, short, other, dir} {
		for _, ro := range []bool{false, true} {
			_, err := store.Open(path, &store.Options{ReadOnly: ro})
			if !errors.Is(err, store.ErrNotStore) {
				t.Errorf("Open(%s, ReadOnly %v) = %v, want ErrNotStore", filepath.Base(path), ro, err)
			}
		}
	}
	// The text file is left as it was.
	if got, _ := os.ReadFile(text); !bytes.HasPrefix(got, []byte("these are")) {
		t.Errorf("Open changed a file that is not a store")
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sluice.db")
	if _, err := store.Open(path, &store.Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open read-only of a missing file = %v, want fs.ErrNotExist", err)
	}
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	addRun(t, db, "iris", engine.StatusSucceeded)
	ro, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if runs, err := ro.Runs(ctx, store.RunFilter{}); err != nil || len(runs) != 1 {
		t.Errorf("Runs read-only = %v, %v", runs, err)
	}
	if _, err := ro.BeginRun(ctx, newRun("iris")); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("BeginRun read-only = %v, want ErrReadOnly", err)
	}
	ro.Close()
	if _, err := ro.Runs(ctx, store.RunFilter{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Runs after Close = %v, want ErrClosed", err)
	}
	mustCheck(t, db)
}

// TestBusy holds the file's lock the way another process would and
// checks that the store gives up with ErrBusy only once it has waited out
// Retry (by its own account in the error), and that a writer waiting for
// the lock gets through after, and only after, it is released.
func TestBusy(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	addRun(t, db, "iris", engine.StatusSucceeded)
	quick, err := store.Open(db.Path(), &store.Options{Timeout: 60 * time.Millisecond, Retry: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer quick.Close()
	holder, err := bolt.Open(db.Path(), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = quick.Runs(ctx, store.RunFilter{})
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("Runs while another holds the file = %v, want ErrBusy", err)
	}
	_, held, _ := strings.Cut(err.Error(), "held the file lock for ")
	if d, perr := time.ParseDuration(held); perr != nil || d < 150*time.Millisecond {
		t.Errorf("ErrBusy says %q: want it given up only after the 150ms of Retry", err)
	}
	// Released while a writer waits: the writer gets through, after the
	// release.
	var released atomic.Bool
	go func() {
		time.Sleep(100 * time.Millisecond)
		released.Store(true)
		holder.Close()
	}()
	if _, err := db.BeginRun(ctx, newRun("iris")); err != nil {
		t.Errorf("BeginRun once the lock is released: %v", err)
	}
	if !released.Load() {
		t.Error("BeginRun got through while another process held the lock")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Runs(cctx, store.RunFilter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Runs with a cancelled context = %v", err)
	}
}

func TestMarkInterrupted(t *testing.T) {
	t.Parallel()
	// A PID that belonged to a process that has ended and been reaped.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := cmd.Process.Pid

	db := mustOpen(t)
	ctx := context.Background()
	type tc struct {
		name    string
		host    string
		pid     int
		beat    time.Duration // heartbeat age; 0: none
		stopped bool          // whether Open should mark it
	}
	cases := []tc{
		{"dead pid on this host", host, deadPID, time.Second, true},
		{"dead pid, no heartbeat", host, deadPID, 0, true},
		{"this process", host, os.Getpid(), time.Second, false},
		{"this process, no heartbeat", host, os.Getpid(), 0, false},
		{"other host, fresh heartbeat", "elsewhere.example", deadPID, time.Second, false},
		{"other host, no heartbeat", "elsewhere.example", deadPID, 0, false},
		{"other host, stale heartbeat", "elsewhere.example", deadPID, time.Hour, true},
		{"live pid, stale heartbeat", host, os.Getpid(), time.Hour, true},
	}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		r := newRun("iris")
		r.Host, r.PID = c.host, c.pid
		r.Heartbeat = time.Time{}
		if c.beat > 0 {
			r.Heartbeat = time.Now().Add(-c.beat).UTC()
		}
		r.Started = time.Now().Add(-2 * time.Hour).UTC()
		r.Stages[0].Status, r.Stages[0].Started, r.Stages[0].Finished = engine.StatusSucceeded, r.Started, r.Started.Add(time.Second)
		r.Stages[1].Status, r.Stages[1].Started = engine.StatusRunning, r.Started.Add(time.Second)
		begin(t, db, r)
		ids[i] = r.ID
	}
	finished := addRun(t, db, "iris", engine.StatusSucceeded)

	db2, err := store.Open(db.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := db2.Run(ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			if !c.stopped {
				if r.Status != engine.StatusRunning || r.Stages[1].Status != engine.StatusRunning {
					t.Errorf("status %s, stage %s; want it left running", r.Status, r.Stages[1].Status)
				}
				return
			}
			if r.Status != engine.StatusInterrupted || r.Error == "" || r.Finished.IsZero() || r.Seconds <= 0 {
				t.Errorf("run: status %s error %q finished %v seconds %v; want interrupted with all three", r.Status, r.Error, r.Finished, r.Seconds)
			}
			want := []engine.Status{engine.StatusSucceeded, engine.StatusInterrupted, engine.StatusInterrupted}
			for j, s := range r.Stages {
				if s.Status != want[j] {
					t.Errorf("stage %s: %s, want %s", s.ID, s.Status, want[j])
				}
			}
			sums, _ := db2.Runs(ctx, store.RunFilter{Before: ids[i] + 1, Limit: 1})
			if len(sums) != 1 || sums[0].Status != engine.StatusInterrupted {
				t.Errorf("summary = %+v, want interrupted", sums)
			}
		})
	}
	if r, _ := db2.Run(ctx, finished.ID); r.Status != engine.StatusSucceeded {
		t.Errorf("finished run became %s", r.Status)
	}
	// Nothing left to mark; a live run that records again is running again.
	if ids, err := db2.MarkInterrupted(ctx); err != nil || len(ids) != 0 {
		t.Errorf("MarkInterrupted again = %v, %v; want nothing", ids, err)
	}
	back, _ := db2.Run(ctx, ids[len(ids)-1])
	back.Status, back.Heartbeat, back.Error = engine.StatusRunning, time.Now().UTC(), ""
	if err := db2.RecordRun(ctx, back, nil); err != nil {
		t.Fatal(err)
	}
	if running, _ := db2.Runs(ctx, store.RunFilter{Status: []engine.Status{engine.StatusRunning}}); len(running) != 5 {
		t.Errorf("%d running runs, want 5", len(running))
	}
}

// TestConcurrent begins, records and lists runs from many goroutines of
// one process at once (run it with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	const workers, perWorker = 8, 5
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids []int64
	)
	errs := make(chan error, workers*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				r := newRun(fmt.Sprintf("p%d", w%3))
				id, err := db.BeginRun(ctx, r)
				if err != nil {
					errs <- err
					return
				}
				r.ID = id
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
				d := &engine.RunDelta{Logs: []engine.LogLine{{Stage: "load", Text: fmt.Sprintf("w%d i%d", w, i)}}}
				if err := db.RecordRun(ctx, r, d); err != nil {
					errs <- err
					return
				}
				finish(r, engine.StatusSucceeded)
				if err := db.RecordRun(ctx, r, d); err != nil {
					errs <- err
					return
				}
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				if _, err := db.Runs(ctx, store.RunFilter{Pipeline: "p1"}); err != nil {
					errs <- err
					return
				}
				if _, err := db.Count(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	slices.Sort(ids)
	for i, id := range ids {
		if id != int64(i+1) || len(ids) != workers*perWorker {
			t.Fatalf("run numbers = %v, want 1..%d each once", ids, workers*perWorker)
		}
	}
	runs, err := db.Runs(ctx, store.RunFilter{})
	if err != nil || len(runs) != workers*perWorker {
		t.Fatalf("Runs = %d, %v", len(runs), err)
	}
	for _, s := range runs {
		if s.Status != engine.StatusSucceeded {
			t.Errorf("run %d: %s", s.ID, s.Status)
		}
		if logs, err := db.Logs(ctx, s.ID, "load", 0); err != nil || len(logs) != 2 {
			t.Errorf("run %d logs = %v, %v", s.ID, logs, err)
		}
	}
}

// A tuning stage's fold lines keep their fold as data: the workbench
// rebuilds a stored run's leaderboard from it without reading the text.
func TestLogFoldStored(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	ctx := context.Background()
	r := begin(t, db, newRun("iris"))
	fold := engine.CandidateFold{Candidate: 2, Candidates: 4, Fold: 3, Folds: 5, Score: 0.9533333333333334, Params: map[string]any{"C": 10.0}}
	d := &engine.RunDelta{Logs: []engine.LogLine{
		{Stage: "tune", Text: "fitting"},
		{Stage: "tune", Text: fold.LogLine(), Fold: &fold},
	}}
	if err := db.RecordRun(ctx, r, d); err != nil {
		t.Fatal(err)
	}
	logs, err := db.Logs(ctx, r.ID, "tune", 0)
	if err != nil || len(logs) != 2 {
		t.Fatalf("logs = %v, %v; want 2 lines", logs, err)
	}
	if logs[0].Fold != nil {
		t.Errorf("plain line got fold %+v", logs[0].Fold)
	}
	if logs[1].Fold == nil || !reflect.DeepEqual(*logs[1].Fold, fold) || logs[1].Text != fold.LogLine() {
		t.Errorf("fold line = %+v (fold %+v), want text %q and fold %+v", logs[1], logs[1].Fold, fold.LogLine(), fold)
	}
}
