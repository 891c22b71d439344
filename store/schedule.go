package store

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// Schedulers share what they know of each pipeline through one record per
// pipeline name, read and changed in one transaction, so that two
// scheduler processes on one store agree on which intervals are taken
// and which of them holds a pipeline's lease.

var bucketSchedules = []byte("schedules")

// scheduleRecord is the stored form: {"v":1, …ScheduleState}.
type scheduleRecord struct {
	V int `json:"v"`
	engine.ScheduleState
}

// Schedule returns the schedule state of a pipeline (the zero state, with
// Pipeline set, when no scheduler has seen it).
func (db *DB) Schedule(ctx context.Context, pipeline string) (engine.ScheduleState, error) {
	var st engine.ScheduleState
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		st, err = getSchedule(tx.Bucket(bucketSchedules), pipeline)
		return err
	})
	if err != nil {
		return st, fmt.Errorf("schedule of %s: %w", pipeline, err)
	}
	return st, nil
}

// UpdateSchedule reads a pipeline's schedule state, lets change alter it
// and writes it back, all in one transaction: no other process sees or
// changes the state in between. An error from change aborts the update
// and is returned as is; the state returned is the one written.
func (db *DB) UpdateSchedule(ctx context.Context, pipeline string, change func(*engine.ScheduleState) error) (engine.ScheduleState, error) {
	var st engine.ScheduleState
	var changeErr error
	err := db.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSchedules)
		if err != nil {
			return fmt.Errorf("create %s bucket: %w", bucketSchedules, err)
		}
		if st, err = getSchedule(b, pipeline); err != nil {
			return err
		}
		if changeErr = change(&st); changeErr != nil {
			return changeErr
		}
		st.Pipeline = pipeline
		v, err := json.Marshal(scheduleRecord{V: recordVersion, ScheduleState: st})
		if err != nil {
			return err
		}
		return b.Put([]byte(pipeline), v)
	})
	if changeErr != nil {
		return st, changeErr
	}
	if err != nil {
		return st, fmt.Errorf("update schedule of %s: %w", pipeline, err)
	}
	return st, nil
}

func getSchedule(b *bolt.Bucket, pipeline string) (engine.ScheduleState, error) {
	st := engine.ScheduleState{Pipeline: pipeline}
	if b == nil {
		return st, nil
	}
	v := b.Get([]byte(pipeline))
	if v == nil {
		return st, nil
	}
	var rec scheduleRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return st, fmt.Errorf("decode schedule record: %w", err)
	}
	if rec.V > recordVersion {
		return st, fmt.Errorf("%w: schedule record version %d", ErrSchema, rec.V)
	}
	rec.ScheduleState.Pipeline = pipeline
	return rec.ScheduleState, nil
}
