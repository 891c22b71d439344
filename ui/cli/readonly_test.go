//go:build unix

package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/store"
)

// TestReadingCommandsWorkOnAReadOnlyStore makes the store's file and
// folder unwritable: runs, show and export still work (the store opens
// read-only), and run says the store is read-only. Root ignores file
// modes, so as root (as CI runs) the commands run in the built binary as
// the unprivileged user nobody (uid 65534).
func TestReadingCommandsWorkOnAReadOnlyStore(t *testing.T) {
	dir, _ := sampleDir(t)
	call := func(args ...string) (string, int) {
		_, stderr, code := sluice(t, dir, args...)
		return stderr, code
	}
	if os.Geteuid() == 0 {
		bin := binary(t)
		// nobody must reach the folder and write export's file in it.
		for d := dir; d != os.TempDir() && d != "/" && len(d) > len(os.TempDir()); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		call = func(args ...string) (string, int) {
			cmd := exec.Command(bin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			var errb bytes.Buffer
			cmd.Stderr = &errb
			err := cmd.Run()
			if cmd.ProcessState == nil {
				t.Fatalf("%s as nobody: %v", args, err)
			}
			return errb.String(), cmd.ProcessState.ExitCode()
		}
	}
	storeDir := filepath.Join(dir, "st")
	db := filepath.Join(storeDir, "sluice.db")
	if _, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/iris.yaml"); code != 0 {
		t.Fatal(stderr)
	}
	// A run left running by a process that is gone: opening the store for
	// writing would mark it interrupted, which a read-only store cannot.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip(err)
	}
	host, _ := os.Hostname()
	st, err := store.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BeginRun(context.Background(), &engine.Run{Pipeline: "iris", Status: engine.StatusRunning, Host: host, PID: dead.ProcessState.Pid(), Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(storeDir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := errors.Join(os.Chmod(storeDir, 0o755), os.Chmod(db, 0o644)); err != nil {
			t.Error(err)
		}
	})
	for _, args := range [][]string{{"runs"}, {"show", "1"}, {"export", "1", "-o", "m.json"}} {
		if stderr, code := call(append([]string{"--db", db}, args...)...); code != 0 {
			t.Errorf("%s on a read-only store: exit %d\n%s", args[0], code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m.json")); err != nil {
		t.Errorf("export from a read-only store wrote no file: %v", err)
	}
	stderr, code := call("--db", db, "run", "sample-data/iris.yaml")
	if code == 0 || !(strings.Contains(stderr, "read-only") || strings.Contains(stderr, "permission denied")) {
		t.Errorf("run on a read-only store: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "begin run: begin run") {
		t.Errorf("the error repeats its prefix: %s", stderr)
	}
}
