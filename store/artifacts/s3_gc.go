package artifacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// This file is the S3 store's side of garbage collection: deleting a
// blob only if nothing wrote it after a cutoff, with the server's clock
// read against ours so that a skew between machines never removes a
// new blob, and removing what an interrupted collector left aside. The
// store itself (put, get, list, refs) is in s3.go.

// clockEstimate is how far the server's clock may be behind ours, in
// the direction that keeps a collector from removing what is new.
type clockEstimate struct {
	lo      time.Duration // a lower bound of server time − local time
	measure time.Time     // when it was measured; zero: never
}

// toLocal turns a time of the server's clock into the latest local time
// it can be: server times may be cut to the second, and lo bounds the
// clocks' difference from below.
func toLocal(server time.Time, lo time.Duration) time.Time {
	return server.Add(time.Second - lo)
}

// clockOffset returns a lower bound of (server clock − local clock),
// measured by writing a small object and reading its time back, kept
// for ten minutes. A collector compares the server's object times with
// cutoffs of the local clock through it, so a skew between the machines
// never makes it remove a blob written after its cutoff.
func (s *S3) clockOffset(ctx context.Context) (time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.clock.measure.IsZero() && time.Since(s.clock.measure) < clockLife {
		return s.clock.lo, nil
	}
	name := s.prefix + s3Clock + newSuffix()
	if _, err := s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(nil), 0, putOptions("")); err != nil {
		return 0, fmt.Errorf("read the server's clock: %w", err)
	}
	after := time.Now()
	info, err := s.stat(ctx, name)
	_ = s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("read the server's clock: %w", err)
	}
	// The server stamped the object at some local time before after, at
	// its time LastModified or up to a second later (cut to seconds).
	s.clock = clockEstimate{lo: info.LastModified.Sub(after), measure: after}
	return s.clock.lo, nil
}

// modified returns the local-clock modification time of the blob under
// key (the later of the blob's and its touch's), or fs.ErrNotExist.
func (s *S3) modified(ctx context.Context, key string, lo time.Duration) (time.Time, int64, error) {
	info, err := s.stat(ctx, s.blob(key))
	if err != nil {
		return time.Time{}, 0, err
	}
	mod := info.LastModified
	t, err := s.stat(ctx, s.touch(key))
	switch {
	case err == nil && t.LastModified.After(mod):
		mod = t.LastModified
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return time.Time{}, 0, err
	}
	return toLocal(mod, lo), info.Size, nil
}

// DeleteBefore removes the blob under key only if neither it nor its
// touch was written after cutoff (local clock), and reports whether it
// removed it and how many bytes that freed. S3 has no rename, so it
// copies the blob aside (gc/<key>.<suffix>) before deleting it, then
// looks at the touch again: if a Put touched it meanwhile, the blob is
// copied back. A Put that touches after that look finds the blob gone
// and uploads it again. The copy aside is then removed.
func (s *S3) DeleteBefore(ctx context.Context, key string, cutoff time.Time) (bool, int64, error) {
	if err := CheckKey(key); err != nil {
		return false, 0, err
	}
	fail := func(err error) (bool, int64, error) {
		return false, 0, fmt.Errorf("delete artifact %s: %w", short(key), err)
	}
	lo, err := s.clockOffset(ctx)
	if err != nil {
		return fail(err)
	}
	mod, size, err := s.modified(ctx, key, lo)
	if errors.Is(err, fs.ErrNotExist) {
		return false, 0, nil
	}
	if err != nil {
		return fail(err)
	}
	if !mod.Before(cutoff) {
		return false, 0, nil
	}
	aside := s.prefix + s3Aside + key + "." + newSuffix()
	_, err = s.client.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: aside},
		minio.CopySrcOptions{Bucket: s.bucket, Object: s.blob(key)})
	if err != nil {
		if notFound(err) {
			return false, 0, nil
		}
		return fail(err)
	}
	removeAside := func() {
		_ = s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, aside, minio.RemoveObjectOptions{})
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.blob(key), minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		removeAside()
		return fail(err)
	}
	if s.afterDelete != nil {
		s.afterDelete()
	}
	t, err := s.stat(ctx, s.touch(key))
	touched := err == nil && !toLocal(t.LastModified, lo).Before(cutoff)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		touched = true // cannot tell: keep it
	}
	if touched {
		// A Put saw the blob while it was being deleted: put it back
		// (unless a Put uploaded it again already).
		if _, err := s.stat(ctx, s.blob(key)); errors.Is(err, fs.ErrNotExist) {
			_, err = s.client.CopyObject(context.WithoutCancel(ctx),
				minio.CopyDestOptions{Bucket: s.bucket, Object: s.blob(key)},
				minio.CopySrcOptions{Bucket: s.bucket, Object: aside})
			if err != nil {
				// The copy aside stays for a person to restore.
				return fail(fmt.Errorf("restore from %s: %w", aside, err))
			}
		}
		removeAside()
		return false, 0, nil
	}
	removeAside()
	_ = s.client.RemoveObject(ctx, s.bucket, s.touch(key), minio.RemoveObjectOptions{})
	return true, size, nil
}

// RemoveTemp removes, if older than cutoff: copies a collector that died
// left aside, touches whose blob is gone, and multipart uploads that
// were never completed (a writer that died mid-upload). It returns how
// many objects and bytes that was; dry only counts.
func (s *S3) RemoveTemp(ctx context.Context, cutoff time.Time, dry bool) (int, int64, error) {
	var (
		n     int
		bytes int64
	)
	lo, err := s.clockOffset(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("remove temporary objects: %w", err)
	}
	old := func(t time.Time) bool { return toLocal(t, lo).Before(cutoff) }
	var names []string
	err = s.list(ctx, s3Aside, func(o minio.ObjectInfo) error {
		if old(o.LastModified) {
			names = append(names, o.Key)
			n++
			bytes += o.Size
		}
		return nil
	})
	if err == nil {
		err = s.list(ctx, s3Touch, func(o minio.ObjectInfo) error {
			key := strings.TrimPrefix(o.Key, s.prefix+s3Touch)
			if !old(o.LastModified) || CheckKey(key) != nil {
				return nil
			}
			if _, err := s.stat(ctx, s.blob(key)); errors.Is(err, fs.ErrNotExist) {
				names = append(names, o.Key)
				n++
			} else if err != nil {
				return err
			}
			return nil
		})
	}
	if err != nil {
		return 0, 0, fmt.Errorf("remove temporary objects: %w", err)
	}
	if !dry {
		for _, name := range names {
			if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
				return n, bytes, fmt.Errorf("remove temporary objects: %w", err)
			}
		}
	}
	for up := range s.client.ListIncompleteUploads(ctx, s.bucket, s.prefix+s3Blobs, true) {
		if up.Err != nil {
			r := minio.ToErrorResponse(up.Err)
			if r.Code == "NoSuchUpload" {
				continue // completed or aborted meanwhile
			}
			if r.Code == "NotImplemented" || r.StatusCode == http.StatusNotImplemented {
				break // a server without multipart listing has none to clear
			}
			return n, bytes, fmt.Errorf("remove incomplete uploads: %w", up.Err)
		}
		if !old(up.Initiated) {
			continue
		}
		if !dry {
			if err := s.client.RemoveIncompleteUpload(ctx, s.bucket, up.Key); err != nil && !notFound(err) {
				return n, bytes, fmt.Errorf("remove incomplete uploads: %w", err)
			}
		}
		n++
		bytes += up.Size
	}
	return n, bytes, nil
}
