package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelRegistry: aliases name models for export, predict and models,
// keep their history, and bad addresses are usage errors.
func TestModelRegistry(t *testing.T) {
	dir, db := sampleDir(t)
	for _, args := range [][]string{
		{"run", "sample-data/iris.yaml"},
		{"run", "sample-data/iris.yaml", "--set", "model.C=0.05"},
		{"run", "sample-data/etl.yaml"},
	} {
		if _, stderr, code := sluice(t, dir, append([]string{"--db", db}, args...)...); code != ExitOK {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return sluice(t, dir, append([]string{"--db", db}, args...)...)
	}
	if out, stderr, code := run("alias", "set", "iris@champion", "1"); code != ExitOK || !strings.Contains(out, "iris@champion → run 1 stage model") {
		t.Fatalf("alias set: %d %s %s", code, out, stderr)
	}
	if out, _, code := run("alias", "set", "iris@champion", "2:model"); code != ExitOK || !strings.Contains(out, "(was run 1 stage model)") {
		t.Fatalf("alias move: %d %s", code, out)
	}
	out, _, code := run("models", "--json")
	if code != ExitOK {
		t.Fatal(out)
	}
	var rows []modelRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.Name+"@"+r.Alias] = r.Run
		if len(r.SHA256) != 64 {
			t.Errorf("%s@%s: sha256 %q", r.Name, r.Alias, r.SHA256)
		}
	}
	if len(got) != 2 || got["iris@latest"] != 2 || got["iris@champion"] != 2 {
		t.Errorf("models = %v, want iris@latest and iris@champion at run 2 (etl has no model)", got)
	}
	// export and predict take the alias; predict's rows match the run's model file.
	if _, stderr, code := run("export", "iris@champion", "-o", "champion.json"); code != ExitOK {
		t.Fatalf("export by alias: %s", stderr)
	}
	byAlias, _, code := run("predict", "iris@champion", "sample-data/splits/iris_test.csv")
	byFile, _, code2 := run("predict", "champion.json", "sample-data/splits/iris_test.csv")
	byRun, _, code3 := run("predict", "2", "sample-data/splits/iris_test.csv")
	if code != ExitOK || code2 != ExitOK || code3 != ExitOK || byAlias != byFile || byAlias != byRun || byAlias == "" {
		t.Errorf("predict by alias, file and run differ (exit %d %d %d)", code, code2, code3)
	}
	if _, err := os.Stat(filepath.Join(dir, "champion.json")); err != nil {
		t.Error(err)
	}
	if _, _, code := run("alias", "rm", "iris@champion"); code != ExitOK {
		t.Error("alias rm failed")
	}
	hist, _, _ := run("alias", "history", "iris@champion")
	if strings.Count(hist, "→ run") != 2 || !strings.Contains(hist, "removed") {
		t.Errorf("history:\n%s\nwant two sets and the removal", hist)
	}
	for _, bad := range [][]string{
		{"alias", "rm", "iris@champion"},                                 // already removed
		{"alias", "set", "iris@champion", "3"},                           // run 3 is etl's
		{"alias", "set", "iris@latest", "1"},                             // latest is reserved
		{"alias", "set", "iris@Bad Name", "1"},                           // malformed alias
		{"predict", "iris@champion", "sample-data/splits/iris_test.csv"}, // removed
		{"predict", "nope", "sample-data/splits/iris_test.csv"},          // neither file nor address
		{"export", "9", "-o", "x.json"},                                  // no run 9
	} {
		if _, stderr, code := run(bad...); code != ExitInvalid || stderr == "" {
			t.Errorf("%v: exit %d, want 2 with a message", bad, code)
		}
	}
}
