package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/stages"
)

const (
	catalogStart = "<!-- catalog:start (generated from the stage declarations: go test ./ui/cli -run TestREADMECatalog -update) -->"
	catalogEnd   = "<!-- catalog:end -->"
)

// TestREADMECatalog fails when README.md's catalog drifts from the stage
// declarations; -update rewrites it.
func TestREADMECatalog(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i, j := strings.Index(text, catalogStart), strings.Index(text, catalogEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the catalog markers %q … %q", catalogStart, catalogEnd)
	}
	want := catalogStart + "\n" + CatalogMarkdown(stages.Registry()) + "\n"
	got := text[i:j]
	if got == want {
		return
	}
	if updating() {
		if err := os.WriteFile(path, []byte(text[:i]+want+text[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README.md's stage catalog differs from the declarations; run go test ./ui/cli -run TestREADMECatalog -update")
}
