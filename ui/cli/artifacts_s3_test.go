package cli

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sluice-ml/sluice/store"
)

// s3Clock is the fake S3 server's clock: real time shifted by an
// offset, so a test can write objects "an hour ago".
type s3Clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *s3Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off).In(time.FixedZone("GMT", 0))
}
func (c *s3Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *s3Clock) set(d time.Duration) {
	c.mu.Lock()
	c.off = d
	c.mu.Unlock()
}

// fakeS3Env starts an in-process S3 server with a bucket "sluice" and
// points the standard environment at it, as a user would point sluice at
// MinIO: SLUICE_S3_ENDPOINT and the AWS credential variables.
func fakeS3Env(t *testing.T) *s3Clock {
	t.Helper()
	clock := &s3Clock{}
	backend := s3mem.New(s3mem.WithTimeSource(clock))
	if err := backend.CreateBucket("sluice"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithTimeSource(clock), gofakes3.WithTimeSkewLimit(0)).Server())
	t.Cleanup(srv.Close)
	t.Setenv("SLUICE_S3_ENDPOINT", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "sluice-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "sluice-test-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return clock
}

func blobsIn(t *testing.T, loc string) int {
	t.Helper()
	s, err := store.OpenArtifacts(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.List(context.Background(), func(string, int64, time.Time) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunWithS3Artifacts runs a whole pipeline with its artifacts in an
// S3 bucket (SLUICE_ARTIFACTS), reads them back through show, export
// and du, then trashes the run and collects it with gc.
func TestRunWithS3Artifacts(t *testing.T) {
	clock := fakeS3Env(t)
	dir, db := sampleDir(t)
	const loc = "s3://sluice/team/iris"
	t.Setenv("SLUICE_ARTIFACTS", loc)

	// The run writes its outputs "an hour ago" by the server's clock, so
	// the collection below is past gc's grace period without waiting.
	clock.set(-time.Hour)
	out, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/iris.yaml", "--json")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	clock.set(0)
	var doc struct {
		Run    int64  `json:"run"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Status != "succeeded" {
		t.Fatalf("run: %v %q", err, out)
	}
	n := blobsIn(t, loc)
	if n == 0 {
		t.Fatal("the run wrote no artifact to the bucket")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "artifacts", "sha256")); len(ents) != 0 {
		t.Fatalf("the run wrote %d artifact folders beside the database too", len(ents))
	}

	// export reads the model's bytes from the bucket...
	if _, stderr, code := sluice(t, dir, "--db", db, "export", "latest", "-o", "iris.model"); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := sluice(t, dir, "predict", "iris.model", "sample-data/splits/iris_test.csv", "-o", "pred.csv"); code != 0 {
		t.Fatalf("predict: exit %d\n%s", code, stderr)
	}
	// ...and, pointed at the default folder, finds nothing there.
	_, _, code = sluice(t, dir, "--db", db, "--artifacts", filepath.Join(dir, "artifacts"), "export", "latest", "-o", "other.model")
	if code == 0 {
		t.Fatal("export found the model in a folder the run never wrote to")
	}

	out, stderr, code = sluice(t, dir, "--db", db, "du", "--json")
	if code != 0 {
		t.Fatalf("du: exit %d\n%s", code, stderr)
	}
	var du struct {
		Files     int    `json:"artifact_files"`
		Artifacts string `json:"artifacts"`
	}
	if err := json.Unmarshal([]byte(out), &du); err != nil {
		t.Fatal(err)
	}
	if du.Files != n || du.Artifacts != loc+"/" {
		t.Fatalf("du: %d files at %q; want %d at %q", du.Files, du.Artifacts, n, loc+"/")
	}

	// gc keeps what the run refers to...
	if _, stderr, code := sluice(t, dir, "--db", db, "gc"); code != 0 {
		t.Fatalf("gc: exit %d\n%s", code, stderr)
	}
	if got := blobsIn(t, loc); got != n {
		t.Fatalf("gc of a store whose run refers to %d blobs left %d", n, got)
	}
	// ...and removes it all once the run is gone.
	if _, stderr, code := sluice(t, dir, "--db", db, "runs", "rm", "latest"); code != 0 {
		t.Fatalf("runs rm: exit %d\n%s", code, stderr)
	}
	out, stderr, code = sluice(t, dir, "--db", db, "gc", "--json")
	if code != 0 {
		t.Fatalf("gc: exit %d\n%s", code, stderr)
	}
	var rep store.GCReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Files != n || len(rep.Runs) != 1 {
		t.Fatalf("gc removed %d files and %d runs; want %d and 1\n%s", rep.Files, len(rep.Runs), n, out)
	}
	if got := blobsIn(t, loc); got != 0 {
		t.Fatalf("%d blobs left in the bucket after gc", got)
	}
}

// TestArtifactsFlagErrors: a location sluice cannot open stops the
// command with exit 2 and a message naming it, before anything runs.
func TestArtifactsFlagErrors(t *testing.T) {
	fakeS3Env(t)
	dir, db := sampleDir(t)
	for _, tt := range []struct{ loc, want string }{
		{"gs://bucket/x", "scheme gs"},
		{"s3://missing-bucket/x", "does not exist"},
		{"s3://", "bucket"},
	} {
		_, stderr, code := sluice(t, dir, "--db", db, "--artifacts", tt.loc, "run", "sample-data/iris.yaml")
		if code != ExitInvalid || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, tt.loc) {
			t.Errorf("--artifacts %s: exit %d, %q; want 2 and a message with %q", tt.loc, code, stderr, tt.want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused run created the store")
	}
}
