package store

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// WorkflowRun is a run a workflow engine ran (engine.Run.WorkflowID set),
// as WorkflowRuns lists it.
type WorkflowRun struct {
	WorkflowID string
	ID         int64
	Status     engine.Status
	Trashed    bool
}

// WorkflowRuns lists the store's runs that have a workflow id, the
// trash's too, in run order: what `sluice runs sync` needs to import
// each workflow once.
func (db *DB) WorkflowRuns(ctx context.Context) ([]WorkflowRun, error) {
	var out []WorkflowRun
	err := db.view(ctx, func(tx *bolt.Tx) error {
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		trash, err := bucket(tx, bucketTrash)
		if err != nil {
			return err
		}
		return runs.ForEach(func(k, v []byte) error {
			r, err := decodeRun(v)
			if err != nil {
				return fmt.Errorf("run %d: %w", keyID(k), err)
			}
			if r.WorkflowID == "" {
				return nil
			}
			out = append(out, WorkflowRun{WorkflowID: r.WorkflowID, ID: keyID(k), Status: r.Status, Trashed: trash.Get(k) != nil})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("workflow runs: %w", err)
	}
	return out, nil
}
