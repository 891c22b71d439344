package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// trashRecord keeps what Delete took out of the lists, so Restore can
// put it back: {"v":1,"deleted":time,"summary":{…}}.
type trashRecord struct {
	V       int             `json:"v"`
	Deleted time.Time       `json:"deleted"`
	Summary json.RawMessage `json:"summary"`
}

// Delete moves runs to the trash: they leave Runs, Latest, Count and the
// stage cache at once, but their records, logs and artifacts stay until
// GC empties the trash, and Restore brings them back until then. Run
// still reads a run in the trash. All runs move or none: it returns an
// error wrapping engine.ErrNotFound for a run that is not there (or is
// already in the trash), and refuses a run still running in a live
// process.
func (db *DB) Delete(ctx context.Context, ids ...int64) error {
	now := time.Now().UTC()
	err := db.update(ctx, func(tx *bolt.Tx) error {
		trash, err := bucket(tx, bucketTrash)
		if err != nil {
			return err
		}
		sums, err := bucket(tx, bucketSummaries)
		if err != nil {
			return err
		}
		pipes, err := bucket(tx, bucketPipelines)
		if err != nil {
			return err
		}
		for _, id := range ids {
			key := runKey(id)
			r, err := runIn(tx, id)
			if err != nil {
				return err
			}
			if trash.Get(key) != nil {
				return fmt.Errorf("run %d is already in the trash: %w", id, engine.ErrNotFound)
			}
			if r.Status == engine.StatusRunning && db.abandoned(r, now) == "" {
				return fmt.Errorf("run %d is running (process %d on %s)", id, r.PID, r.Host)
			}
			rec, err := json.Marshal(trashRecord{V: recordVersion, Deleted: now, Summary: sums.Get(key)})
			if err != nil {
				return err
			}
			if err := trash.Put(key, rec); err != nil {
				return err
			}
			if err := sums.Delete(key); err != nil {
				return err
			}
			if err := pipes.Delete(pipelineKey(r.Pipeline, id)); err != nil {
				return err
			}
			if err := unindexStages(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete runs: %w", err)
	}
	return nil
}

// Restore takes runs out of the trash, back into the lists and the stage
// cache. All runs come back or none: it returns an error wrapping
// engine.ErrNotFound for a run that is not in the trash (never deleted,
// or gone for good by GC).
func (db *DB) Restore(ctx context.Context, ids ...int64) error {
	err := db.update(ctx, func(tx *bolt.Tx) error {
		trash, err := bucket(tx, bucketTrash)
		if err != nil {
			return err
		}
		for _, id := range ids {
			key := runKey(id)
			v := trash.Get(key)
			if v == nil {
				return fmt.Errorf("run %d is not in the trash: %w", id, engine.ErrNotFound)
			}
			r, err := runIn(tx, id)
			if err != nil {
				return err
			}
			// The summary is written afresh from the run record, so a
			// restored run lists as it is now.
			if err := trash.Delete(key); err != nil {
				return err
			}
			if err := putRun(tx, r); err != nil {
				return err
			}
			if err := indexStages(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restore runs: %w", err)
	}
	return nil
}

// TrashedRun is a run in the trash: its number, pipeline and when it was
// deleted.
type TrashedRun struct {
	ID       int64     `json:"id"`
	Pipeline string    `json:"pipeline"`
	Deleted  time.Time `json:"deleted"`
}

// Trash lists the runs in the trash, oldest number first.
func (db *DB) Trash(ctx context.Context) ([]TrashedRun, error) {
	var out []TrashedRun
	err := db.view(ctx, func(tx *bolt.Tx) error {
		trash, err := bucket(tx, bucketTrash)
		if err != nil {
			return err
		}
		return trash.ForEach(func(k, v []byte) error {
			var rec trashRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("trash entry of run %d: %w", keyID(k), err)
			}
			t := TrashedRun{ID: keyID(k), Deleted: rec.Deleted}
			if s, err := decodeSummary(rec.Summary); err == nil {
				t.Pipeline = s.Pipeline
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list trash: %w", err)
	}
	return out, nil
}
