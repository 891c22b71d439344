package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// FuzzDecodeRecords feeds bytes to every decoder of a stored record (run,
// summary, log line, artifact reference, alias, notes, queue item), and a
// run that decodes through what readers do with it: re-encoding,
// summarising, marking it interrupted. Errors are fine; a panic is not.
func FuzzDecodeRecords(f *testing.F) {
	r := fuzzRun()
	for _, b := range fuzzSeeds(r) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if run, err := decodeRun(b); err == nil {
			enc, err := encodeRun(run)
			if err != nil {
				t.Fatalf("a decoded run does not encode: %v", err)
			}
			if _, err := decodeRun(enc); err != nil {
				t.Fatalf("a re-encoded run does not decode: %v", err)
			}
			if _, err := encodeSummary(run); err != nil {
				t.Fatalf("a decoded run does not summarise: %v", err)
			}
			interrupt(run, time.Unix(0, 0).UTC(), "fuzz")
		}
		_, _ = decodeSummary(b)
		_, _ = decodeLog("s", b)
		_, _ = decodeArtInfo(b)
		_, _ = decodeAlias(b)
		_, _ = decodeNotes(b)
		_, _ = decodeQueue(b)
		_ = decodeNotRecorded(b)
	})
}

func fuzzRun() *engine.Run {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return &engine.Run{
		ID: 1, Pipeline: "iris", File: "iris.yaml", Spec: "name: iris\n", Seed: 42, Status: engine.StatusSucceeded,
		Started: t0, Finished: t0.Add(time.Second), Seconds: 1, Host: "h", PID: 7,
		Params: map[string]map[string]any{"model": {"C": 1.0}},
		Stages: []engine.StageRun{
			{ID: "load", Uses: "read_csv", Kind: engine.KindTable, Status: engine.StatusSucceeded, Rows: 150, Cols: 5},
			{ID: "model", Uses: "logistic_regression", Needs: []string{"load"}, Kind: engine.KindModel, Status: engine.StatusRunning,
				Metrics: map[string]float64{"accuracy": 0.9}},
		},
	}
}

// fuzzSeeds are the records a store holds for r, as written.
func fuzzSeeds(r *engine.Run) [][]byte {
	run, _ := encodeRun(r)
	sum, _ := encodeSummary(r)
	return [][]byte{
		run, sum,
		[]byte(`{"t":"2024-05-01T12:00:00Z","s":"stdout","x":"hello"}`),
		[]byte(`{"v":1,"info":{"stage":"model","name":"model","sha256":"ab","size":3}}`),
		[]byte(`{"v":1,"aliases":{"prod":{"run":1,"stage":"model"}}}`),
		[]byte(`{"v":1,"tags":["a"],"note":"n"}`),
		[]byte(`{"v":1,"id":1,"file":"p.yaml","sets":[["a.b=1"]],"status":"queued"}`),
		[]byte(`{"v":99,"run":null}`),
	}
}

// FuzzOpenDamagedStore damages a copy of a store file (bytes overwritten
// at an offset, or the file cut short), checks it, reads everything back
// through the public API read-only, then opens it for writing and
// records a run. A damaged file must give an error, never a panic, a
// crash or a hang. Commits are not fsynced (Options.noSync): the fsync
// cost more than all the rest of an execution. The store file stays as
// it is: the corpus entries' offsets are places in it.
func FuzzOpenDamagedStore(f *testing.F) {
	base := fuzzStoreFile(f)
	const page = 4096
	for _, off := range []uint32{0, 16, page, page + 16, 2 * page, 3 * page, 4*page + 40, 5 * page, 7 * page} {
		f.Add(off, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false)
		f.Add(off, []byte{0, 0, 0, 0}, false)
	}
	f.Add(uint32(3*page), []byte{}, true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, off uint32, patch []byte, cut bool) {
		damagedStore(t, base, dir, off, patch, cut)
	})
}

func damagedStore(t testing.TB, base []byte, dir string, off uint32, patch []byte, cut bool) {
	{
		data := append([]byte(nil), base...)
		at := int(off) % len(data)
		if cut {
			data = data[:at]
		} else {
			copy(data[at:], patch)
		}
		path := filepath.Join(dir, "damaged.db")
		_ = os.Remove(path)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		opts := &Options{ReadOnly: true, Retry: -1, Timeout: 100 * time.Millisecond, noSync: true, holdOpen: true}
		db, err := Open(path, opts)
		if err != nil {
			checkDamagedError(t, err)
			return
		}
		// Every read walks the page tree first (a cycle would send
		// bbolt's cursors round for ever), so the store is read on
		// whatever Check finds.
		if err := db.Check(ctx); err != nil {
			checkDamagedError(t, err)
		}
		readAll(ctx, db)
		_ = db.Close()
		if db, err := Open(path, &Options{Retry: -1, Timeout: 100 * time.Millisecond, StaleAfter: time.Hour, noSync: true}); err == nil {
			if id, err := db.BeginRun(ctx, fuzzRun()); err == nil {
				r := fuzzRun()
				r.ID = id
				_ = db.RecordRun(ctx, r, &engine.RunDelta{Logs: []engine.LogLine{{Stage: "load", Text: "x"}}})
			}
			_ = db.Close()
		} else {
			checkDamagedError(t, err)
		}
	}
}

// checkDamagedError fails on an error that is not about the file: a
// damaged store must say so, not time out or claim a lock.
func checkDamagedError(t testing.TB, err error) {
	if errors.Is(err, ErrBusy) || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("a damaged store reports %v", err)
	}
}

func readAll(ctx context.Context, db *DB) {
	sums, _ := db.Runs(ctx, RunFilter{})
	for _, s := range sums {
		if r, err := db.Run(ctx, s.ID); err == nil {
			for _, st := range r.Stages {
				_, _ = db.Logs(ctx, r.ID, st.ID, 0)
				_, _ = db.Preview(ctx, r.ID, st.ID)
			}
		}
		_, _ = db.Artifacts(ctx, s.ID)
	}
	_, _ = db.Run(ctx, 1)
	_, _ = db.Aliases(ctx, "iris", true)
	_, _ = db.Queue(ctx)
	_, _ = db.Trash(ctx)
	_, _ = db.Usage(ctx)
}

// fuzzStoreFile builds a small store (two runs with logs, previews and an
// artifact reference, notes, a queue item) and returns its bytes.
func fuzzStoreFile(f testing.TB) []byte {
	path := filepath.Join(f.TempDir(), "sluice.db")
	db, err := Open(path, nil)
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	for i := range 2 {
		r := fuzzRun()
		id, err := db.BeginRun(ctx, r)
		if err != nil {
			f.Fatal(err)
		}
		r.ID = id
		r.Stages[1].Status = engine.StatusSucceeded
		d := &engine.RunDelta{
			Previews:  []*engine.Preview{{Stage: "load", Rows: 150, Cols: 1, Columns: []engine.ColumnSummary{{Name: "x", Type: "float"}}, Head: [][]string{{"1.5"}}}},
			Artifacts: []engine.ArtifactInfo{{Stage: "model", Name: "model", SHA256: strings.Repeat("ab", 32), Size: 3}},
		}
		for j := range 50 {
			d.Logs = append(d.Logs, engine.LogLine{Stage: "load", Text: strings.Repeat("log ", j+i)})
		}
		if err := db.RecordRun(ctx, r, d); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := db.Tag(ctx, 1, "good"); err != nil {
		f.Fatal(err)
	}
	if _, err := db.Enqueue(ctx, "iris.yaml", [][]string{{"model.C=2"}}); err != nil {
		f.Fatal(err)
	}
	if err := db.Close(); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// TestHoldOpen checks the fuzz target's shortcut: a read-only DB with
// holdOpen reads the same as one without, keeps the file (and its
// shared lock) between reads, and lets it go at Close.
func TestHoldOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sluice.db")
	if err := os.WriteFile(path, fuzzStoreFile(t), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plain, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.Runs(ctx, RunFilter{})
	if err != nil || len(want) != 2 {
		t.Fatalf("Runs = %v, %v; want the store's two runs", want, err)
	}
	held, err := Open(path, &Options{ReadOnly: true, holdOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := held.Runs(ctx, RunFilter{})
		if err != nil || len(got) != len(want) || got[0].ID != want[0].ID || got[1].ID != want[1].ID {
			t.Fatalf("Runs with holdOpen = %v, %v; want %v", got, err, want)
		}
	}
	writer, err := Open(path, &Options{Retry: -1, Timeout: 50 * time.Millisecond})
	if err == nil {
		_, err = writer.BeginRun(ctx, fuzzRun())
	}
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("a write while a holdOpen reader keeps the file: %v, want ErrBusy", err)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if writer, err = Open(path, &Options{Retry: -1, Timeout: 50 * time.Millisecond}); err != nil {
		t.Fatalf("Open for writing after Close: %v", err)
	}
	if _, err := writer.BeginRun(ctx, fuzzRun()); err != nil {
		t.Errorf("a write after the holdOpen reader closed: %v", err)
	}
}
