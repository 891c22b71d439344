package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store/artifacts"
)

// SchemaVersion is the layout of buckets and records this package reads
// and writes. It is kept in the meta bucket and checked on every open.
//
// Version 2 keeps artifacts' bytes in the artifact store
// (Options.Artifacts), only their references here; Open migrates a
// version 1 store, whose blobs were kept in bbolt, when it may write.
const SchemaVersion = 2

// Errors of the store. Each returned error wraps at most one of them
// (besides engine.ErrNotFound for missing runs, stages and artifacts),
// so callers can test with errors.Is.
var (
	// ErrNotStore reports a file that is not a sluice store: not a bbolt
	// database at all, or a bbolt database without sluice's meta bucket.
	ErrNotStore = errors.New("not a sluice store")
	// ErrSchema reports a store whose schema version this sluice does not
	// read (written by a newer sluice, or unknown).
	ErrSchema = errors.New("unsupported store schema")
	// ErrBusy reports a store whose file lock another process held for
	// longer than Options.Timeout plus Options.Retry.
	ErrBusy = errors.New("store is busy")
	// ErrClosed reports a call on a closed DB.
	ErrClosed = errors.New("store is closed")
	// ErrReadOnly reports a write to a DB opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store is read-only")
)

// Options configure Open. The zero value (or nil) gives the defaults.
type Options struct {
	// Timeout is how long one attempt to open the file waits for bbolt's
	// file lock. 0 means 1s.
	Timeout time.Duration
	// Retry is how long an operation keeps trying, after a first attempt
	// timed out, before it fails with ErrBusy. 0 means 5s; negative means
	// no retry.
	Retry time.Duration
	// ReadOnly opens an existing store for reading only: nothing is
	// created or written, and interrupted runs are not marked.
	ReadOnly bool
	// Artifacts is the store of the artifacts' bytes (stage outputs,
	// model files); run records keep their references. Artifact reads
	// from it, and Open moves a version 1 store's blobs into it. nil: the
	// folder "artifacts" beside the database file (store/artifacts).
	Artifacts engine.ArtifactStore
	// StaleAfter is how old the heartbeat of a running run may be before
	// the run counts as abandoned, whatever host it ran on. 0 means 30s.
	StaleAfter time.Duration
}

// DB is a sluice store: one bbolt file holding runs, their logs, previews
// and artifacts. It keeps only the path: every operation opens the file,
// runs one transaction and closes it again, so other processes can use
// the store in between. A DB is safe for concurrent use.
type DB struct {
	path   string
	opts   Options
	host   string
	mu     sync.RWMutex // orders this process's writers and readers; flock orders processes
	closed bool         // guarded by mu
}

var _ engine.Recorder = (*DB)(nil)

// Bucket names.
var (
	bucketMeta      = []byte("meta")
	bucketRuns      = []byte("runs")
	bucketSummaries = []byte("summaries")
	bucketActive    = []byte("active")
	bucketPipelines = []byte("pipelines")
	bucketLogs      = []byte("logs")
	bucketPreviews  = []byte("previews")
	bucketArtInfo   = []byte("artinfo")
	bucketTrash     = []byte("trash")

	// bucketBlobsV1 held artifacts' bytes in schema version 1.
	bucketBlobsV1 = []byte("artifacts")

	allBuckets = [][]byte{bucketMeta, bucketRuns, bucketSummaries, bucketPipelines, bucketActive, bucketLogs, bucketPreviews, bucketArtInfo, bucketTrash}

	keySchema  = []byte("schema")
	keyCreated = []byte("created")
)

// Open opens the store at path, creating it and its parent directories
// if need be (unless opts.ReadOnly). It checks the schema version and
// marks runs left running by a process that died as interrupted (see
// MarkInterrupted). It returns an error wrapping ErrNotStore for a file
// that is not a sluice store, ErrSchema for a schema it cannot read,
// ErrBusy when another process holds the file too long, and
// fs.ErrNotExist for a missing file opened read-only.
func Open(path string, opts *Options) (*DB, error) {
	db := &DB{path: path}
	if opts != nil {
		db.opts = *opts
	}
	if db.opts.Timeout <= 0 {
		db.opts.Timeout = time.Second
	}
	if db.opts.Retry == 0 {
		db.opts.Retry = 5 * time.Second
	}
	if db.opts.StaleAfter <= 0 {
		db.opts.StaleAfter = 30 * time.Second
	}
	if db.opts.Artifacts == nil {
		db.opts.Artifacts = artifacts.New(ArtifactsDir(path))
	}
	db.host, _ = os.Hostname()
	ctx := context.Background()

	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		err = fmt.Errorf("%w: is a directory", ErrNotStore)
	case db.opts.ReadOnly:
		switch {
		case err != nil: // a missing file is not created: fs.ErrNotExist
		case fi.Size() == 0:
			err = fmt.Errorf("%w: an empty file", ErrNotStore)
		default:
			err = db.view(ctx, func(*bolt.Tx) error { return nil })
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		// Cannot tell: report it.
	case err != nil || fi.Size() == 0:
		// A new file (or one another process is creating): initialise
		// it under the exclusive lock.
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			err = db.do(ctx, true, false, initSchema)
		}
	}
	if err == nil && !db.opts.ReadOnly {
		err = db.migrate(ctx)
	}
	if err == nil && !db.opts.ReadOnly {
		// This reads the active bucket (checking the schema on the way)
		// and writes only if a run is to be marked.
		_, err = db.markInterrupted(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return db, nil
}

// Generation returns a number that grows with every write committed to
// the store, by any process (bbolt's transaction id). A poller that
// finds it unchanged since its last look can skip reading anything else.
func (db *DB) Generation(ctx context.Context) (uint64, error) {
	var gen uint64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		gen = uint64(tx.ID())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store generation: %w", err)
	}
	return gen, nil
}

// Close marks the DB closed; later calls fail with ErrClosed. It waits
// for operations in progress. The file is never held open between
// operations, so there is nothing else to release. Close always
// returns nil.
func (db *DB) Close() error {
	db.mu.Lock()
	db.closed = true
	db.mu.Unlock()
	return nil
}

// Path returns the file the store lives in.
func (db *DB) Path() string { return db.path }

// ArtifactStore returns where the store's artifacts' bytes live
// (Options.Artifacts): the executor writes stage outputs to it.
func (db *DB) ArtifactStore() engine.ArtifactStore { return db.opts.Artifacts }

// ArtifactsDir returns the default artifact folder of the database at
// path: "artifacts" beside it (.sluice/artifacts for .sluice/sluice.db).
func ArtifactsDir(path string) string { return filepath.Join(filepath.Dir(path), "artifacts") }

// view runs fn in a read-only transaction of a freshly opened file.
func (db *DB) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	return db.do(ctx, false, true, fn)
}

// update runs fn in a read-write transaction of a freshly opened file and
// commits it (bbolt fsyncs the commit) if fn returns nil.
func (db *DB) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	return db.do(ctx, true, true, fn)
}

// do opens the file (sharing the lock for reads, holding it exclusively
// for writes), checks the schema, runs fn in one transaction and closes
// the file.
func (db *DB) do(ctx context.Context, write, check bool, fn func(*bolt.Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if write {
		if db.opts.ReadOnly {
			return ErrReadOnly
		}
		db.mu.Lock()
		defer db.mu.Unlock()
	} else {
		db.mu.RLock()
		defer db.mu.RUnlock()
	}
	if db.closed {
		return ErrClosed
	}
	// A compaction another process left half done is finished first, and
	// looked for again once the file is open and locked: one that began
	// while this process waited for the lock must not be read half copied.
	var bdb *bolt.DB
	for attempt := 0; ; attempt++ {
		if err := db.replayJournal(ctx); err != nil {
			return err
		}
		bdb, err = db.openFile(ctx, !write)
		if err != nil {
			if _, jerr := os.Stat(journalPath(db.path)); jerr == nil && attempt < 3 {
				continue
			}
			return err
		}
		if _, jerr := os.Stat(journalPath(db.path)); jerr != nil || attempt >= 3 {
			break
		}
		bdb.Close()
	}
	defer func() {
		if cerr := bdb.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close: %w", cerr)
		}
	}()
	run := func(tx *bolt.Tx) error {
		if check {
			if err := checkSchema(tx); err != nil {
				return err
			}
		}
		return fn(tx)
	}
	if write {
		return bdb.Update(run)
	}
	return bdb.View(run)
}

// openFile opens the bbolt file, retrying while another process holds
// the lock, for up to Options.Retry after the first timeout.
func (db *DB) openFile(ctx context.Context, readOnly bool) (*bolt.DB, error) {
	start := time.Now()
	for {
		bdb, err := bolt.Open(db.path, 0o600, &bolt.Options{
			Timeout:      db.opts.Timeout,
			ReadOnly:     readOnly,
			NoStatistics: true,
		})
		switch {
		case err == nil:
			return bdb, nil
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
			return nil, fmt.Errorf("%w: not a bbolt database (%w)", ErrNotStore, err)
		case !errors.Is(err, berrors.ErrTimeout):
			return nil, err
		}
		waited := time.Since(start)
		if db.opts.Retry < 0 || waited >= db.opts.Retry {
			return nil, fmt.Errorf("%w: another process held the file lock for %s", ErrBusy, waited.Round(time.Millisecond))
		}
		t := time.NewTimer(10*time.Millisecond + time.Duration(time.Now().UnixNano()%20)*time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// initSchema makes a new file a store, or checks an existing one and
// adds buckets it lacks.
func initSchema(tx *bolt.Tx) error {
	if tx.Bucket(bucketMeta) == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
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
