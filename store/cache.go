package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	bolt "go.etcd.io/bbolt"

	"github.com/sluice-ml/sluice/engine"
)

// The stage cache's index: fingerprint (64 hex characters) + run (8
// bytes) + stage id → "". One entry per stage whose status is succeeded
// or cached; it is written in the transaction that records that status,
// so an entry never points at a result whose record is not durable, and
// removed with its run. Stores made before the index have no such
// bucket: their runs are simply never found by fingerprint.
var bucketCache = []byte("stagecache")

var _ engine.Cache = (*DB)(nil)

// cacheKey is fingerprint + run + stage.
func cacheKey(fp string, run int64, stage string) []byte {
	k := make([]byte, 0, len(fp)+8+len(stage))
	k = append(k, fp...)
	k = append(k, runKey(run)...)
	return append(k, stage...)
}

// reusable reports whether a stage's result may be found by fingerprint.
func reusable(s *engine.StageRun) bool {
	return s.Fingerprint != "" && (s.Status == engine.StatusSucceeded || s.Status == engine.StatusCached)
}

// indexStages writes the cache entries of r's reusable stages.
func indexStages(tx *bolt.Tx, r *engine.Run) error {
	var b *bolt.Bucket
	for i := range r.Stages {
		s := &r.Stages[i]
		if !reusable(s) {
			continue
		}
		if b == nil {
			var err error
			if b, err = tx.CreateBucketIfNotExists(bucketCache); err != nil {
				return fmt.Errorf("create %s bucket: %w", bucketCache, err)
			}
		}
		if err := b.Put(cacheKey(s.Fingerprint, r.ID, s.ID), []byte{}); err != nil {
			return fmt.Errorf("write %s: %w", bucketCache, err)
		}
	}
	return nil
}

// unindexStages removes the cache entries of r's stages.
func unindexStages(tx *bolt.Tx, r *engine.Run) error {
	b := tx.Bucket(bucketCache)
	if b == nil {
		return nil
	}
	for _, s := range r.Stages {
		if s.Fingerprint == "" {
			continue
		}
		if err := b.Delete(cacheKey(s.Fingerprint, r.ID, s.ID)); err != nil {
			return fmt.Errorf("delete %s entry: %w", bucketCache, err)
		}
	}
	return nil
}

// Lookup returns, for each fingerprint, up to n results recorded with
// it (status succeeded or cached), newest run first. A fingerprint
// without results is absent from the map. It implements engine.Cache.
func (db *DB) Lookup(ctx context.Context, fingerprints []string, n int) (map[string][]engine.CacheEntry, error) {
	out := map[string][]engine.CacheEntry{}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCache)
		if b == nil {
			return nil
		}
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		decoded := map[int64]*engine.Run{}
		for _, fp := range fingerprints {
			if _, done := out[fp]; done || fp == "" {
				continue
			}
			prefix := []byte(fp)
			c := b.Cursor()
			// Newest first: from past the last key of the prefix, back.
			k, _ := c.Seek(append(bytes.Clone(prefix), 0xff))
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(out[fp]) < n; k, _ = c.Prev() {
				if len(k) < len(prefix)+8 {
					continue
				}
				id := keyID(k[len(prefix):])
				stage := string(k[len(prefix)+8:])
				r, ok := decoded[id]
				if !ok {
					v := runs.Get(runKey(id))
					if v == nil {
						decoded[id] = nil
						continue // deleted meanwhile
					}
					if r, err = decodeRun(v); err != nil {
						return fmt.Errorf("run %d: %w", id, err)
					}
					decoded[id] = r
				}
				if r == nil {
					continue
				}
				if s, ok := r.Stage(stage); !ok || !reusable(s) || s.Fingerprint != fp {
					continue
				}
				out[fp] = append(out[fp], engine.CacheEntry{Run: r, Stage: stage})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up stage results: %w", err)
	}
	return out, nil
}

// RecentRuns returns up to n of the newest runs of the pipeline in full,
// newest first. It implements engine.Cache.
func (db *DB) RecentRuns(ctx context.Context, pipeline string, n int) ([]*engine.Run, error) {
	var out []*engine.Run
	err := db.view(ctx, func(tx *bolt.Tx) error {
		next, err := newestFirst(tx, pipeline, 0)
		if err != nil {
			return err
		}
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		for len(out) < n {
			id, _ := next()
			if id == 0 {
				break
			}
			v := runs.Get(runKey(id))
			if v == nil {
				continue
			}
			r, err := decodeRun(v)
			if err != nil {
				return fmt.Errorf("run %d: %w", id, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recent runs of %s: %w", pipeline, err)
	}
	return out, nil
}

// Result returns what stage s of run kept: the references of its
// artifacts, each read from the artifact store and verified against its
// size and SHA-256, and its preview. An artifact missing is an error
// wrapping engine.ErrNotFound; a damaged one another error. It
// implements engine.Cache.
func (db *DB) Result(ctx context.Context, run int64, s *engine.StageRun) (*engine.StoredResult, error) {
	res := &engine.StoredResult{}
	arts := db.opts.Artifacts
	for _, info := range s.Artifacts {
		size, err := arts.Size(ctx, info.SHA256)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("artifact %s of run %d stage %s is gone from the artifact store: %w", info.Name, run, s.ID, engine.ErrNotFound)
		case err != nil:
			return nil, fmt.Errorf("artifact %s of run %d stage %s: %w", info.Name, run, s.ID, err)
		case size != int64(info.Size):
			return nil, fmt.Errorf("artifact %s of run %d stage %s holds %d bytes, the run recorded %d", info.Name, run, s.ID, size, info.Size)
		}
		if err := verify(ctx, arts, info.SHA256); err != nil {
			return nil, fmt.Errorf("artifact %s of run %d stage %s: %w", info.Name, run, s.ID, err)
		}
		res.Artifacts = append(res.Artifacts, info)
	}
	p, err := db.Preview(ctx, run, s.ID)
	switch {
	case err == nil:
		res.Preview = p
	case errors.Is(err, engine.ErrNotFound):
		if s.Kind == engine.KindTable && s.Rows+s.Cols > 0 {
			return nil, err
		}
	default:
		return nil, err
	}
	return res, nil
}

// verify reads a blob to its end, so the artifact store checks its hash.
func verify(ctx context.Context, arts engine.ArtifactStore, key string) error {
	rc, err := arts.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	_, err = io.Copy(io.Discard, rc)
	return err
}
