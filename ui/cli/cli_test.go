package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// updating reports -update: rewrite golden files. The flag is registered
// by teatest's golden package, which these tests import.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// sluice runs the command line in-process with args and returns stdout,
// stderr and the exit status. The store is a temp file unless args set one.
func sluice(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	return sluiceIn(t, dir, "", args...)
}

// mustWriteFile writes a test's file, failing the test if it cannot.
func mustWriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sluiceIn(t *testing.T, dir, stdin string, args ...string) (string, string, int) {
	t.Helper()
	if dir != "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := os.Chdir(wd); err != nil {
				t.Fatal(err)
			}
		}()
	}
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// sampleDir copies the repository's sample-data into a temp dir and
// returns that dir (holding sample-data/) and a store path in it.
func sampleDir(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "sample-data"), os.DirFS(filepath.Join("..", "..", "sample-data"))); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, "store.db")
}

func TestValidateGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil || len(files) < 15 {
		t.Fatalf("want at least 15 bad pipelines in testdata/bad, got %d (%v)", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			_, stderr, code := sluice(t, "", "validate", f)
			if code != ExitInvalid {
				t.Errorf("exit status: got %d, want %d", code, ExitInvalid)
			}
			located := regexp.MustCompile(`(?m)^testdata/bad/` + regexp.QuoteMeta(filepath.Base(f)) + `:\d+:\d+: `)
			if !located.MatchString(stderr) {
				t.Errorf("no file:line:col problem in:\n%s", stderr)
			}
			golden := filepath.Join("testdata", "bad", name+".golden")
			if updating() {
				if err := os.WriteFile(golden, []byte(stderr), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./ui/cli -run TestValidateGolden -update)", err)
			}
			if stderr != string(want) {
				t.Errorf("validate output changed:\ngot:\n%s\nwant:\n%s", stderr, want)
			}
		})
	}
}

func TestValidateListsEveryPlantedProblem(t *testing.T) {
	_, stderr, code := sluice(t, "", "validate", filepath.Join("testdata", "bad", "19_many_problems.yaml"))
	if code != ExitInvalid {
		t.Fatalf("exit: got %d, want 2", code)
	}
	for _, want := range []string{`unknown stage type "read_csvv" (did you mean "read_csv"?)`, `needs "lood"`, `duplicate stage id "keep"`, "columns wants a list of strings"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("missing %q in:\n%s", want, stderr)
		}
	}
}

func TestRunJSONDocumentAndExitStatus(t *testing.T) {
	dir, db := sampleDir(t)
	stdout, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/etl.yaml", "--json")
	if code != ExitOK {
		t.Fatalf("exit: got %d, want 0\n%s", code, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	for _, k := range []string{"run", "pipeline", "status", "seconds", "stages"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("document lacks %q", k)
		}
	}
	if doc["status"] != "succeeded" || doc["run"] != float64(1) || doc["pipeline"] != "etl" {
		t.Errorf("got run=%v pipeline=%v status=%v, want 1 etl succeeded", doc["run"], doc["pipeline"], doc["status"])
	}
	for _, s := range doc["stages"].([]any) {
		st := s.(map[string]any)
		for _, k := range []string{"id", "uses", "status", "seconds", "metrics"} {
			if _, ok := st[k]; !ok {
				t.Errorf("stage %v lacks %q", st["id"], k)
			}
		}
	}
	if !strings.Contains(stderr, "etl: started") {
		t.Errorf("no plain progress lines on stderr (not a terminal):\n%s", stderr)
	}
	// runs and show list it.
	out, _, code := sluice(t, dir, "--db", db, "runs")
	if code != 0 || !strings.Contains(out, "etl") {
		t.Errorf("runs: exit %d\n%s", code, out)
	}
	out, _, code = sluice(t, dir, "--db", db, "show", "latest")
	if code != 0 || !strings.Contains(out, "run 1  etl") || !strings.Contains(out, "iris_dirty.csv") {
		t.Errorf("show latest: exit %d\n%s", code, out)
	}
}

func TestExitStatuses(t *testing.T) {
	dir, db := sampleDir(t)
	failing := filepath.Join(dir, "fail.yaml")
	mustWriteFile(t, failing, []byte("name: fail\nstages:\n  - id: boom\n    uses: exec\n    with: {command: [sh, -c, 'echo no >&2; exit 3']}\n"))
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"success", []string{"run", "sample-data/iris.yaml"}, ExitOK},
		{"pipeline fails", []string{"run", failing}, ExitFailed},
		{"invalid file", []string{"run", "ui/cli/testdata/nothing.yaml"}, ExitInvalid},
		{"bad override", []string{"run", "sample-data/iris.yaml", "--set", "model.C=abc"}, ExitInvalid},
		{"override of an unknown stage", []string{"run", "sample-data/iris.yaml", "--set", "nope.C=1"}, ExitInvalid},
		{"unknown command flag", []string{"run", "--nope", "sample-data/iris.yaml"}, ExitInvalid},
		{"show a run that is not there", []string{"show", "99"}, ExitInvalid},
		{"show with a bad reference", []string{"show", "first"}, ExitInvalid},
		{"show with a number and text", []string{"show", "1abc"}, ExitInvalid},
		{"restore with a number and text", []string{"runs", "restore", "1x"}, ExitInvalid},
		{"queue cancel with a number and text", []string{"queue", "cancel", "2x"}, ExitInvalid},
		{"compare needs two runs", []string{"compare", "1"}, ExitInvalid},
		{"stages", []string{"stages"}, ExitOK},
		{"validate with an override", []string{"validate", "sample-data/iris.yaml", "--set", "model.C=0.5"}, ExitOK},
		{"validate with a bad override", []string{"validate", "sample-data/iris.yaml", "--set", "model.C=-1"}, ExitInvalid},
		{"validate with a map override", []string{"validate", "sample-data/wine_tuning.yaml", "--set", "tune.grid={C: [0.1, 1], max_iter: [100, 500]}"}, ExitOK},
		{"validate with a list override", []string{"validate", "sample-data/wine_tuning.yaml", "--set", "load.null_values=[NA, missing value]"}, ExitOK},
		{"validate with a bad map override", []string{"validate", "sample-data/wine_tuning.yaml", "--set", "tune.grid=[0.1, 1]"}, ExitInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := sluice(t, dir, append([]string{"--db", db}, tt.args...)...)
			if code != tt.want {
				t.Errorf("got exit %d, want %d\n%s", code, tt.want, stderr)
			}
		})
	}
}

// TestPositiveNumber: a run or queue item number is the whole argument,
// in decimal digits.
func TestPositiveNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 1, true}, {"42", 42, true}, {"9223372036854775807", 1<<63 - 1, true},
		{"0", 0, false}, {"-3", 0, false}, {"+3", 0, false}, {"007", 0, false}, {"12abc", 0, false},
		{"1 ", 0, false}, {" 1", 0, false}, {"", 0, false}, {"1e3", 0, false}, {"9223372036854775808", 0, false},
	}
	for _, tt := range tests {
		got, ok := positiveNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("positiveNumber(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStoreFromEnvironment(t *testing.T) {
	dir, db := sampleDir(t)
	t.Setenv("SLUICE_DB", db)
	if _, stderr, code := sluice(t, dir, "run", "sample-data/iris.yaml"); code != 0 {
		t.Fatalf("run: %d %s", code, stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("SLUICE_DB not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".sluice")); err == nil {
		t.Error("default store created although SLUICE_DB was set")
	}
}

// TestUnknownCommand: a mistyped command is reported as one, with the
// closest name, instead of being opened as a missing folder.
func TestUnknownCommand(t *testing.T) {
	tests := []struct {
		name, arg, want string
	}{
		{"typo", "rn", `unknown command "rn"; did you mean run?`},
		{"swapped letters", "shwo", `unknown command "shwo"; did you mean show?`},
		{"nothing close", "zzzzq", `unknown command "zzzzq"` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := sluice(t, t.TempDir(), tt.arg)
			if code != ExitInvalid || !strings.Contains(stderr, tt.want) {
				t.Errorf("got exit %d, stderr %q; want %d and %q", code, stderr, ExitInvalid, tt.want)
			}
		})
	}
	// A path that does not exist is still reported as a path.
	_, stderr, code := sluice(t, t.TempDir(), "missing/pipes")
	if code != ExitInvalid || strings.Contains(stderr, "unknown command") {
		t.Errorf("got exit %d, stderr %q for a missing folder", code, stderr)
	}
}
