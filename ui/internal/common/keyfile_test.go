package common

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
)

type testKeys struct{ Go, Stop, GoBack key.Binding }

func writeKeys(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadKeyFile: a key file rebinds a registered binding and its help;
// a bad one says file:line:col and changes nothing.
func TestLoadKeyFile(t *testing.T) {
	km := RegisterKeys("testscope", &testKeys{
		Go:     Binding("g", "go", "g"),
		Stop:   Binding("s", "stop", "s"),
		GoBack: Binding("b", "back", "b"),
	}, "GoBack")
	t.Cleanup(func() { delete(keymaps, "testscope") })

	if err := LoadKeyFile(filepath.Join(t.TempDir(), "none.yaml")); err != nil {
		t.Fatalf("a missing key file: %v", err)
	}
	for _, c := range []struct{ name, text, want string }{
		{"scope", "# mine\nruns_x:\n  go: x\n", `:2:1: no key scope "runs_x"; the scopes are `},
		{"binding", "testscope:\n  goo: x\n", `:2:3: testscope has no binding "goo"; it has go, stop`},
		{"fixed", "testscope:\n  go_back: x\n", `:2:3: testscope has no binding "go_back"`},
		{"taken", "testscope:\n  go: [x, s]\n", `:2:7: testscope.go: key "s" is already testscope.stop`},
		{"empty", "testscope:\n  go: []\n", `:2:7: testscope.go: give at least one key`},
		{"shape", "- go\n", `:1:1: a key file maps scopes`},
		{"syntax", "testscope:\n  go: [x\n", `yaml: `},
	} {
		p := writeKeys(t, c.text)
		err := LoadKeyFile(p)
		if err == nil || !strings.HasPrefix(err.Error(), p+":") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s%s", c.name, err, p, c.want)
		}
		if got := km.Go.Keys(); len(got) != 1 || got[0] != "g" {
			t.Errorf("%s: a bad file changed go to %v", c.name, got)
		}
	}
	// Swapping two keys in one file is allowed: each is checked against
	// the bindings as the file leaves them.
	p := writeKeys(t, "testscope:\n  go: [s, ctrl+g]\n  stop: g\n")
	if err := LoadKeyFile(p); err != nil {
		t.Fatal(err)
	}
	if got := km.Go.Keys(); strings.Join(got, ",") != "s,ctrl+g" || km.Go.Help().Key != "s/ctrl+g" || km.Go.Help().Desc != "go" {
		t.Errorf("go is %v, help %+v", got, km.Go.Help())
	}
	if got := km.Stop.Keys(); strings.Join(got, ",") != "g" {
		t.Errorf("stop is %v", got)
	}
}
