package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// fullStorePipeline logs about 300 KB: more than the file size limit the
// test gives the store, as a disk filling up during the run would.
const fullStorePipeline = `name: full
stages:
  - id: chatty
    uses: exec
    with: {command: [sh, -c, "i=0; while [ $i -lt 5000 ]; do echo line $i of log text that takes room in the store; i=$((i+1)); done"]}
  - id: after
    uses: exec
    needs: [chatty]
    with: {command: [sh, -c, "echo done"]}
`

// TestRunOnAFullStoreEndsFailedToRecord runs the built binary with a file
// size limit (RLIMIT_FSIZE, through bash's ulimit) that the store's file
// reaches mid-run, so its writes fail in bbolt's own write path as they
// would on a full disk. The run must end saying it failed to record, exit
// non-zero, and leave a sound store with the run recorded as failed and
// its stages' results, not interrupted.
func TestRunOnAFullStoreEndsFailedToRecord(t *testing.T) {
	bin := binary(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to set the file size limit with")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "store", "sluice.db")
	if err := os.WriteFile(filepath.Join(dir, "full.yaml"), []byte(fullStorePipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	// 128 KiB: room for the store's first pages and a run record, not
	// for the log.
	cmd := exec.Command(bash, "-c", `ulimit -f 128 && exec "$0" "$@"`, bin, "--db", db, "run", "full.yaml")
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err == nil || code != ExitFailed {
		t.Fatalf("run on a full store: exit %d (%v), want %d\nstdout:\n%s\nstderr tail:\n%s", code, err, ExitFailed, out.String(), tail(errb.String(), 1500))
	}
	if !strings.Contains(errb.String(), "run 1 failed to record") || !strings.Contains(errb.String(), "file too large") {
		t.Errorf("stderr does not say the run failed to record and why:\n%s", tail(errb.String(), 1500))
	}
	if strings.Contains(out.String(), "succeeded in") && !strings.Contains(out.String(), "failed") {
		t.Errorf("summary says succeeded:\n%s", out.String())
	}

	s, err := store.Open(db, &store.Options{})
	if err != nil {
		t.Fatalf("the store does not open after the failed write: %v", err)
	}
	defer s.Close()
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("store check after the failed write: %v", err)
	}
	r, err := s.Run(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != engine.StatusFailed || !strings.HasPrefix(r.Error, "failed to record: ") {
		t.Errorf("recorded run: %s %q, want failed, failed to record", r.Status, r.Error)
	}
	for _, st := range r.Stages {
		if st.Status != engine.StatusSucceeded {
			t.Errorf("recorded stage %s: %s, want succeeded (its result kept)", st.ID, st.Status)
		}
	}

	// The store goes on working once there is room.
	again := exec.Command(bin, "--db", db, "run", "full.yaml")
	again.Dir = dir
	if b, err := again.CombinedOutput(); err != nil {
		t.Fatalf("a run once there is room: %v\n%s", err, tail(string(b), 1500))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestFsck checks a sound store, then one whose pages after the meta
// pages are overwritten: fsck says which, read-only, and exits 1 on the
// damaged one instead of crashing or hanging.
func TestFsck(t *testing.T) {
	dir, db := sampleDir(t)
	if _, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/iris.yaml"); code != 0 {
		t.Fatal(stderr)
	}
	if out, stderr, code := sluice(t, dir, "--db", db, "fsck"); code != 0 || !strings.Contains(out, "sound, 1 runs") {
		t.Fatalf("fsck of a sound store: exit %d\n%s%s", code, out, stderr)
	}
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2 * 4096; i < len(b); i += 4096 {
		copy(b[i+16:], bytes.Repeat([]byte{0xff}, 64)) // every page's first elements
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := sluice(t, dir, "--db", db, "fsck")
	if code != ExitFailed || !strings.Contains(stderr, "store file is damaged") {
		t.Errorf("fsck of a damaged store: exit %d\n%s", code, stderr)
	}
}
