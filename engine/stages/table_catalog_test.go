package stages_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
)

// Every table stage type is in the catalog once, in its group, taking and
// giving tables, with a one-line doc for it and each parameter.
func TestTableCatalog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, group  string
		minIn, maxIn int
	}{
		{"read_csv", "extract", 0, 0},
		{"read_jsonl", "extract", 0, 0},
		{"exec", "extract", 0, 1},
		{"select", "transform", 1, 1},
		{"drop", "transform", 1, 1},
		{"rename", "transform", 1, 1},
		{"filter", "transform", 1, 1},
		{"derive", "transform", 1, 1},
		{"cast", "transform", 1, 1},
		{"dropna", "transform", 1, 1},
		{"fillna", "transform", 1, 1},
		{"dedupe", "transform", 1, 1},
		{"sort", "transform", 1, 1},
		{"sample", "transform", 1, 1},
		{"join", "transform", 2, 2},
		{"concat", "transform", 2, -1},
		{"write_csv", "load", 1, 1},
		{"write_jsonl", "load", 1, 1},
	}
	reg := stages.Registry()
	for _, tt := range tests {
		st, ok := reg.Lookup(tt.name)
		if !ok {
			t.Errorf("%s: not in the catalog", tt.name)
			continue
		}
		if st.Group != tt.group {
			t.Errorf("%s: group got %s, want %s", tt.name, st.Group, tt.group)
		}
		if st.MinIn != tt.minIn || st.MaxIn != tt.maxIn {
			t.Errorf("%s: inputs got %d..%d, want %d..%d", tt.name, st.MinIn, st.MaxIn, tt.minIn, tt.maxIn)
		}
		if st.Out != engine.KindTable || (st.MaxIn != 0 && st.In != engine.KindTable) {
			t.Errorf("%s: got %s → %s, want tables", tt.name, st.In, st.Out)
		}
		if st.Doc == "" || strings.Contains(st.Doc, "\n") || st.Check == nil {
			t.Errorf("%s: want a one-line doc and a Check", tt.name)
		}
		for _, p := range st.Params {
			if p.Doc == "" || strings.Contains(p.Doc, "\n") {
				t.Errorf("%s.%s: want a one-line doc", tt.name, p.Name)
			}
		}
	}
}

// The sample pipelines of table stages validate and run, and write what
// they promise.
func TestSamplePipelines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, out string
		rows      int
		header    string
	}{
		{"etl.yaml", "out/iris_clean.csv", 149, "sepal_length,sepal_width,petal_length,petal_width,species,petal_ratio"},
		{"fan_in.yaml", "out/iris_by_petal.csv", 150, "sepal_length,sepal_width,petal_length,petal_width,species,petal,petal_ratio"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			src := filepath.Join("..", "..", "sample-data")
			spec, err := os.ReadFile(filepath.Join(src, tt.file))
			if err != nil {
				t.Skipf("no sample pipeline: %v", err)
			}
			dir := t.TempDir()
			for _, name := range []string{tt.file, "iris.csv", "iris_dirty.csv"} {
				b := spec
				if name != tt.file {
					if b, err = os.ReadFile(filepath.Join(src, name)); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			plan := mustPlan(t, filepath.Join(dir, tt.file))
			run, _ := execute(t, t.Context(), plan)
			if run.Status != engine.StatusSucceeded {
				t.Fatalf("run: got %s (%s), want succeeded", run.Status, run.Error)
			}
			f := readBack(t, filepath.Join(dir, tt.out))
			if f.NumRows() != tt.rows {
				t.Errorf("%s: got %d rows, want %d", tt.out, f.NumRows(), tt.rows)
			}
			if got := strings.Join(f.Names(), ","); got != tt.header {
				t.Errorf("%s: columns got %s, want %s", tt.out, got, tt.header)
			}
		})
	}
}
