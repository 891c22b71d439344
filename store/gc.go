package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// Usage is how much room a store takes: its database file, and the
// artifacts in its artifact store.
type Usage struct {
	DatabaseBytes  int64 `json:"database_bytes"`
	ArtifactBytes  int64 `json:"artifact_bytes"`
	ArtifactFiles  int   `json:"artifact_files"`
	Runs           int   `json:"runs"`    // listed runs
	Trashed        int   `json:"trashed"` // runs in the trash
	ReferencedBlob int   `json:"referenced_artifacts"`
}

// Total is the database and the artifacts together.
func (u Usage) Total() int64 { return u.DatabaseBytes + u.ArtifactBytes }

// Usage measures the store.
func (db *DB) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	refs := map[string]bool{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		u.Runs = tx.Bucket(bucketSummaries).Stats().KeyN
		if t := tx.Bucket(bucketTrash); t != nil {
			u.Trashed = t.Stats().KeyN
		}
		return collectRefs(tx, nil, refs)
	})
	if err != nil {
		return u, fmt.Errorf("store usage: %w", err)
	}
	u.ReferencedBlob = len(refs)
	fi, err := os.Stat(db.path)
	if err != nil {
		return u, fmt.Errorf("store usage: %w", err)
	}
	u.DatabaseBytes = fi.Size()
	err = db.opts.Artifacts.List(ctx, func(_ string, size int64, _ time.Time) error {
		u.ArtifactFiles++
		u.ArtifactBytes += size
		return nil
	})
	if err != nil {
		return u, fmt.Errorf("store usage: %w", err)
	}
	return u, nil
}

// GCOptions choose what GC removes besides the trash.
type GCOptions struct {
	// Dry reports what would be removed and changes nothing.
	Dry bool
	// KeepLast, when > 0, also deletes every run of a pipeline but its
	// KeepLast newest (with OlderThan, only those also older than it).
	KeepLast int
	// OlderThan, when > 0, also deletes runs that started longer ago
	// (with KeepLast, only those also beyond the newest KeepLast).
	OlderThan time.Duration
	// Slack is how much older than the collection's start (or than the
	// start of the oldest run in progress) an unreferenced artifact must
	// be to go; it absorbs file-time granularity. 0 means 2s.
	Slack time.Duration
}

// GCReport says what a collection removed (or, dry, would remove).
type GCReport struct {
	Before, After Usage
	Runs          []int64 `json:"runs"`           // deleted for good
	Files         int     `json:"files"`          // artifact and temporary files removed
	Bytes         int64   `json:"bytes"`          // their bytes
	Compacted     int64   `json:"compacted"`      // bytes the database file shrank by
	Kept          int     `json:"kept_in_flight"` // unreferenced artifacts kept: a run in progress may own them
	Dry           bool    `json:"dry"`
}

// collector is what GC needs of an artifact store beyond
// engine.ArtifactStore: removing a blob only if nothing refreshed it
// since a cutoff, and clearing temporary files. store/artifacts.Dir has
// both.
type collector interface {
	DeleteBefore(ctx context.Context, key string, cutoff time.Time) (bool, int64, error)
	RemoveTemp(ctx context.Context, cutoff time.Time, dry bool) (int, int64, error)
}

// GC empties the trash, deletes the runs opts selects, removes the
// artifacts no remaining run refers to, and compacts the database file.
//
// It is safe while other processes run pipelines on the store. It never
// removes an artifact a run refers to, nor one written (or refreshed by
// a Put of the same bytes) after the start of the oldest run in
// progress or of the collection itself: such a blob may belong to a run
// that has not recorded it yet. An artifact already missing is not an
// error. Runs in progress are never deleted.
func (db *DB) GC(ctx context.Context, opts GCOptions) (*GCReport, error) {
	if opts.Slack <= 0 {
		opts.Slack = 2 * time.Second
	}
	start := time.Now()
	rep := &GCReport{Dry: opts.Dry}
	var err error
	if rep.Before, err = db.Usage(ctx); err != nil {
		return nil, err
	}

	// Choose the runs and delete them, and read what the rest refer to,
	// in one transaction.
	refs := map[string]bool{}
	var oldestActive time.Time
	choose := func(tx *bolt.Tx) error {
		ids, active, err := db.gcRuns(tx, opts, start)
		if err != nil {
			return err
		}
		rep.Runs = ids
		oldestActive = active
		if !opts.Dry {
			for _, id := range ids {
				if err := deleteRunTx(tx, id); err != nil {
					return err
				}
			}
		}
		gone := map[int64]bool{}
		if opts.Dry {
			for _, id := range ids {
				gone[id] = true
			}
		}
		return collectRefs(tx, gone, refs)
	}
	if opts.Dry {
		err = db.view(ctx, choose)
	} else {
		err = db.update(ctx, choose)
	}
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}

	cutoff := start
	if !oldestActive.IsZero() && oldestActive.Before(cutoff) {
		cutoff = oldestActive
	}
	cutoff = cutoff.Add(-opts.Slack)

	arts := db.opts.Artifacts
	col, _ := arts.(collector)
	type blob struct {
		key  string
		size int64
		mod  time.Time
	}
	var unref []blob
	err = arts.List(ctx, func(key string, size int64, mod time.Time) error {
		if !refs[key] {
			unref = append(unref, blob{key, size, mod})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gc: %w", err)
	}
	for _, b := range unref {
		if !b.mod.Before(cutoff) {
			rep.Kept++
			continue
		}
		switch {
		case opts.Dry:
			rep.Files++
			rep.Bytes += b.size
		case col != nil:
			gone, n, err := col.DeleteBefore(ctx, b.key, cutoff)
			if err != nil {
				return nil, fmt.Errorf("gc: %w", err)
			}
			if gone {
				rep.Files++
				rep.Bytes += n
			} else {
				rep.Kept++
			}
		default:
			if err := arts.Delete(ctx, b.key); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("gc: %w", err)
			}
			rep.Files++
			rep.Bytes += b.size
		}
	}
	if col != nil {
		n, size, err := col.RemoveTemp(ctx, cutoff, opts.Dry)
		if err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
		rep.Files += n
		rep.Bytes += size
	}
	if !opts.Dry {
		before, after, err := db.compact(ctx)
		if err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
		rep.Compacted = before - after
	}
	if rep.After, err = db.Usage(ctx); err != nil {
		return nil, err
	}
	return rep, nil
}

// gcRuns returns the runs a collection deletes (the trash, and what
// opts selects, never a run in progress) and the start of the oldest run
// in progress (zero if none).
func (db *DB) gcRuns(tx *bolt.Tx, opts GCOptions, now time.Time) ([]int64, time.Time, error) {
	chosen := map[int64]bool{}
	var oldest time.Time
	active := map[int64]bool{}
	ab, err := bucket(tx, bucketActive)
	if err != nil {
		return nil, oldest, err
	}
	err = ab.ForEach(func(k, _ []byte) error {
		r, err := runIn(tx, keyID(k))
		if err != nil {
			return nil // an index entry without a run
		}
		if r.Status == engine.StatusRunning && db.abandoned(r, now) == "" {
			active[r.ID] = true
			if oldest.IsZero() || r.Started.Before(oldest) {
				oldest = r.Started
			}
		}
		return nil
	})
	if err != nil {
		return nil, oldest, err
	}
	trash, err := bucket(tx, bucketTrash)
	if err != nil {
		return nil, oldest, err
	}
	if err := trash.ForEach(func(k, _ []byte) error { chosen[keyID(k)] = true; return nil }); err != nil {
		return nil, oldest, err
	}
	if opts.KeepLast > 0 || opts.OlderThan > 0 {
		aliased := aliasedRuns(tx)
		sums, err := bucket(tx, bucketSummaries)
		if err != nil {
			return nil, oldest, err
		}
		byPipeline := map[string][]RunSummary{}
		err = sums.ForEach(func(k, v []byte) error {
			s, err := decodeSummary(v)
			if err != nil {
				return fmt.Errorf("run %d: %w", keyID(k), err)
			}
			byPipeline[s.Pipeline] = append(byPipeline[s.Pipeline], s)
			return nil
		})
		if err != nil {
			return nil, oldest, err
		}
		for _, list := range byPipeline {
			sort.Slice(list, func(i, j int) bool { return list[i].ID > list[j].ID })
			for i, s := range list {
				if active[s.ID] || aliased[s.ID] {
					continue
				}
				old := opts.OlderThan <= 0 || now.Sub(s.Started) > opts.OlderThan
				beyond := opts.KeepLast <= 0 || i >= opts.KeepLast
				if old && beyond {
					chosen[s.ID] = true
				}
			}
		}
	}
	ids := make([]int64, 0, len(chosen))
	for id := range chosen {
		if !active[id] {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, oldest, nil
}

// aliasedRuns returns the runs a model alias points to: gc's run
// selection keeps them (a run in the trash goes all the same).
func aliasedRuns(tx *bolt.Tx) map[int64]bool {
	out := map[int64]bool{}
	b := tx.Bucket(bucketAliases)
	if b == nil {
		return out
	}
	_ = b.ForEach(func(_, v []byte) error {
		var rec aliasRecord
		if json.Unmarshal(v, &rec) == nil && rec.Run > 0 {
			out[rec.Run] = true
		}
		return nil
	})
	return out
}

// collectRefs adds to refs the key of every artifact a run refers to
// (and of the parts those refer to inside their bytes),
// skipping the runs in skip.
func collectRefs(tx *bolt.Tx, skip map[int64]bool, refs map[string]bool) error {
	b, err := bucket(tx, bucketArtInfo)
	if err != nil {
		return err
	}
	err = b.ForEach(func(k, v []byte) error {
		if len(k) >= 8 && skip[keyID(k[:8])] {
			return nil
		}
		info, err := decodeArtInfo(v)
		if err != nil {
			return err
		}
		refs[info.SHA256] = true
		for _, p := range info.Parts {
			refs[p] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The run records refer to the same keys; read them too, so a
	// reference is never missed if the two ever disagree.
	runs, err := bucket(tx, bucketRuns)
	if err != nil {
		return err
	}
	return runs.ForEach(func(k, v []byte) error {
		if skip[keyID(k)] {
			return nil
		}
		r, err := decodeRun(v)
		if err != nil {
			return fmt.Errorf("run %d: %w", keyID(k), err)
		}
		for _, s := range r.Stages {
			for _, a := range s.Artifacts {
				refs[a.SHA256] = true
				for _, p := range a.Parts {
					refs[p] = true
				}
			}
		}
		return nil
	})
}

// deleteRunTx removes a run for good: its record, summary, indexes,
// logs, previews, artifact references, notes and trash entry.
func deleteRunTx(tx *bolt.Tx, id int64) error {
	key := runKey(id)
	r, err := runIn(tx, id)
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bucketRuns, bucketSummaries, bucketActive, bucketTrash} {
		b, err := bucket(tx, name)
		if err != nil {
			return err
		}
		if err := b.Delete(key); err != nil {
			return err
		}
	}
	if nb := tx.Bucket(bucketNotes); nb != nil {
		if err := nb.Delete(key); err != nil {
			return err
		}
	}
	pipes, err := bucket(tx, bucketPipelines)
	if err != nil {
		return err
	}
	if err := pipes.Delete(pipelineKey(r.Pipeline, id)); err != nil {
		return err
	}
	if err := unindexStages(tx, r); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketLogs, bucketPreviews, bucketArtInfo} {
		b, err := bucket(tx, name)
		if err != nil {
			return err
		}
		if err := deletePrefix(b, key); err != nil {
			return err
		}
	}
	return nil
}
