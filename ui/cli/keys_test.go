package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadKeyFile: the workbench reads $SLUICE_KEYS first; a binding that
// does not exist stops it with the file's line and column, exit 2.
func TestBadKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keys.yaml")
	if err := os.WriteFile(p, []byte("runs:\n  compare: C\n  kompare: c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_KEYS", p)
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--db", filepath.Join(dir, "s.db"), dir}, strings.NewReader(""), &out, &errb)
	if code != ExitInvalid || !strings.Contains(errb.String(), p+`:3:3: runs has no binding "kompare"`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "s.db")); !os.IsNotExist(err) {
		t.Errorf("a bad key file should stop before the store is opened: %v", err)
	}
	// A key another binding has: where the new one is written.
	if err := os.WriteFile(p, []byte("# mine\nruns:\n  compare: [C, t]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	code = Main(context.Background(), []string{"--db", filepath.Join(dir, "s.db"), dir}, strings.NewReader(""), &out, &errb)
	if code != ExitInvalid || !strings.Contains(errb.String(), p+`:3:12: runs.compare: key "t" is already runs.tag`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
}
