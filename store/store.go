package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
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
	// ErrDamaged reports a store file whose pages do not hold together
	// (a disk error, a partial copy): reading it stopped.
	ErrDamaged = errors.New("store file is damaged")
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

	// noSync skips bbolt's fsync of each commit: the fuzz targets set it,
	// where a commit's durability does not matter and its fsync costs
	// more than everything else an execution does.
	noSync bool
	// holdOpen keeps the file a read-only DB's first read opened open
	// for its later reads, until Close, instead of opening it for each:
	// the damaged-store fuzz target sets it, because unmapping the file
	// after each of its two dozen reads cost more than the reads. It
	// holds the shared file lock all that time, so nothing else sets it.
	holdOpen bool
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

	// walked is the file as its page tree was last walked without
	// finding damage (see checkPages), or as this process's own write,
	// made on such a tree, left it.
	walkedMu sync.Mutex
	walked   fileState

	held *bolt.DB // the file a read left open (Options.holdOpen); guarded by mu
}

// fileState identifies a version of the store file: the file (os.SameFile),
// its size and bbolt's transaction id. bbolt writes pages copy-on-write,
// so a tree found whole stays whole until another commit.
type fileState struct {
	fi   os.FileInfo
	txid int
}

func (a fileState) same(b fileState) bool {
	return a.fi != nil && b.fi != nil && a.txid == b.txid && a.fi.Size() == b.fi.Size() && os.SameFile(a.fi, b.fi)
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
	default:
		// A bbolt file with no bucket at all is a store whose creator
		// was killed between bbolt's own set-up and the schema's first
		// transaction: finish making it a store.
		var bare bool
		err = db.do(ctx, false, false, func(tx *bolt.Tx) error { bare = noBuckets(tx); return nil })
		if err == nil && bare {
			err = db.do(ctx, true, false, func(tx *bolt.Tx) error {
				if !noBuckets(tx) {
					return nil // another process finished it first
				}
				return initSchema(tx)
			})
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
	defer db.mu.Unlock()
	db.closed = true
	if db.held != nil {
		err := db.held.Close()
		db.held = nil
		return err
	}
	return nil
}

// Path returns the file the store lives in.
func (db *DB) Path() string { return db.path }

// ArtifactStore returns where the store's artifacts' bytes live
// (Options.Artifacts): the executor writes stage outputs to it.
func (db *DB) ArtifactStore() engine.ArtifactStore { return db.opts.Artifacts }

// ArtifactsLocation names where the artifacts' bytes live, for
// messages: the folder, or the s3:// URL.
func (db *DB) ArtifactsLocation() string {
	if l, ok := db.opts.Artifacts.(interface{ Location() string }); ok {
		return l.Location()
	}
	return ArtifactsDir(db.path)
}

// OpenArtifacts opens the artifact store at loc for Options.Artifacts:
// s3://BUCKET/PREFIX (endpoint, region and credentials from the standard
// AWS environment, see store/artifacts.OpenURL), file://PATH or a folder.
// The store implements engine.RefStore too.
func OpenArtifacts(ctx context.Context, loc string) (engine.ArtifactStore, error) {
	return artifacts.OpenURL(ctx, loc)
}

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
	// bbolt trusts the file's pages: a damaged one makes it panic, or
	// hand out a value that reaches past the file's mapping, whose reading
	// faults (the store's own code uses no unsafe memory: any fault at an
	// address that is not near nil comes from such a value). Both end the
	// transaction, which bbolt rolls back, and come back as ErrDamaged; any
	// other panic is a bug and goes on.
	defer func() {
		if p := recover(); p != nil {
			fault, ok := p.(interface{ Addr() uintptr })
			if !panickedIn("go.etcd.io/bbolt") && !(ok && fault.Addr() >= 1<<16) {
				panic(p)
			}
			err = fmt.Errorf("%w: %v; restore %s from a copy, or move it aside to start a new store", ErrDamaged, p, db.path)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	hold := !write && db.opts.ReadOnly && db.opts.holdOpen
	if write {
		if db.opts.ReadOnly {
			return ErrReadOnly
		}
		db.mu.Lock()
		defer db.mu.Unlock()
	} else if hold {
		db.mu.Lock() // db.held is set by a reader
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
	bdb := db.held
	for attempt := 0; bdb == nil; attempt++ {
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
		_ = bdb.Close() // nothing done with it yet: closed to finish the journal first
		bdb = nil
	}
	if db.held == nil {
		defer func() {
			if hold {
				db.held = bdb // kept whatever this read found
			} else if cerr := bdb.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close: %w", cerr)
			}
		}()
	}
	if err := db.checkPages(bdb); err != nil {
		return err
	}
	var txid int
	run := func(tx *bolt.Tx) error {
		txid = tx.ID()
		if check {
			if err := checkSchema(tx); err != nil {
				return err
			}
		}
		return fn(tx)
	}
	if write {
		if err := bdb.Update(run); err != nil {
			return err
		}
		// The tree was whole before and bbolt wrote the new pages:
		// what this commit left needs no walk.
		if fi, err := os.Stat(db.path); err == nil {
			db.walkedMu.Lock()
			db.walked = fileState{fi: fi, txid: txid}
			db.walkedMu.Unlock()
		}
		return nil
	}
	return bdb.View(run)
}

// checkPages walks the page tree of the file bdb has open (see
// verifyPages) unless this version of the file was walked already. bbolt
// follows a damaged tree's page ids without a check of its own: a page
// that is its own ancestor sends a read round for ever, so every read
// and write looks at the tree first. The walk reads only the pages' headers
// and elements (about 30ms for a store of 10,000 runs); a process walks a
// version of the file once, and not at all after its own writes.
func (db *DB) checkPages(bdb *bolt.DB) error {
	tx, err := bdb.Begin(false)
	if err != nil {
		return err
	}
	st := fileState{txid: tx.ID()}
	_ = tx.Rollback() // a read transaction: nothing to keep
	if st.fi, err = os.Stat(db.path); err != nil {
		return err
	}
	db.walkedMu.Lock()
	walked := db.walked.same(st)
	db.walkedMu.Unlock()
	if walked {
		return nil
	}
	if err := verifyPages(db.path); err != nil {
		if errors.Is(err, ErrDamaged) {
			return fmt.Errorf("%w; restore %s from a copy, or move it aside to start a new store", err, db.path)
		}
		return err
	}
	db.walkedMu.Lock()
	db.walked = st
	db.walkedMu.Unlock()
	return nil
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
			NoSync:       db.opts.noSync,
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
