package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Compaction rewrites the database file without its free pages. Other
// processes keep file descriptors only for the length of one
// transaction, but one may hold the file open, waiting for its lock,
// while the file is compacted; so the file is rewritten in place (a
// rename would leave that process writing to the old, unlinked file).
// In place is made crash-safe with a journal: the compacted copy is
// made durable at <db>.compacted first, then copied over the database
// under the exclusive lock, then removed. Whoever finds a journal (every
// operation looks, see replayJournal) copies it over the database again
// before reading: a half-copied database is never read.

func journalPath(path string) string { return path + ".compacted" }

// compact rewrites the database without free space when that makes it
// smaller, and returns its size before and after.
func (db *DB) compact(ctx context.Context) (int64, int64, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return 0, 0, ErrClosed
	}
	f, err := db.lockFile(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer unlockFile(f)
	if err := replayJournalLocked(f, db.path); err != nil {
		return 0, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	before := fi.Size()
	dir := filepath.Dir(db.path)

	// A snapshot of the locked file, compacted into a second file.
	snap, err := os.CreateTemp(dir, ".compact-src-*")
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	defer os.Remove(snap.Name()) //nolint:errcheck // best effort: a hidden temporary beside the store
	if _, err := io.Copy(snap, io.NewSectionReader(f, 0, before)); err != nil {
		_ = snap.Close() // the copy's error is the one to report
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := snap.Close(); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".compact-dst-%d", os.Getpid()))
	_ = os.Remove(tmp)   // a leftover of a crashed compaction, if any
	defer os.Remove(tmp) //nolint:errcheck // renamed away on success
	src, err := bolt.Open(snap.Name(), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: false})
	if err != nil {
		_ = src.Close() // read-only; the open error is the one to report
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	err = bolt.Compact(dst, src, 16<<20)
	_ = src.Close() // read-only snapshot
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	cfi, err := os.Stat(tmp)
	if err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if cfi.Size() >= before {
		return before, before, nil
	}
	if err := syncFile(tmp); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := os.Rename(tmp, journalPath(db.path)); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return 0, 0, fmt.Errorf("compact: %w", err)
	}
	if err := replayJournalLocked(f, db.path); err != nil {
		return 0, 0, err
	}
	return before, cfi.Size(), nil
}

// replayJournal finishes a compaction that a process did not finish:
// if a journal is there, it takes the file's exclusive lock and copies
// the journal over the database. It costs one stat when there is none.
func (db *DB) replayJournal(ctx context.Context) error {
	if _, err := os.Stat(journalPath(db.path)); err != nil {
		return nil
	}
	if db.opts.ReadOnly {
		return fmt.Errorf("%w: a compaction was interrupted; open the store once for writing to finish it", ErrBusy)
	}
	f, err := db.lockFile(ctx)
	if err != nil {
		return err
	}
	defer unlockFile(f)
	return replayJournalLocked(f, db.path)
}

// replayJournalLocked copies the journal, if any, over the database
// file f (whose exclusive lock the caller holds), fsyncs it and removes
// the journal.
func replayJournalLocked(f *os.File, path string) error {
	j, err := os.Open(journalPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	defer j.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	n, err := io.Copy(&offsetWriter{f: f}, j)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := f.Truncate(n); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := os.Remove(journalPath(path)); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// lockFile opens the database file and takes the exclusive flock bbolt
// itself takes, waiting as openFile does.
func (db *DB) lockFile(ctx context.Context) (*os.File, error) {
	f, err := os.OpenFile(db.path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close() // only locked, never written; the lock error is the one to report
			return nil, err
		}
		if waited := time.Since(start); db.opts.Retry < 0 || waited >= db.opts.Timeout+db.opts.Retry {
			_ = f.Close()
			return nil, fmt.Errorf("%w: another process held the file lock for %s", ErrBusy, waited.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func unlockFile(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close() // the lock is what it held; the store's writes went through bbolt
}

type offsetWriter struct {
	f   *os.File
	off int64
}

func (w *offsetWriter) Write(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	return n, err
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close() //nolint:errcheck // Sync's error is the one that says whether the bytes are on disk
	return f.Sync()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	return f.Sync()
}
