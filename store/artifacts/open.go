package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Store is what both artifact stores of this package give: the methods
// of engine.ArtifactStore and engine.RefStore (spelled out here, since
// this package stays below engine and does not import it), plus what a
// garbage collector needs (removing a blob only if nothing refreshed it
// since a cutoff, and clearing what dead writers left) and where the
// store is, for messages. *Dir and *S3 implement it.
type Store interface {
	Put(ctx context.Context, r io.Reader) (key string, size int64, err error)
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Has(ctx context.Context, key string) (bool, error)
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, fn func(key string, size int64, modified time.Time) error) error
	Size(ctx context.Context, key string) (int64, error)
	PutRef(ctx context.Context, name, key string) error
	GetRef(ctx context.Context, name string) (key string, err error)
	// DeleteBefore removes the blob under key only if it was last written
	// or refreshed before cutoff, and reports whether it did and how many
	// bytes that freed. A missing blob is not an error.
	DeleteBefore(ctx context.Context, key string, cutoff time.Time) (bool, int64, error)
	// RemoveTemp removes what writers and collectors that died left
	// behind, if older than cutoff (dry: only counts it), and returns
	// how many files or objects and bytes that was.
	RemoveTemp(ctx context.Context, cutoff time.Time, dry bool) (int, int64, error)
	// Location names the store: a folder or an s3:// URL.
	Location() string
}

var (
	_ Store = (*Dir)(nil)
	_ Store = (*S3)(nil)
)

// ErrBadURL reports an artifact store location OpenURL cannot read.
var ErrBadURL = errors.New("bad artifact store URL")

// OpenURL opens the artifact store at loc:
//
//   - file://PATH, or a bare PATH: the folder store (Open), PATH as
//     written, absolute or relative to the current folder;
//   - s3://BUCKET/PREFIX: the bucket's objects under PREFIX (OpenS3), with
//     the endpoint, region and credentials taken from the environment
//     (S3OptionsFromEnv), never from the URL.
//
// A URL of another scheme, or an s3:// URL without a bucket, gives an
// error wrapping ErrBadURL.
func OpenURL(ctx context.Context, loc string) (Store, error) {
	switch {
	case loc == "":
		return nil, fmt.Errorf("%w: empty", ErrBadURL)
	case strings.HasPrefix(loc, "file://"):
		p := strings.TrimPrefix(loc, "file://")
		if p == "" {
			return nil, fmt.Errorf("%w: %q names no folder", ErrBadURL, loc)
		}
		return Open(p)
	case strings.HasPrefix(loc, "s3://"):
		bucket, prefix, err := ParseS3URL(loc)
		if err != nil {
			return nil, err
		}
		opts, err := S3OptionsFromEnv()
		if err != nil {
			return nil, err
		}
		return OpenS3(ctx, bucket, prefix, opts)
	case strings.Contains(loc, "://"):
		scheme, _, _ := strings.Cut(loc, "://")
		return nil, fmt.Errorf("%w: %q: scheme %s: want file:// or s3:// (or a folder)", ErrBadURL, loc, scheme)
	}
	return Open(loc)
}
