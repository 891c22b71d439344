package artifacts_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store/artifacts"
)

var (
	_ engine.ArtifactStore = (*artifacts.S3)(nil)
	_ engine.RefStore      = (*artifacts.S3)(nil)
)

// serverClock is the fake S3 server's clock: the real time shifted by an
// offset a test sets, to write objects "in the past" or to skew the
// server against the client.
type serverClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *serverClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off).In(time.FixedZone("GMT", 0))
}
func (c *serverClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *serverClock) set(off time.Duration) {
	c.mu.Lock()
	c.off = off
	c.mu.Unlock()
}

// fakeS3 starts an in-process S3 server with one bucket, "sluice", and
// returns its endpoint URL and clock.
func fakeS3(t *testing.T) (string, *serverClock) {
	t.Helper()
	clock := &serverClock{}
	backend := s3mem.New(s3mem.WithTimeSource(clock))
	if err := backend.CreateBucket("sluice"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithTimeSource(clock), gofakes3.WithTimeSkewLimit(0)).Server())
	t.Cleanup(srv.Close)
	return srv.URL, clock
}

func openS3(t *testing.T, endpoint, prefix string) *artifacts.S3 {
	t.Helper()
	s, err := artifacts.OpenS3(context.Background(), "sluice", prefix, &artifacts.S3Options{
		Endpoint: endpoint, AccessKeyID: "test", SecretAccessKey: "test", Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3RoundTrip(t *testing.T) {
	t.Parallel()
	ep, _ := fakeS3(t)
	s := openS3(t, ep, "team/a/")
	ctx := context.Background()
	listed := map[string]int64{}
	for _, data := range [][]byte{{}, []byte("hello, s3"), bytes.Repeat([]byte("0123456789abcdef"), 1<<16)} {
		key, n, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if key != sum(data) || n != int64(len(data)) {
			t.Fatalf("Put = %s, %d; want %s, %d", key, n, sum(data), len(data))
		}
		got, err := engine.ReadArtifact(ctx, s, key)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v; want the %d put", len(got), err, len(data))
		}
		if ok, err := s.Has(ctx, key); err != nil || !ok {
			t.Fatalf("Has = %v, %v", ok, err)
		}
		if size, err := s.Size(ctx, key); err != nil || size != n {
			t.Fatalf("Size = %d, %v; want %d", size, err, n)
		}
		listed[key] = n
	}
	// Again: stored once, Put still answers.
	if _, _, err := s.Put(ctx, strings.NewReader("hello, s3")); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	err := s.List(ctx, func(key string, size int64, mod time.Time) error {
		got[key] = size
		if d := time.Since(mod); d > time.Minute || d < -time.Minute {
			t.Errorf("%s modified %v ago; want about now", key[:8], d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(listed) {
		t.Fatalf("List gave %d blobs, want %d", len(got), len(listed))
	}
	for k, n := range listed {
		if got[k] != n {
			t.Errorf("List: %s size %d, want %d", k[:8], got[k], n)
		}
	}
	// Another prefix of the same bucket is another store.
	other := openS3(t, ep, "team/b")
	if ok, _ := other.Has(ctx, sum([]byte("hello, s3"))); ok {
		t.Fatal("a blob under team/a/ is seen under team/b/")
	}
	key := sum([]byte("hello, s3"))
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("deleting a missing blob: %v", err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get after Delete: %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Size(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Size after Delete: %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, artifacts.ErrBadKey) {
		t.Fatalf("Get of a bad key: %v, want ErrBadKey", err)
	}
}

func TestS3CorruptNeverTrusted(t *testing.T) {
	t.Parallel()
	ep, _ := fakeS3(t)
	s := openS3(t, ep, "")
	ctx := context.Background()
	key, _, err := s.Put(ctx, strings.NewReader("the real bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RawPut(ctx, "sha256/"+key, []byte("other bytes!!!")); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, artifacts.ErrCorrupt) {
		t.Fatalf("reading a damaged blob: %v, want ErrCorrupt", err)
	}
}

func TestS3Refs(t *testing.T) {
	t.Parallel()
	ep, _ := fakeS3(t)
	s := openS3(t, ep, "p")
	ctx := context.Background()
	name := sum([]byte("fingerprint"))
	if _, err := s.GetRef(ctx, name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("GetRef of a missing ref: %v, want fs.ErrNotExist", err)
	}
	for _, k := range []string{sum([]byte("1")), sum([]byte("2"))} {
		if err := s.PutRef(ctx, name, k); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetRef(ctx, name); err != nil || got != k {
			t.Fatalf("GetRef = %q, %v; want %q", got, err, k)
		}
	}
	if err := s.PutRef(ctx, "../x", sum(nil)); !errors.Is(err, artifacts.ErrBadRef) {
		t.Fatalf("PutRef of a bad name: %v, want ErrBadRef", err)
	}
	if err := s.RawPut(ctx, "refs/abcd", []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRef(ctx, "abcd"); !errors.Is(err, artifacts.ErrCorrupt) {
		t.Fatalf("GetRef of a damaged ref: %v, want ErrCorrupt", err)
	}
	// Refs are not blobs.
	if err := s.List(ctx, func(key string, _ int64, _ time.Time) error {
		return errors.New("List gave " + key)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestS3DeleteBefore: a collector removes a blob written before its
// cutoff, keeps one written or touched (by a Put of the same bytes)
// after it, and puts back a blob that a Put touched while it was being
// deleted.
func TestS3DeleteBefore(t *testing.T) {
	t.Parallel()
	ep, clock := fakeS3(t)
	s := openS3(t, ep, "")
	ctx := context.Background()
	data := []byte("old output")
	// Written an hour ago (the server's clock).
	clock.set(-time.Hour)
	key, n, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	clock.set(0)
	cutoff := time.Now().Add(-time.Minute)

	// A Put of the same bytes now refreshes it: kept.
	if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if gone, _, err := s.DeleteBefore(ctx, key, cutoff); err != nil || gone {
		t.Fatalf("DeleteBefore of a refreshed blob = %v, %v; want kept", gone, err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}

	// Old again; a Put touches it between the delete and the look.
	clock.set(-time.Hour)
	if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	clock.set(0)
	s.SetAfterDelete(func() {
		if err := s.Touch(ctx, key); err != nil {
			t.Error(err)
		}
	})
	if gone, _, err := s.DeleteBefore(ctx, key, cutoff); err != nil || gone {
		t.Fatalf("DeleteBefore racing a touch = %v, %v; want kept", gone, err)
	}
	s.SetAfterDelete(nil)
	if got, err := engine.ReadArtifact(ctx, s, key); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the blob a Put touched was not put back: %v", err)
	}

	// Old and untouched: removed, with its touch and nothing left aside.
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	clock.set(-time.Hour)
	if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, key); err != nil {
		t.Fatal(err)
	}
	clock.set(0)
	gone, freed, err := s.DeleteBefore(ctx, key, cutoff)
	if err != nil || !gone || freed != n {
		t.Fatalf("DeleteBefore = %v, %d, %v; want true, %d, nil", gone, freed, err, n)
	}
	if ok, _ := s.Has(ctx, key); ok {
		t.Fatal("the blob is still there")
	}
	if s.RawHas(ctx, "touch/"+key) {
		t.Fatal("its touch is still there")
	}
	if files, _, err := s.RemoveTemp(ctx, time.Now().Add(time.Hour), true); err != nil || files != 0 {
		t.Fatalf("left behind: %d objects, %v", files, err)
	}
	if gone, _, err := s.DeleteBefore(ctx, key, cutoff); err != nil || gone {
		t.Fatalf("DeleteBefore of a missing blob = %v, %v; want false, nil", gone, err)
	}
}

// TestS3ClockSkew: the server's clock an hour behind the client's must
// not make a blob just written look old to a collector, nor an hour
// ahead make an old one look new forever.
func TestS3ClockSkew(t *testing.T) {
	t.Parallel()
	ep, clock := fakeS3(t)
	ctx := context.Background()
	clock.set(-time.Hour)
	s := openS3(t, ep, "")
	key, _, err := s.Put(ctx, strings.NewReader("fresh"))
	if err != nil {
		t.Fatal(err)
	}
	if gone, _, err := s.DeleteBefore(ctx, key, time.Now().Add(-time.Minute)); err != nil || gone {
		t.Fatalf("a fresh blob on a server an hour behind: DeleteBefore = %v, %v; want kept", gone, err)
	}
	clock.set(time.Hour)
	s2 := openS3(t, ep, "") // measures the clock anew
	if gone, _, err := s2.DeleteBefore(ctx, key, time.Now().Add(-time.Minute)); err != nil || !gone {
		t.Fatalf("a blob two server-hours old: DeleteBefore = %v, %v; want removed", gone, err)
	}
}

// TestS3RemoveTemp: copies a dead collector left aside and touches whose
// blob is gone are removed once older than the cutoff.
func TestS3RemoveTemp(t *testing.T) {
	t.Parallel()
	ep, clock := fakeS3(t)
	s := openS3(t, ep, "x/")
	ctx := context.Background()
	gone := sum([]byte("gone"))
	clock.set(-time.Hour)
	if err := s.RawPut(ctx, "gc/"+gone+".0123", []byte("aside")); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, gone); err != nil {
		t.Fatal(err)
	}
	clock.set(0)
	if err := s.RawPut(ctx, "gc/"+gone+".4567", []byte("new")); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(-time.Minute)
	n, size, err := s.RemoveTemp(ctx, cutoff, true)
	if err != nil || n != 2 || size != 5 {
		t.Fatalf("dry RemoveTemp = %d, %d, %v; want 2, 5, nil", n, size, err)
	}
	if !s.RawHas(ctx, "gc/"+gone+".0123") {
		t.Fatal("a dry run removed something")
	}
	if n, _, err := s.RemoveTemp(ctx, cutoff, false); err != nil || n != 2 {
		t.Fatalf("RemoveTemp = %d, %v; want 2", n, err)
	}
	if s.RawHas(ctx, "gc/"+gone+".0123") || s.RawHas(ctx, "touch/"+gone) {
		t.Fatal("old leftovers are still there")
	}
	if !s.RawHas(ctx, "gc/"+gone+".4567") {
		t.Fatal("a new copy aside was removed")
	}
}

// TestS3ConcurrentPutAndCollect races writers putting the same content
// against a collector deleting it with a cutoff before the writers
// began: every Put that returned must leave a readable blob.
func TestS3ConcurrentPutAndCollect(t *testing.T) {
	t.Parallel()
	ep, clock := fakeS3(t)
	s := openS3(t, ep, "")
	ctx := context.Background()
	data := bytes.Repeat([]byte("race"), 4096)
	key := sum(data)
	for round := range 20 {
		clock.set(-time.Hour)
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		clock.set(0)
		cutoff := time.Now().Add(-time.Minute)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		wg.Go(func() {
			if _, _, err := s.Put(ctx, bytes.NewReader(data)); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if _, _, err := s.DeleteBefore(ctx, key, cutoff); err != nil {
				errs <- err
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got, err := engine.ReadArtifact(ctx, s, key); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round %d: the blob a Put just returned is gone or damaged: %v", round, err)
		}
	}
}

func TestOpenURL(t *testing.T) {
	ep, _ := fakeS3(t)
	t.Setenv("SLUICE_S3_ENDPOINT", ep)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	ctx := context.Background()
	dir := t.TempDir()
	for _, tt := range []struct {
		loc, want string
	}{
		{dir + "/a", dir + "/a"},
		{"file://" + dir + "/b", dir + "/b"},
		{"s3://sluice/runs/ml", "s3://sluice/runs/ml/"},
		{"s3://sluice", "s3://sluice/"},
	} {
		s, err := artifacts.OpenURL(ctx, tt.loc)
		if err != nil {
			t.Fatalf("OpenURL(%q): %v", tt.loc, err)
		}
		if got := s.Location(); got != tt.want {
			t.Errorf("OpenURL(%q).Location() = %q, want %q", tt.loc, got, tt.want)
		}
		if _, _, err := s.Put(ctx, strings.NewReader("x")); err != nil {
			t.Errorf("OpenURL(%q): Put: %v", tt.loc, err)
		}
	}
	for _, bad := range []string{"", "gs://b/p", "s3://", "s3://B_ad/x", "s3://sluice/p?endpoint=x", "file://"} {
		if _, err := artifacts.OpenURL(ctx, bad); !errors.Is(err, artifacts.ErrBadURL) {
			t.Errorf("OpenURL(%q): %v, want ErrBadURL", bad, err)
		}
	}
	if _, err := artifacts.OpenURL(ctx, "s3://no-such-bucket/x"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("OpenURL of a missing bucket: %v, want an error saying so", err)
	}
}
