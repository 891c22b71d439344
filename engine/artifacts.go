package engine

import (
	"context"
	"io"
	"time"
)

// ArtifactStore keeps stage outputs once they are written: immutable
// blobs named by the SHA-256 of their bytes. The executor writes every
// successful stage's output through it and reads outputs back by key;
// run records keep only the keys (see ArtifactInfo).
//
// The engine declares what it consumes; store/artifacts implements it on
// a folder beside the run database (`.sluice/artifacts/`), and an object
// store (file://, s3://) can implement it later without touching the
// stages. Implementations are safe for concurrent use, by several
// goroutines and several processes sharing the same backing store.
//
// A key is the lowercase hexadecimal SHA-256 of the blob's bytes (64
// characters). A missing key gives an error wrapping fs.ErrNotExist
// (Get, Size), so callers test with errors.Is(err, fs.ErrNotExist).
type ArtifactStore interface {
	// Put stores the bytes r yields and returns their key and size. It is
	// atomic: a reader sees the whole blob under its key or nothing, even
	// if the process dies mid-write. Content already present is not
	// written again, but its modification time is refreshed, so a
	// concurrent garbage collector's grace period covers it.
	Put(ctx context.Context, r io.Reader) (key string, size int64, err error)
	// Get returns a reader of the blob stored under key. The reader
	// checks the bytes against the key as they stream: at the end its
	// Read returns an error instead of io.EOF if they do not match, so a
	// damaged or partial blob is never taken for whole. Callers read to
	// the end (ReadArtifact does) before trusting what they read.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Has reports whether a blob is stored under key.
	Has(ctx context.Context, key string) (bool, error)
	// Delete removes the blob under key. Deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
	// List calls fn with every stored blob's key, size and modification
	// time, in no particular order, stopping at fn's first error.
	List(ctx context.Context, fn func(key string, size int64, modified time.Time) error) error
	// Size returns the size in bytes of the blob under key.
	Size(ctx context.Context, key string) (int64, error)
}

// ReadArtifact reads the whole blob stored under key, verified against
// its key. It returns an error wrapping fs.ErrNotExist if there is none.
func ReadArtifact(ctx context.Context, s ArtifactStore, key string) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	return io.ReadAll(rc)
}

// RefStore names blobs: a small mutable pointer from a name (a stage fingerprint) to a key.
//
// It is optional: an ArtifactStore that also implements it lets a stage
// computed on one machine be found by its fingerprint on any other that
// shares the store (callers test with a type assertion). A name is a
// fingerprint: lowercase hexadecimal digits. PutRef is atomic (a reader
// sees the old key or the new one, never a mix) and the last writer
// wins; two writers of one fingerprint write the same key anyway. A ref
// may outlive its blob (a garbage collector removes blobs, not refs), so
// a caller checks the key with Has or Get before trusting it.
type RefStore interface {
	PutRef(ctx context.Context, name, key string) error
	GetRef(ctx context.Context, name string) (key string, err error) // fs.ErrNotExist if none
}
