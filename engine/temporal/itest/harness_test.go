package itest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/engine/temporal"
	"github.com/sluice-ml/sluice/store"
	"github.com/sluice-ml/sluice/store/artifacts"
	"github.com/sluice-ml/sluice/ui/cli"
)

// The suite's shared state, set up once by TestMain.
var (
	server  *temporaltest.TestServer // the Temporal server every test uses
	binDir  string                   // where the sluice binary is built
	repo    string                   // the root of the repository
	build   sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repo = filepath.Clean(filepath.Join(wd, "..", "..", ".."))
	if binDir, err = os.MkdirTemp("", "sluice-itest-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(binDir)
	server = temporaltest.NewServer()
	defer stopServer()
	return m.Run()
}

// stopServer stops the shared server; an error stopping it (logged to a
// nil test by temporaltest) does not fail a suite that passed.
func stopServer() {
	defer func() { _ = recover() }()
	server.Stop()
}

// sluiceBin builds the sluice binary of this tree once (with the version
// the in-process workers use, so fingerprints and model files agree) and
// returns its path.
func sluiceBin(t testing.TB) string {
	t.Helper()
	build.Do(func() {
		binPath = filepath.Join(binDir, "sluice")
		cmd := exec.Command("go", "build", "-ldflags", "-X github.com/sluice-ml/sluice/ui/cli.Version="+cli.Version, "-o", binPath, "github.com/sluice-ml/sluice")
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// harness is one test's corner of the cluster: its own task queue, folder,
// run store and artifact store.
type harness struct {
	t         *testing.T
	Client    client.Client
	HostPort  string
	Namespace string
	Queue     string
	Dir       string // the test's folder: the store lives in Dir/.sluice
	DB        string // the run store (Dir/.sluice/sluice.db)
	Artifacts *artifacts.Dir
}

// newHarness gives the test a fresh task queue (no other test's worker
// polls it) and folder.
func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, ".sluice", "sluice.db")
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		t.Fatal(err)
	}
	arts, err := artifacts.Open(store.ArtifactsDir(db))
	if err != nil {
		t.Fatal(err)
	}
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return &harness{
		t: t, Client: server.GetDefaultClient(), HostPort: server.GetFrontendHostPort(), Namespace: server.GetDefaultNamespace(),
		Queue: fmt.Sprintf("%s-%d", name, time.Now().UnixNano()), Dir: dir, DB: db, Artifacts: arts,
	}
}

// activities returns the stage activities an in-process worker runs, on
// the harness's artifact store.
func (h *harness) activities() *temporal.Activities {
	return &temporal.Activities{Registry: stages.Registry(), Artifacts: h.Artifacts, Version: cli.Version}
}

// startWorker starts an in-process worker on the harness's task queue,
// stopped when the test ends.
func (h *harness) startWorker(identity string) worker.Worker {
	h.t.Helper()
	w, err := temporal.NewWorker(h.Client, temporal.WorkerOptions{TaskQueue: h.Queue, Identity: identity, Activities: h.activities()})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(w.Stop)
	return w
}

// child is a `sluice worker` process.
type child struct {
	Cmd    *exec.Cmd
	Stderr *syncBuffer
	done   chan struct{}
}

// Kill sends sig to the worker process and waits for it to exit.
func (c *child) Kill(sig syscall.Signal) {
	_ = c.Cmd.Process.Signal(sig)
	<-c.done
}

// Exited reports whether the process has exited.
func (c *child) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// startChildWorker starts `sluice worker` as a child process on the
// harness's task queue and store (extra flags appended), waits until it
// polls for stages, and stops it (SIGTERM, then SIGKILL) when the test
// ends.
func (h *harness) startChildWorker(extra ...string) *child {
	h.t.Helper()
	args := append([]string{"--db", h.DB, "worker", "--temporal", h.HostPort, "--namespace", h.Namespace, "--task-queue", h.Queue}, extra...)
	cmd := exec.Command(sluiceBin(h.t), args...)
	cmd.Dir = h.Dir
	cmd.Env = h.environ()
	c := &child{Cmd: cmd, Stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.Stderr, c.Stderr
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	h.t.Cleanup(func() {
		if c.Exited() {
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-c.done
		}
		if h.t.Failed() {
			h.t.Logf("child worker %d said:\n%s", cmd.Process.Pid, c.Stderr.String())
		}
	})
	h.waitPoller(fmt.Sprintf("%d@", cmd.Process.Pid), c)
	return c
}

// waitPoller waits until a worker whose identity starts with prefix polls
// the harness's activity task queue.
func (h *harness) waitPoller(prefix string, c *child) {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if c != nil && c.Exited() {
			h.t.Fatalf("the child worker exited:\n%s", c.Stderr.String())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := h.Client.DescribeTaskQueue(ctx, h.Queue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		cancel()
		if err == nil {
			for _, p := range resp.GetPollers() {
				if strings.HasPrefix(p.GetIdentity(), prefix) {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("no worker %s… polls task queue %s", prefix, h.Queue)
}

// environ is the environment of the harness's sluice processes: this
// process's, without any SLUICE_ setting of the machine's.
func (h *harness) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLUICE_") {
			env = append(env, kv)
		}
	}
	return env
}

// sluice runs the sluice binary in the harness's folder on its store and
// returns its stdout, stderr and exit status.
func (h *harness) sluice(args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	cmd := exec.Command(sluiceBin(h.t), append([]string{"--db", h.DB}, args...)...)
	cmd.Dir = h.Dir
	cmd.Env = h.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		h.t.Fatalf("sluice %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// temporalArgs are the flags that send a run to the harness's cluster.
func (h *harness) temporalArgs() []string {
	return []string{"--engine", "temporal", "--temporal", h.HostPort, "--namespace", h.Namespace, "--task-queue", h.Queue}
}

// runner returns an in-process client of the harness's cluster that runs
// plans recorded in db (opened by the caller), with events on events (nil: none).
func (h *harness) runner(db *store.DB, events *engine.Broker, opts temporal.RunOptions) *temporal.Runner {
	return &temporal.Runner{
		Client: h.Client, TaskQueue: h.Queue, Options: opts,
		Executor: &engine.Executor{Recorder: db, Cache: db, Artifacts: db.ArtifactStore(), Events: events, Version: cli.Version},
	}
}

// openStore opens the harness's run store, closed when the test ends.
func (h *harness) openStore() *store.DB {
	h.t.Helper()
	db, err := store.Open(h.DB, &store.Options{Timeout: time.Second, Artifacts: h.Artifacts})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = db.Close() })
	return db
}

// copySampleData copies the repository's sample-data folder into the
// harness's folder (pipelines write their outputs beside themselves) and
// returns the copy's path.
func (h *harness) copySampleData() string {
	h.t.Helper()
	src := filepath.Join(repo, "sample-data")
	dst := filepath.Join(h.Dir, "sample-data")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return dst
}

// writeFile writes a file under the harness's folder and returns its path.
func (h *harness) writeFile(name, text string) string {
	h.t.Helper()
	p := filepath.Join(h.Dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHarness checks the harness itself: the server answers, an
// in-process worker and a child `sluice worker` both poll the test's task
// queue.
func TestHarness(t *testing.T) {
	h := newHarness(t)
	h.startWorker("in-process")
	h.waitPoller("in-process", nil)
	c := h.startChildWorker()
	if c.Exited() {
		t.Fatalf("child worker exited: %s", c.Stderr.String())
	}
}
