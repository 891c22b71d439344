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
	if err := os.WriteFile(p, []byte("runs:\n  compare: C\n  comapre: c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLUICE_KEYS", p)
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"--db", filepath.Join(dir, "s.db"), dir}, strings.NewReader(""), &out, &errb)
	if code != ExitInvalid || !strings.Contains(errb.String(), p+`:3:3: runs has no binding "comapre"`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
}
