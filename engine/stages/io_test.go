package stages_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

const peopleCSV = "name,age,height,member,joined\n" +
	"ann,34,1.71,true,2020-01-02\n" +
	"bob,,1.80,false,2021-03-04\n" +
	"cid,27,NA,true,\n"

func TestReadCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		with       string
		file       string
		wantSchema string
		wantCol    string // column checked after the run
		want       string // its values, comma-joined
	}{
		{
			name:       "inferred types",
			with:       "{path: people.csv}",
			file:       peopleCSV,
			wantSchema: "name string, age int, height float, member bool, joined time",
			wantCol:    "age", want: "34,,27",
		},
		{
			name:       "schema overrides",
			with:       "{path: people.csv, schema: {age: float, member: string}}",
			file:       peopleCSV,
			wantSchema: "name string, age float, height float, member string, joined time",
			wantCol:    "age", want: "34.0,,27.0",
		},
		{
			name:       "delimiter and null values",
			with:       `{path: people.csv, delimiter: ";", null_values: ["-"]}`,
			file:       "a;b\n1;x\n-;y\n3;-\n",
			wantSchema: "a int, b string",
			wantCol:    "b", want: "x,y,",
		},
		{
			name:       "tab delimiter",
			with:       `{path: people.csv, delimiter: "\t"}`,
			file:       "a\tb\n1\t2\n",
			wantSchema: "a int, b int",
			wantCol:    "b", want: "2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, "  - id: load\n    uses: read_csv\n    with: "+tt.with+"\n", map[string]string{"people.csv": tt.file})
			plan := mustPlan(t, path)
			ps, _ := plan.Stage("load")
			if got := schemaText(validatedSchema(ps)); got != tt.wantSchema {
				t.Errorf("schema at validation: got %s, want %s", got, tt.wantSchema)
			}
			f := mustRun(t, path, "load")
			if got := f.Schema().String(); got != tt.wantSchema {
				t.Errorf("schema after the run: got %s, want %s", got, tt.wantSchema)
			}
			if got := joined(t, f, tt.wantCol); got != tt.want {
				t.Errorf("column %s: got %s, want %s", tt.wantCol, got, tt.want)
			}
		})
	}
}

func TestReadCSVInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		with string
		file string
		want []string // substrings of the validation error
	}{
		{"missing file", "{path: nowhere.csv}", "a\n1\n", []string{"pipeline.yaml:6:18: path: no such file nowhere.csv"}},
		{"bad type name", "{path: data.csv, schema: {a: flaot}}", "a\n1\n", []string{"schema: column a: unknown type \"flaot\"", `did you mean "float"`}},
		{"schema names no column", "{path: data.csv, schema: {ab: int}}", "abc\n1\n", []string{`schema: no column "ab" (did you mean "abc"?)`}},
		{"schema type does not fit", "{path: data.csv, schema: {a: int}}", "a\n1\nx\n", []string{"schema: data.csv:3:1:"}},
		{"ragged row", "{path: data.csv}", "a,b\n1,2\n3\n", []string{"path: data.csv:3:"}},
		{"long delimiter", "{path: data.csv, delimiter: ab}", "a\n1\n", []string{"delimiter: want one ASCII character"}},
		{"delimiter given a number", "{path: data.csv, delimiter: 5}", "a\n1\n", []string{"pipeline.yaml:6:39: delimiter wants a string, got the integer 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, "  - id: load\n    uses: read_csv\n    with: "+tt.with+"\n", map[string]string{"data.csv": tt.file})
			got := invalid(t, path)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

// A file whose problem lies beyond what validation samples fails the run
// with file:line:col.
func TestReadCSVParseErrorAtRun(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	// Beyond the quarter megabyte validation reads.
	b.WriteString("a,b\n")
	for range 100000 {
		b.WriteString("1,2\n")
	}
	b.WriteString("1,2,3\n")
	path := pipeline(t, "  - id: load\n    uses: read_csv\n    with: {path: big.csv}\n", map[string]string{"big.csv": b.String()})
	err := runErr(t, path)
	var pe *frame.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %T %v, want a *frame.ParseError in the chain", err, err)
	}
	if !strings.Contains(err.Error(), "big.csv:100002:") {
		t.Errorf("got %q, want the place big.csv:100002:col", err)
	}
}

func TestReadJSONL(t *testing.T) {
	t.Parallel()
	data := `{"name": "ann", "age": 34, "member": true}
{"name": "bob", "age": 41.5, "member": false}
{"name": "cid", "age": null, "member": true}
`
	path := pipeline(t, `  - id: load
    uses: read_jsonl
    with: {path: people.jsonl}
  - id: old
    uses: filter
    with: {expr: "age > 35"}
`, map[string]string{"people.jsonl": data})
	plan := mustPlan(t, path)
	ps, _ := plan.Stage("load")
	if validatedSchema(ps).Index("age") < 0 {
		t.Errorf("schema at validation: got %s, want an age column", schemaText(validatedSchema(ps)))
	}
	f := mustRun(t, path, "old")
	if got, want := joined(t, f, "name"), "bob"; got != want {
		t.Errorf("names: got %s, want %s", got, want)
	}
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	for _, uses := range []string{"write_csv", "write_jsonl"} {
		t.Run(uses, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: people.csv}
  - id: save
    uses: `+uses+`
    with: {path: out/deep/people.data}
  - id: after
    uses: select
    with: {columns: [name]}
`, map[string]string{"people.csv": peopleCSV})
			plan := mustPlan(t, path)
			run, _ := execute(t, context.Background(), plan)
			if run.Status != engine.StatusSucceeded {
				t.Fatalf("run: got %s (%s), want succeeded", run.Status, run.Error)
			}
			st, _ := run.Stage("after")
			if st.Rows != 3 || st.Cols != 1 {
				t.Errorf("stage after the write: got %d×%d, want 3×1", st.Rows, st.Cols)
			}
			out := filepath.Join(filepath.Dir(path), "out", "deep", "people.data")
			var back *frame.Frame
			var err error
			if uses == "write_csv" {
				back, err = frame.ReadCSVFile(out, frame.ReadOptions{})
			} else {
				back, err = frame.ReadJSONLFile(out, frame.ReadOptions{})
			}
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if got, want := back.NumRows(), 3; got != want {
				t.Errorf("rows read back: got %d, want %d", got, want)
			}
			if got, want := joined(t, back, "name"), "ann,bob,cid"; got != want {
				t.Errorf("names read back: got %s, want %s", got, want)
			}
		})
	}
}

// A write that fails part-way leaves neither the file nor a temporary one,
// and an existing file keeps its content.
func TestWriteCSVAtomic(t *testing.T) {
	t.Parallel()
	for _, existing := range []bool{false, true} {
		name := "new file"
		if existing {
			name = "existing file"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			files := map[string]string{"people.csv": peopleCSV}
			if existing {
				files["out.csv"] = "old\n"
			}
			path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: people.csv}
  - id: save
    uses: write_csv
    with: {path: out.csv}
`, files)
			plan := mustPlan(t, path)
			people := readBack(t, filepath.Join(filepath.Dir(path), "people.csv"))
			ps, _ := plan.Stage("save")
			sc := engine.NewStageContext(plan, ps, []engine.Value{stages.Table(people)}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // every write fails
			if _, err := ps.Type.Run(ctx, sc); err == nil {
				t.Fatal("write with a cancelled context: no error, want one")
			}
			dir := filepath.Dir(path)
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			want := "people.csv,pipeline.yaml"
			if existing {
				want = "out.csv,people.csv,pipeline.yaml"
			}
			if got := strings.Join(names, ","); got != want {
				t.Errorf("files after a failed write: got %s, want %s", got, want)
			}
			if existing {
				b, _ := os.ReadFile(filepath.Join(dir, "out.csv"))
				if string(b) != "old\n" {
					t.Errorf("existing file: got %q, want it unchanged", b)
				}
			}
		})
	}
}

func TestWriteCSVIntoFolderIsInvalid(t *testing.T) {
	t.Parallel()
	path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: people.csv}
  - id: save
    uses: write_csv
    with: {path: out}
`, map[string]string{"people.csv": peopleCSV, "out/keep": ""})
	if got := invalid(t, path); !strings.Contains(got, "out is a folder") {
		t.Errorf("got %q, want it to say out is a folder", got)
	}
}

// Reading reports its progress in bytes, ending at the file's size.
func TestReadCSVProgress(t *testing.T) {
	t.Parallel()
	path := pipeline(t, "  - id: load\n    uses: read_csv\n    with: {path: people.csv}\n", map[string]string{"people.csv": peopleCSV})
	plan := mustPlan(t, path)
	broker := &engine.Broker{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := broker.Subscribe(ctx)
	ex := &engine.Executor{Events: broker}
	if _, err := ex.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	cancel()
	var last engine.Progress
	for e := range events {
		if e.Kind == engine.EventProgress && e.Stage == "load" {
			last = e.Progress
		}
	}
	size := int64(len(peopleCSV))
	if last.Unit != "bytes" || last.Done != size || last.Total != size {
		t.Errorf("last progress: got %d/%d %s, want %d/%d bytes", last.Done, last.Total, last.Unit, size, size)
	}
}
