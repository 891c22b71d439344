package store

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// BulkLoad writes finished runs in one transaction, numbering them as
// BeginRun would, with the given number of log lines each. Benchmarks use
// it to build large stores quickly.
func (db *DB) BulkLoad(ctx context.Context, runs []*engine.Run, logLines int) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		b, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		for _, r := range runs {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			c := *r
			c.ID = int64(seq)
			if err := putRun(tx, &c); err != nil {
				return err
			}
			if logLines > 0 && len(c.Stages) > 0 {
				logs := make([]engine.LogLine, logLines)
				lines := make([][]byte, logLines)
				for i := range logs {
					logs[i] = engine.LogLine{Stage: c.Stages[i%len(c.Stages)].ID, Time: c.Started, Text: "a line of log output"}
					lines[i] = []byte(`{"t":"2026-01-02T03:04:05Z","x":"a line of log output"}`)
				}
				if err := appendLogs(tx, c.ID, logs, lines); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// VerifyPages walks the page tree of the file at path (see verifyPages).
func VerifyPages(path string) error { return verifyPages(path) }
