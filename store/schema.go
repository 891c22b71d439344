package store

// This file holds the store's schema and its verification: making a new
// file a store, checking an existing one's buckets and version, and
// Check, which verifies the file's pages and decodes every run record.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// initSchema makes a new file a store, or checks an existing one and
// adds buckets it lacks.
func initSchema(tx *bolt.Tx) error {
	if tx.Bucket(bucketMeta) == nil {
		if !noBuckets(tx) {
			return fmt.Errorf("%w: a bbolt database without a %q bucket", ErrNotStore, bucketMeta)
		}
		m, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return fmt.Errorf("create meta bucket: %w", err)
		}
		if err := m.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
		if err := m.Put(keyCreated, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
			return fmt.Errorf("write creation time: %w", err)
		}
	} else if err := checkSchema(tx); err != nil {
		return err
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create %s bucket: %w", name, err)
		}
	}
	return nil
}

// noBuckets reports whether the file holds no bucket at all.
func noBuckets(tx *bolt.Tx) bool {
	empty := true
	_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
	return empty
}

// checkSchema verifies the meta bucket's schema version.
func checkSchema(tx *bolt.Tx) error {
	m := tx.Bucket(bucketMeta)
	if m == nil {
		return fmt.Errorf("%w: a bbolt database without a %q bucket", ErrNotStore, bucketMeta)
	}
	v := m.Get(keySchema)
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return fmt.Errorf("%w: schema version %q is not a number", ErrSchema, v)
	}
	switch {
	case n > SchemaVersion:
		return fmt.Errorf("%w: the store has schema version %d, newer than version %d this sluice reads; upgrade sluice", ErrSchema, n, SchemaVersion)
	case n == 1:
		return fmt.Errorf("%w: the store has schema version 1, which this sluice migrates when it opens the store to write (any command that runs or changes something, or sluice du)", ErrSchema)
	case n != SchemaVersion:
		return fmt.Errorf("%w: the store has schema version %d, this sluice reads version %d", ErrSchema, n, SchemaVersion)
	}
	return nil
}

// bucket returns a top-level bucket, or an error naming it if the file
// lacks it.
func bucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("%w: missing %q bucket", ErrNotStore, name)
	}
	return b, nil
}

// Check verifies the store: its schema version, the consistency of the
// bbolt file's pages, and that every run record and summary decodes. It
// returns every problem found, joined; nil means the store is sound.
func (db *DB) Check(ctx context.Context) error {
	err := db.view(ctx, func(tx *bolt.Tx) error {
		// The page tree first, from the file itself: bbolt's own check
		// and the walk below trust it, and loop for ever on a cycle.
		if err := verifyPages(db.path); err != nil {
			return err
		}
		// bbolt's check reads the pages on a goroutine of its own, where
		// a damaged page's panic or fault could not be recovered: every
		// key and value is read here first, where it can (see do).
		if err := tx.ForEach(func(name []byte, b *bolt.Bucket) error { return readBucket(b) }); err != nil {
			return err
		}
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		runs, err := bucket(tx, bucketRuns)
		if err != nil {
			return err
		}
		sums, err := bucket(tx, bucketSummaries)
		if err != nil {
			return err
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				errs = append(errs, fmt.Errorf("missing %q bucket", name))
			}
		}
		err = runs.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				errs = append(errs, fmt.Errorf("run key %x is not 8 bytes", k))
				return nil
			}
			if _, err := decodeRun(v); err != nil {
				errs = append(errs, fmt.Errorf("run %d: %w", keyID(k), err))
			}
			if trash := tx.Bucket(bucketTrash); sums.Get(k) == nil && (trash == nil || trash.Get(k) == nil) {
				errs = append(errs, fmt.Errorf("run %d: no summary", keyID(k)))
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		pipes, err := bucket(tx, bucketPipelines)
		if err != nil {
			return err
		}
		err = sums.ForEach(func(k, v []byte) error {
			s, err := decodeSummary(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("summary of run %d: %w", keyID(k), err))
				return nil
			}
			if runs.Get(k) == nil {
				errs = append(errs, fmt.Errorf("summary of run %d: no run", keyID(k)))
			}
			if pipes.Get(pipelineKey(s.Pipeline, s.ID)) == nil {
				errs = append(errs, fmt.Errorf("run %d: not in the index of pipeline %q", s.ID, s.Pipeline))
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		err = pipes.ForEach(func(k, _ []byte) error {
			if len(k) < 9 || sums.Get(k[len(k)-8:]) == nil {
				errs = append(errs, fmt.Errorf("pipelines index entry %q: no run", k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return fmt.Errorf("check store %s: %w", db.path, err)
	}
	return nil
}

// panickedIn reports whether the panic being recovered began in a
// function of pkg: the first frame above the runtime's panic machinery.
// Call it only from a deferred function that recovered.
func panickedIn(pkg string) bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	afterPanic := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic" || f.Function == "runtime.panicmem" || f.Function == "runtime.sigpanic":
			afterPanic = true
		case afterPanic && !strings.HasPrefix(f.Function, "runtime."):
			return strings.HasPrefix(f.Function, pkg+"/") || strings.HasPrefix(f.Function, pkg+".")
		}
		if !more {
			return false
		}
	}
}

// readBucket reads every key and value of b and of the buckets in it, and
// seeks every key: the searches compare the keys of the branch pages on
// the way, which bbolt's check reads too.
func readBucket(b *bolt.Bucket) error {
	var sum byte
	seek := b.Cursor()
	return b.ForEach(func(k, v []byte) error {
		for _, c := range k {
			sum ^= c
		}
		seek.Seek(k)
		if v == nil {
			if nested := b.Bucket(k); nested != nil {
				return readBucket(nested)
			}
			return nil
		}
		for _, c := range v {
			sum ^= c
		}
		return nil
	})
}
