package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// The queue holds runs asked for but not yet run (sluice run --sweep):
// it outlives the process that filled it, so `sluice queue resume` can
// run what is left and `sluice queue cancel` drop it. Items are keyed by
// their number, in the order they were queued.

var bucketQueue = []byte("queue")

// Queue item statuses.
const (
	QueueQueued    = "queued"
	QueueRunning   = "running"
	QueueDone      = "done" // the run finished (whatever its status)
	QueueCancelled = "cancelled"
)

// QueueItem is one run asked for.
type QueueItem struct {
	ID     int64     `json:"id"`
	Sweep  string    `json:"sweep"`
	File   string    `json:"file"`
	Sets   []string  `json:"sets"`
	Status string    `json:"status"`
	Run    int64     `json:"run,omitempty"` // once it ran
	Added  time.Time `json:"added"`
	Host   string    `json:"host,omitempty"` // the process running it
	PID    int       `json:"pid,omitempty"`
}

// Enqueue queues one run per set of overrides, all of one new sweep of
// file, and returns the items with their numbers and the sweep's id
// (the first item's number).
func (db *DB) Enqueue(ctx context.Context, file string, sets [][]string) ([]QueueItem, error) {
	var out []QueueItem
	now := time.Now().UTC()
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketQueue)
		if err != nil {
			return fmt.Errorf("create queue bucket: %w", err)
		}
		sweep := ""
		for _, s := range sets {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			if sweep == "" {
				sweep = fmt.Sprint(seq)
			}
			it := QueueItem{ID: int64(seq), Sweep: sweep, File: file, Sets: append([]string{}, s...), Status: QueueQueued, Added: now}
			if err := putQueue(b, &it); err != nil {
				return err
			}
			out = append(out, it)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("enqueue: %w", err)
	}
	return out, nil
}

func putQueue(b *bolt.Bucket, it *QueueItem) error {
	v, err := json.Marshal(struct {
		V int `json:"v"`
		*QueueItem
	}{recordVersion, it})
	if err != nil {
		return err
	}
	return b.Put(runKey(it.ID), v)
}

func decodeQueue(v []byte) (QueueItem, error) {
	var rec struct {
		V int `json:"v"`
		QueueItem
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return QueueItem{}, fmt.Errorf("decode queue item: %w", err)
	}
	return rec.QueueItem, checkRecordVersion(rec.V)
}

// Queue lists the queue, oldest first. An item left running by a process
// that died on this host shows as queued again.
func (db *DB) Queue(ctx context.Context) ([]QueueItem, error) {
	var out []QueueItem
	err := db.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueue)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			it, err := decodeQueue(v)
			if err != nil {
				return err
			}
			out = append(out, db.revive(it))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	return out, nil
}

// revive shows an item whose runner died as queued.
func (db *DB) revive(it QueueItem) QueueItem {
	if it.Status == QueueRunning && it.Host == db.host && !processAlive(it.PID) {
		it.Status, it.Host, it.PID = QueueQueued, "", 0
	}
	return it
}

// Claim marks a queued item as running in this process and reports
// whether it was still queued (another process may have taken it, or it
// was cancelled). It returns an error wrapping engine.ErrNotFound for an
// item that is not there.
func (db *DB) Claim(ctx context.Context, id int64) (QueueItem, bool, error) {
	var it QueueItem
	claimed := false
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueue)
		var v []byte
		if b != nil {
			v = b.Get(runKey(id))
		}
		if v == nil {
			return fmt.Errorf("queue item %d: %w", id, engine.ErrNotFound)
		}
		var err error
		if it, err = decodeQueue(v); err != nil {
			return err
		}
		it = db.revive(it)
		if it.Status != QueueQueued {
			return nil
		}
		it.Status, it.Host, it.PID = QueueRunning, db.host, os.Getpid()
		claimed = true
		return putQueue(b, &it)
	})
	if err != nil {
		return QueueItem{}, false, fmt.Errorf("claim: %w", err)
	}
	return it, claimed, nil
}

// Finish records the run a claimed item became (0 if it could not
// start), or puts it back in the queue with requeue (the run was
// interrupted before it began).
func (db *DB) Finish(ctx context.Context, id, run int64, requeue bool) error {
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueue)
		if b == nil || b.Get(runKey(id)) == nil {
			return fmt.Errorf("queue item %d: %w", id, engine.ErrNotFound)
		}
		it, err := decodeQueue(b.Get(runKey(id)))
		if err != nil {
			return err
		}
		it.Host, it.PID = "", 0
		if requeue {
			it.Status = QueueQueued
		} else {
			it.Status, it.Run = QueueDone, run
		}
		return putQueue(b, &it)
	})
	if err != nil {
		return fmt.Errorf("finish queue item: %w", err)
	}
	return nil
}

// Cancel drops queued items (of a whole sweep when sweep is not "");
// running and finished ones are left. It returns how many it cancelled.
func (db *DB) Cancel(ctx context.Context, sweep string, ids ...int64) (int, error) {
	n := 0
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketQueue)
		if b == nil {
			return nil
		}
		var change []QueueItem
		err := b.ForEach(func(_, v []byte) error {
			it, err := decodeQueue(v)
			if err != nil {
				return err
			}
			it = db.revive(it)
			if it.Status == QueueQueued && (want[it.ID] || (sweep != "" && it.Sweep == sweep)) {
				it.Status = QueueCancelled
				change = append(change, it)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range change {
			if err := putQueue(b, &change[i]); err != nil {
				return err
			}
		}
		n = len(change)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cancel: %w", err)
	}
	return n, nil
}
