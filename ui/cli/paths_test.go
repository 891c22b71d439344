package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
)

// TestEveryWriterKeepsToThePipelinesFolder tries each writer with "..",
// an absolute path elsewhere and a symlinked folder pointing out: write
// stages and export_model at validation, `export -o`, `predict -o` and
// the workbench's export. Each is refused with exit 2 and nothing is
// written; allow_outside / --allow-outside lets them through.
func TestEveryWriterKeepsToThePipelinesFolder(t *testing.T) {
	dir, db := sampleDir(t)
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, "sample-data", "link")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{
		"dotdot":   "../escape",
		"absolute": filepath.Join(elsewhere, "abs"),
		"symlink":  "link/through",
	}
	writers := []struct {
		uses, ext, with string
	}{
		{"write_csv", ".csv", ""},
		{"write_jsonl", ".jsonl", ""},
		{"write_parquet", ".parquet", ""},
		{"exec", ".csv", "command: [true], "},
	}
	for name, target := range targets {
		for _, w := range writers {
			if _, ok := stages.Registry().Lookup(w.uses); !ok {
				continue
			}
			param := "path"
			if w.uses == "exec" {
				param = "output"
			}
			stage := "  - {id: out, uses: " + w.uses + ", with: {" + w.with + param + ": '" + target + w.ext + "'}}\n"
			src := "name: w\nstages:\n  - {id: load, uses: read_csv, with: {path: iris.csv}}\n" + stage
			f := filepath.Join(dir, "sample-data", "w.yaml")
			if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/w.yaml")
			if code != ExitInvalid || !strings.Contains(stderr, "sample-data/w.yaml:4:") || !strings.Contains(stderr, "is outside the folder") {
				t.Errorf("%s %s: exit %d, want %d and a located message:\n%s", w.uses, name, code, ExitInvalid, stderr)
			}
			allowed := strings.Replace(src, stage, strings.Replace(stage, "with: {", "with: {allow_outside: true, ", 1), 1)
			if err := os.WriteFile(f, []byte(allowed), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, stderr, code := sluice(t, dir, "--db", db, "validate", "sample-data/w.yaml"); code != 0 {
				t.Errorf("%s %s with allow_outside: exit %d\n%s", w.uses, name, code, stderr)
			}
		}
	}
	// export_model.
	src := "name: m\nstages:\n  - {id: load, uses: read_csv, with: {path: iris.csv}}\n  - {id: split, uses: split, with: {target: species}}\n  - {id: model, uses: logistic_regression}\n  - {id: out, uses: export_model, with: {path: link/m.json}}\n"
	if err := os.WriteFile(filepath.Join(dir, "sample-data", "m.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/m.yaml"); code != ExitInvalid || !strings.Contains(stderr, "sample-data/m.yaml:6:") {
		t.Errorf("export_model through a symlink: exit %d\n%s", code, stderr)
	}

	// The commands, relative to the current folder.
	if _, stderr, code := sluice(t, dir, "--db", db, "run", "sample-data/iris.yaml"); code != 0 {
		t.Fatal(stderr)
	}
	for name, target := range targets {
		out := target + ".json"
		if _, stderr, code := sluice(t, dir, "--db", db, "export", "latest", "-o", out); code != ExitInvalid || !strings.Contains(stderr, "outside the folder") {
			t.Errorf("export -o %s (%s): exit %d\n%s", out, name, code, stderr)
		}
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "export", "latest", "-o", "m.json"); code != 0 {
		t.Fatal(stderr)
	}
	for name, target := range targets {
		out := target + ".csv"
		if _, stderr, code := sluice(t, dir, "predict", "m.json", "sample-data/iris.csv", "-o", out); code != ExitInvalid || !strings.Contains(stderr, "outside the folder") {
			t.Errorf("predict -o %s (%s): exit %d\n%s", out, name, code, stderr)
		}
	}
	if _, stderr, code := sluice(t, dir, "predict", "m.json", "sample-data/iris.csv", "--allow-outside", "-o", filepath.Join(elsewhere, "ok.csv")); code != 0 {
		t.Errorf("predict --allow-outside: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := sluice(t, dir, "--db", db, "export", "latest", "--allow-outside", "-o", "link/ok.json"); code != 0 {
		t.Errorf("export --allow-outside: exit %d\n%s", code, stderr)
	}

	// The workbench's export.
	t.Chdir(dir)
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), cfg: &Config{DBPath: db}, reg: stages.Registry()}
	if err := e.resolveConfig(); err != nil {
		t.Fatal(err)
	}
	st, err := e.openStore()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wm := &workbenchModels{e: e, db: st}
	for name, target := range targets {
		if _, err := wm.ExportModel(context.Background(), 1, "", target+".json"); !errors.Is(err, engine.ErrOutside) {
			t.Errorf("workbench export to %s (%s): got %v, want ErrOutside", target, name, err)
		}
	}
	entries, _ := os.ReadDir(elsewhere)
	for _, en := range entries {
		if en.Name() != "ok.csv" && en.Name() != "ok.json" {
			t.Errorf("%s was written outside the folder", en.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "escape.json")); err == nil {
		t.Error("escape.json was written above the folder")
	}
}

// TestPredictStreamBoundsALine sends a line longer than --max-line between
// two good ones: it is answered with an error, read to its end without
// being kept, and the stream goes on. Before, one endless line grew the
// process by ~700 MB/s.
func TestPredictStreamBoundsALine(t *testing.T) {
	dir, db := sampleDir(t)
	runJSON(t, dir, db, "sample-data/iris.yaml")
	sluice(t, dir, "--db", db, "export", "latest", "-o", "m.json")
	long := strings.Repeat("5.1", 200_000)
	in := "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n" + long + ",1,1,1\n6.7,3.0,5.2,2.3\n"
	out, stderr, code := sluiceIn(t, dir, in, "predict", "m.json", "-", "--max-line", "100000")
	if code != ExitInvalid {
		t.Errorf("exit %d, want %d (a row failed)", code, ExitInvalid)
	}
	if !strings.Contains(stderr, "stdin:3: the line is 600007 bytes, longer than --max-line 100000") {
		t.Errorf("stderr: %s", stderr)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "setosa") || lines[2] != "" || !strings.HasPrefix(lines[3], "virginica") {
		t.Errorf("got %q, want the header, setosa, an empty answer, virginica", lines)
	}
	// A header longer than the limit ends the stream.
	if _, stderr, code := sluiceIn(t, dir, long, "predict", "m.json", "-", "--max-line", "1000"); code != ExitInvalid || !strings.Contains(stderr, "stdin:1: header: the line is") {
		t.Errorf("a long header: exit %d, %s", code, stderr)
	}
}
