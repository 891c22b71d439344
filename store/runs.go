// Run records: writing a run as it goes (BeginRun, RecordRun), reading
// runs and their summaries, and deleting them. Marking the runs of dead
// processes interrupted is in interrupted.go.

package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// BeginRun gives r the next run number of the store (1, 2, 3…) and
// writes it, durably, under that number. r itself is not changed: the
// caller sets r.ID from the result. It implements engine.Recorder.
func (db *DB) BeginRun(ctx context.Context, r *engine.Run) (int64, error) {
	if r == nil {
		return 0, errors.New("begin run: nil run")
	}
	var id int64
	err := db.update(ctx, func(tx *bolt.Tx) error {
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		seq, err := runs.NextSequence()
		if err != nil {
			return err
		}
		id = int64(seq)
		c := *r
		c.ID = id
		return putRun(tx, &c)
	})
	if err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	return id, nil
}

// RecordRun writes r, a full snapshot of a run begun with BeginRun, and
// appends what d holds (log lines, previews, artifacts) in one
// transaction, durable when RecordRun returns. d may be nil. It returns
// an error wrapping engine.ErrNotFound if the run was never begun (or
// was deleted). It implements engine.Recorder.
//
// RecordRun does not stop when ctx is cancelled: what it was handed
// exists nowhere else, and an executor winding down may cancel the
// context of its last periodic flush. It is bounded by Options.Timeout
// and Options.Retry instead.
func (db *DB) RecordRun(ctx context.Context, r *engine.Run, d *engine.RunDelta) error {
	ctx = context.WithoutCancel(ctx)
	if r == nil || r.ID <= 0 {
		return errors.New("record run: run has no number")
	}
	// Encode before taking the lock, to keep the transaction short.
	rec, err := encodeRun(r)
	if err != nil {
		return fmt.Errorf("record run %d: %w", r.ID, err)
	}
	sum, err := encodeSummary(r)
	if err != nil {
		return fmt.Errorf("record run %d: %w", r.ID, err)
	}
	var (
		lines    [][]byte
		previews [][2][]byte
		arts     [][2][]byte
	)
	if d != nil {
		lines = make([][]byte, len(d.Logs))
		for i, l := range d.Logs {
			if lines[i], err = json.Marshal(logRecord{T: l.Time, S: l.Stream, X: l.Text, F: l.Fold}); err != nil {
				return fmt.Errorf("record run %d: log line: %w", r.ID, err)
			}
		}
		for _, p := range d.Previews {
			if p == nil {
				continue
			}
			if p.Stage == "" {
				return fmt.Errorf("record run %d: preview without a stage", r.ID)
			}
			b, err := json.Marshal(previewRecord{V: recordVersion, Preview: p})
			if err != nil {
				return fmt.Errorf("record run %d: preview of %s: %w", r.ID, p.Stage, err)
			}
			previews = append(previews, [2][]byte{stageKey(r.ID, p.Stage), b})
		}
		for _, info := range d.Artifacts {
			if info.Stage == "" || info.Name == "" || info.SHA256 == "" {
				return fmt.Errorf("record run %d: artifact %q of stage %q: needs a stage, a name and a key", r.ID, info.Name, info.Stage)
			}
			b, err := json.Marshal(artInfoRecord{V: recordVersion, Info: info})
			if err != nil {
				return fmt.Errorf("record run %d: artifact %s/%s: %w", r.ID, info.Stage, info.Name, err)
			}
			arts = append(arts, [2][]byte{artKey(r.ID, info.Stage, info.Name), b})
		}
	}
	err = db.update(ctx, func(tx *bolt.Tx) error {
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		key := runKey(r.ID)
		if runs.Get(key) == nil {
			return engine.ErrNotFound
		}
		if err := put(tx, bucketRuns, key, rec); err != nil {
			return err
		}
		if err := put(tx, bucketSummaries, key, sum); err != nil {
			return err
		}
		if err := put(tx, bucketPipelines, pipelineKey(r.Pipeline, r.ID), []byte{}); err != nil {
			return err
		}
		if err := setActive(tx, r); err != nil {
			return err
		}
		if err := indexStages(tx, r); err != nil {
			return err
		}
		if len(lines) > 0 {
			if err := appendLogs(tx, r.ID, d.Logs, lines); err != nil {
				return err
			}
		}
		for _, p := range previews {
			if err := put(tx, bucketPreviews, p[0], p[1]); err != nil {
				return err
			}
		}
		for _, a := range arts {
			if err := put(tx, bucketArtInfo, a[0], a[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record run %d: %w", r.ID, err)
	}
	return nil
}

// appendLogs adds encoded lines after the run's last line. The run's
// next line number is kept under the bare run key of the logs bucket.
func appendLogs(tx *bolt.Tx, id int64, logs []engine.LogLine, lines [][]byte) error {
	b, err := bucket(tx, bucketLogs)
	if err != nil {
		return err
	}
	ck := runKey(id)
	next := u64(b.Get(ck))
	for i, l := range logs {
		if err := b.Put(logKey(id, l.Stage, next), lines[i]); err != nil {
			return fmt.Errorf("append log: %w", err)
		}
		next++
	}
	return b.Put(ck, putU64(next))
}

// putRun writes a run record, its summary and its place in the active
// set.
func putRun(tx *bolt.Tx, r *engine.Run) error {
	rec, err := encodeRun(r)
	if err != nil {
		return err
	}
	sum, err := encodeSummary(r)
	if err != nil {
		return err
	}
	key := runKey(r.ID)
	if err := put(tx, bucketRuns, key, rec); err != nil {
		return err
	}
	if err := put(tx, bucketSummaries, key, sum); err != nil {
		return err
	}
	if err := put(tx, bucketPipelines, pipelineKey(r.Pipeline, r.ID), []byte{}); err != nil {
		return err
	}
	if err := indexStages(tx, r); err != nil {
		return err
	}
	return setActive(tx, r)
}

// setActive keeps the active bucket holding exactly the runs whose
// status is running, so Open finds them without a scan.
func setActive(tx *bolt.Tx, r *engine.Run) error {
	b, err := bucket(tx, bucketActive)
	if err != nil {
		return err
	}
	if r.Status == engine.StatusRunning {
		return b.Put(runKey(r.ID), []byte{})
	}
	return b.Delete(runKey(r.ID))
}

func put(tx *bolt.Tx, name, key, value []byte) error {
	b, err := bucket(tx, name)
	if err != nil {
		return err
	}
	if err := b.Put(key, value); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Run returns the run with the given number, or an error wrapping
// engine.ErrNotFound.
func (db *DB) Run(ctx context.Context, id int64) (*engine.Run, error) {
	var r *engine.Run
	err := db.view(ctx, func(tx *bolt.Tx) error {
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		v := runs.Get(runKey(id))
		if v == nil {
			return engine.ErrNotFound
		}
		// json.Unmarshal copies what it keeps, so nothing refers to
		// the memory map after the transaction.
		if r, err = decodeRun(v); err != nil {
			return err
		}
		r.Tags, r.Note = notesOf(tx)(id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", id, err)
	}
	return r, nil
}

// RunFilter selects runs for Runs. The zero RunFilter selects every run.
type RunFilter = engine.RunFilter

// Runs returns the summaries of the runs f selects, newest (highest
// number) first. Each summary is read from a small record of its own,
// so listing many runs is fast; Run gives a run in full.
func (db *DB) Runs(ctx context.Context, f RunFilter) ([]RunSummary, error) {
	var out []RunSummary
	err := db.view(ctx, func(tx *bolt.Tx) error {
		next, err := newestFirst(tx, f.Pipeline, f.Before)
		if err != nil {
			return err
		}
		notes := notesOf(tx)
		if f.Limit == 0 && f.Pipeline == "" {
			out = make([]RunSummary, 0, tx.Bucket(bucketSummaries).Stats().KeyN)
		}
		// Read raw records in batches and decode each batch in parallel:
		// decoding is nearly all the work of a long list.
		raw := make([][]byte, 0, summaryBatch)
		ids := make([]int64, 0, summaryBatch)
		for more := true; more; {
			want := summaryBatch
			if f.Limit > 0 {
				want = min(want, max(f.Limit-len(out), 16))
			}
			raw, ids = raw[:0], ids[:0]
			for len(raw) < want {
				id, v := next()
				if id == 0 {
					more = false
					break
				}
				raw, ids = append(raw, v), append(ids, id)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			batch, err := decodeSummaries(raw, ids)
			if err != nil {
				return err
			}
			for i := range batch {
				batch[i].Tags, batch[i].Note = notes(ids[i])
			}
			for i := range batch {
				if !f.Match(&batch[i]) {
					continue
				}
				out = append(out, batch[i])
				if f.Limit > 0 && len(out) >= f.Limit {
					return nil
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// summaryBatch is how many summaries Runs decodes at a time.
const summaryBatch = 1024

// decodeSummaries decodes records, spreading a large batch over the
// CPUs. The records may point into the memory map: they are only read
// here, within the transaction, and decoding copies what it keeps.
func decodeSummaries(raw [][]byte, ids []int64) ([]RunSummary, error) {
	out := make([]RunSummary, len(raw))
	workers := min(runtime.GOMAXPROCS(0), len(raw)/128)
	if workers <= 1 {
		for i, v := range raw {
			s, err := decodeSummary(v)
			if err != nil {
				return nil, fmt.Errorf("run %d: %w", ids[i], err)
			}
			out[i] = s
		}
		return out, nil
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, workers)
		size = (len(raw) + workers - 1) / workers
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * size; i < min((w+1)*size, len(raw)); i++ {
				s, err := decodeSummary(raw[i])
				if err != nil {
					errs[w] = fmt.Errorf("run %d: %w", ids[i], err)
					return
				}
				out[i] = s
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// newestFirst returns a function giving the runs below before (0: no
// bound), of the pipeline if not "", newest first: each run's number and
// its summary record, then 0 and nil. It reads the summaries bucket, or
// the pipelines index and the summaries it points to.
func newestFirst(tx *bolt.Tx, pipeline string, before int64) (func() (int64, []byte), error) {
	sums, err := bucket(tx, bucketSummaries)
	if err != nil {
		return nil, err
	}
	b, prefix := sums, []byte(nil)
	if pipeline != "" {
		prefix = pipelinePrefix(pipeline)
		if b, err = bucket(tx, bucketPipelines); err != nil {
			return nil, err
		}
	}
	c := b.Cursor()
	// Seek to the first key past the range, then step back.
	var end []byte
	if before > 0 {
		end = append(slices.Clip(prefix), runKey(before)...)
	} else if prefix != nil {
		end = append(prefix[:len(prefix)-1:len(prefix)-1], 1) // NUL+1: past every key of the pipeline
	}
	var k, v []byte
	if end == nil {
		k, v = c.Last()
	} else if k, v = c.Seek(end); k != nil {
		k, v = c.Prev()
	} else {
		k, v = c.Last()
	}
	first := true
	return func() (int64, []byte) {
		for {
			if !first {
				k, v = c.Prev()
			}
			first = false
			if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
				k = nil
				return 0, nil
			}
			id := keyID(k[len(prefix):])
			if prefix == nil {
				return id, v
			}
			if sv := sums.Get(k[len(prefix):]); sv != nil {
				return id, sv
			}
			// An index entry without a run: skip it.
		}
	}, nil
}

// Latest returns the number of the newest run of the pipeline (of any
// pipeline if pipeline is ""), or an error wrapping engine.ErrNotFound
// when there is none.
func (db *DB) Latest(ctx context.Context, pipeline string) (int64, error) {
	var id int64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		next, err := newestFirst(tx, pipeline, 0)
		if err != nil {
			return err
		}
		if id, _ = next(); id == 0 {
			return engine.ErrNotFound
		}
		return nil
	})
	if err != nil {
		if pipeline == "" {
			return 0, fmt.Errorf("latest run: %w", err)
		}
		return 0, fmt.Errorf("latest run of %s: %w", pipeline, err)
	}
	return id, nil
}

// Count returns how many runs the store holds.
func (db *DB) Count(ctx context.Context) (int, error) {
	var n int
	err := db.view(ctx, func(tx *bolt.Tx) error {
		sums, err := bucket(tx, bucketSummaries)
		if err != nil {
			return err
		}
		n = sums.Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count runs: %w", err)
	}
	return n, nil
}

// DeleteRun removes a run for good, at once, with its logs, previews,
// artifact references and notes (the artifacts' bytes stay until GC
// finds nothing refers to them). Run numbers are never reused. Delete
// (to the trash) is what the commands use; this skips the trash. It
// returns an error wrapping engine.ErrNotFound for a run that is not
// there, and refuses a run that is still running in a live process.
func (db *DB) DeleteRun(ctx context.Context, id int64) error {
	err := db.update(ctx, func(tx *bolt.Tx) error {
		r, err := runIn(tx, id)
		if err != nil {
			return err
		}
		if r.Status == engine.StatusRunning && db.abandoned(r, time.Now()) == "" {
			return fmt.Errorf("it is running (process %d on %s)", r.PID, r.Host)
		}
		return deleteRunTx(tx, id)
	})
	if err != nil {
		return fmt.Errorf("delete run %d: %w", id, err)
	}
	return nil
}

// deletePrefix deletes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
