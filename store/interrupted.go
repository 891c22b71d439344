// Runs left running by a process that is gone: MarkInterrupted finds
// them (no such PID on this host, or a stale heartbeat) and records them
// interrupted.

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sluice-ml/sluice/engine"
	bolt "go.etcd.io/bbolt"
)

// MarkInterrupted marks as interrupted every run recorded as running
// whose process is gone, with its unfinished stages, and returns their
// numbers. A run's process is gone when the run was started on this host
// and no process has its PID, or when its heartbeat is older than
// Options.StaleAfter (whatever the host). Open calls it; a long-lived
// reader may call it again. It only reads unless there is something to
// mark. A run whose process is in fact alive and records it again is
// simply overwritten with that newer snapshot. On a read-only DB it
// does nothing.
func (db *DB) MarkInterrupted(ctx context.Context) ([]int64, error) {
	if db.opts.ReadOnly {
		return nil, nil
	}
	ids, err := db.markInterrupted(ctx)
	if err != nil {
		return nil, fmt.Errorf("mark interrupted runs: %w", err)
	}
	return ids, nil
}

func (db *DB) markInterrupted(ctx context.Context) ([]int64, error) {
	var dead []int64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		active, err := bucket(tx, bucketActive)
		if err != nil {
			return err
		}
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		now := time.Now()
		return active.ForEach(func(k, mark []byte) error {
			v := runs.Get(k)
			if v == nil {
				dead = append(dead, keyID(k)) // a stale entry: drop it
				return nil
			}
			r, err := decodeRun(v)
			if err != nil {
				return fmt.Errorf("run %d: %w", keyID(k), err)
			}
			if r.Status != engine.StatusRunning || len(mark) > 0 || db.abandoned(r, now) != "" {
				dead = append(dead, r.ID)
			}
			return nil
		})
	})
	if err != nil || len(dead) == 0 {
		return nil, err
	}
	var marked []int64
	err = db.update(ctx, func(tx *bolt.Tx) error {
		marked = marked[:0]
		active, err := bucket(tx, bucketActive)
		if err != nil {
			return err
		}
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, id := range dead {
			key := runKey(id)
			mark := active.Get(key)
			if mark == nil {
				continue // another process got there first
			}
			v := runs.Get(key)
			if v == nil {
				if err := active.Delete(key); err != nil {
					return err
				}
				continue
			}
			r, err := decodeRun(v)
			if err != nil {
				return fmt.Errorf("run %d: %w", id, err)
			}
			if r.Status != engine.StatusRunning {
				if err := active.Delete(key); err != nil {
					return err
				}
				continue
			}
			if len(mark) > 0 {
				notRecorded(r, now, decodeNotRecorded(mark))
			} else if why := db.abandoned(r, now); why != "" {
				interrupt(r, now, why)
			} else {
				continue // it came back to life
			}
			if err := putRun(tx, r); err != nil {
				return err
			}
			marked = append(marked, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return marked, nil
}

// abandoned says why a running run's process is taken for dead, or ""
// if it may be alive.
func (db *DB) abandoned(r *engine.Run, now time.Time) string {
	if r.Host != "" && r.Host == db.host && r.PID > 0 && !processAlive(r.PID) {
		return fmt.Sprintf("interrupted: process %d on %s ended while the run was running", r.PID, r.Host)
	}
	if !r.Heartbeat.IsZero() && now.Sub(r.Heartbeat) > db.opts.StaleAfter {
		return fmt.Sprintf("interrupted: no heartbeat from process %d on %s since %s", r.PID, r.Host, r.Heartbeat.UTC().Format(time.RFC3339))
	}
	return ""
}

// interrupt marks a run and its unfinished stages interrupted. The last
// heartbeat is the best guess of when its process stopped.
func interrupt(r *engine.Run, now time.Time, why string) {
	end := r.Heartbeat.UTC()
	if end.IsZero() || end.Before(r.Started) {
		end = now.UTC()
	}
	r.Status = engine.StatusInterrupted
	r.Finished = end
	r.Seconds = end.Sub(r.Started).Seconds()
	if r.Error == "" {
		r.Error = why
	}
	for i := range r.Stages {
		s := &r.Stages[i]
		switch s.Status {
		case engine.StatusPending:
			s.Status = engine.StatusInterrupted
			s.Error = "not started: the run was interrupted"
		case engine.StatusRunning:
			s.Status = engine.StatusInterrupted
			s.Finished = end
			if !s.Started.IsZero() && !end.Before(s.Started) {
				s.Seconds = end.Sub(s.Started).Seconds()
			}
			s.Error = "interrupted while running"
		case engine.StatusSucceeded, engine.StatusFailed, engine.StatusCancelled, engine.StatusSkipped,
			engine.StatusInterrupted, engine.StatusCached:
			// final already
		}
	}
}

// MarkNotRecorded notes that run id's final record could not be written
// (why), in the smallest write the store makes: the value of the run's
// entry among the running runs. The next writable open (of any process)
// records the run failed to record, with its results as of its last
// successful write, instead of taking it for interrupted once its
// process is gone. It does nothing for a run that is not running.
func (db *DB) MarkNotRecorded(ctx context.Context, id int64, why string) error {
	if len(why) > maxNotRecordedWhy {
		why = why[:maxNotRecordedWhy] + "…"
	}
	mark, err := json.Marshal(notRecordedMark{V: 1, Why: why})
	if err != nil {
		return err
	}
	err = db.update(ctx, func(tx *bolt.Tx) error {
		active, err := bucket(tx, bucketActive)
		if err != nil {
			return err
		}
		if active.Get(runKey(id)) == nil {
			return nil
		}
		return active.Put(runKey(id), mark)
	})
	if err != nil {
		return fmt.Errorf("mark run %d not recorded: %w", id, err)
	}
	return nil
}

var _ engine.NotRecordedMarker = (*DB)(nil)

// maxNotRecordedWhy bounds the reason a mark keeps, so the mark stays a
// small write.
const maxNotRecordedWhy = 200

// notRecordedMark is the value of a running run's entry in the active
// bucket once its final record failed (an empty value otherwise).
type notRecordedMark struct {
	V   int    `json:"v"`
	Why string `json:"not_recorded"`
}

// decodeNotRecorded returns the reason a mark gives; a mark that does not
// decode still says the run was not recorded.
func decodeNotRecorded(mark []byte) string {
	var m notRecordedMark
	if err := json.Unmarshal(mark, &m); err != nil || m.Why == "" {
		return "the final record could not be written"
	}
	return m.Why
}

// notRecorded marks a run whose final record could not be written: the
// run failed to record; the stages its last successful write left
// unfinished are marked interrupted, their results unknown.
func notRecorded(r *engine.Run, now time.Time, why string) {
	prev := r.Error
	var open []int
	for i, s := range r.Stages {
		if s.Status == engine.StatusPending || s.Status == engine.StatusRunning {
			open = append(open, i)
		}
	}
	interrupt(r, now, "")
	r.Status = engine.StatusFailed
	r.Error = "failed to record: " + why
	if prev != "" {
		r.Error += "; " + prev
	}
	for _, i := range open {
		r.Stages[i].Error = "not recorded: the run ended, but its final record could not be written"
	}
}
