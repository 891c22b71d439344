package stages_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

func gzipBytes(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func zstdBytes(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

const sourcesJSONL = `{"a": 1, "b": "x", "c": 1.5}
{"a": 2, "b": null, "c": 2.5}
{"a": 3, "b": "z", "c": null}
`

// TestReadCompressed: gzip and zstd files read the same as the plain file,
// detected by their first bytes whatever their names say.
func TestReadCompressed(t *testing.T) {
	t.Parallel()
	plain := []byte(irisDirty(t))
	files := map[string]string{
		"plain.csv":   string(plain),
		"data.csv.gz": gzipBytes(t, plain),
		"gz.csv":      gzipBytes(t, plain), // no telling extension
		"data.zst":    zstdBytes(t, plain),
		"zst.data":    zstdBytes(t, plain),
		"plain.jsonl": sourcesJSONL,
		"j.jsonl.gz":  gzipBytes(t, []byte(sourcesJSONL)),
		"j.jsonl":     zstdBytes(t, []byte(sourcesJSONL)),
		// Two gzip members back to back, as `cat a.gz b.gz` makes.
		"members.csv.gz": gzipBytes(t, plain[:bytes.IndexByte(plain, '\n')+1]) + gzipBytes(t, plain[bytes.IndexByte(plain, '\n')+1:]),
	}
	path := pipeline(t, `
  - {id: plain, uses: read_csv, with: {path: plain.csv}}
  - {id: gz, uses: read_csv, with: {path: data.csv.gz}}
  - {id: gz2, uses: read_csv, with: {path: gz.csv}}
  - {id: zst, uses: read_csv, with: {path: data.zst}}
  - {id: zst2, uses: read_csv, with: {path: zst.data}}
  - {id: members, uses: read_csv, with: {path: members.csv.gz}}
  - {id: jplain, uses: read_jsonl, with: {path: plain.jsonl}}
  - {id: jgz, uses: read_jsonl, with: {path: j.jsonl.gz}}
  - {id: jzst, uses: read_jsonl, with: {path: j.jsonl}}
`, files)
	plan := mustPlan(t, path)
	// Validation saw the columns of the compressed files too.
	for _, ps := range plan.Order() {
		if ps.Shape.Schema == nil {
			t.Errorf("%s: validation did not learn the columns", ps.Spec.ID)
		}
	}
	tables, err := outputs(t, plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gz", "gz2", "zst", "zst2", "members"} {
		if got, want := tables[id].Fingerprint(), tables["plain"].Fingerprint(); got != want {
			t.Errorf("%s: differs from the plain read", id)
		}
	}
	for _, id := range []string{"jgz", "jzst"} {
		if got, want := tables[id].Fingerprint(), tables["jplain"].Fingerprint(); got != want {
			t.Errorf("%s: differs from the plain read", id)
		}
	}
}

func TestReadCompressedBroken(t *testing.T) {
	t.Parallel()
	// Large enough that validation's look at the start succeeds.
	iris := irisDirty(t)
	head, rows, _ := strings.Cut(iris, "\n")
	whole := gzipBytes(t, []byte(head+"\n"+strings.Repeat(rows, 3000)))
	path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: cut.csv.gz}}
`, map[string]string{"cut.csv.gz": whole[:len(whole)/2]})
	err := runErr(t, path)
	if !strings.Contains(err.Error(), "cut.csv.gz") || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("got %v, want an error naming the file and gzip", err)
	}
}

// TestReadGlob: the files a glob matches are read in sorted order and
// stacked; the result equals the plain read of the whole; with_source
// names each row's file; the fingerprint covers every file.
func TestReadGlob(t *testing.T) {
	t.Parallel()
	whole := irisDirty(t)
	lines := strings.SplitAfter(whole, "\n")
	header, body := lines[0], lines[1:]
	third := len(body) / 3
	part := func(b []string) []byte { return []byte(header + strings.Join(b, "")) }
	files := map[string]string{
		"whole.csv":            whole,
		"logs/2026-01.csv":     string(part(body[:third])),
		"logs/2026-02.csv.gz":  gzipBytes(t, part(body[third:2*third])),
		"logs/2026-03.csv.zst": zstdBytes(t, part(body[2*third:])),
		"logs/other.txt":       "not matched",
		"parts/b.csv":          string(part(body[third:])),
		"parts/a.csv":          string(part(body[:third])),
		"parts/_SUCCESS":       "",
		"parts/.a.csv.crc":     "x",
	}
	path := pipeline(t, `
  - {id: whole, uses: read_csv, with: {path: whole.csv}}
  - {id: glob, uses: read_csv, with: {path: "logs/2026-*.csv*"}}
  - {id: folder, uses: read_csv, with: {path: parts}}
  - {id: src, uses: read_csv, with: {path: "logs/2026-*", with_source: true}}
`, files)
	plan := mustPlan(t, path)
	tables, err := outputs(t, plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"glob", "folder"} {
		if tables[id].Fingerprint() != tables["whole"].Fingerprint() {
			t.Errorf("%s: differs from the plain read of the whole file", id)
		}
	}
	src := tables["src"]
	if got := src.Names()[src.NumCols()-1]; got != "source_file" {
		t.Fatalf("last column %s, want source_file", got)
	}
	srcs := column(t, src, "source_file")
	if srcs[0] != "logs/2026-01.csv" || srcs[len(srcs)-1] != "logs/2026-03.csv.zst" || srcs[third] != "logs/2026-02.csv.gz" {
		t.Fatalf("source_file: first %s, row %d %s, last %s", srcs[0], third, srcs[third], srcs[len(srcs)-1])
	}
	for _, ps := range plan.Order() {
		if ps.Spec.ID == "src" && validatedSchema(ps).Index("source_file") < 0 {
			t.Errorf("validation's schema of src lacks source_file: %v", validatedSchema(ps))
		}
	}

	// The run records (and fingerprints) every matched file's content.
	run, _ := execute(t, context.Background(), plan)
	var inputs []string
	for name := range run.Inputs {
		inputs = append(inputs, filepath.ToSlash(name))
	}
	sort.Strings(inputs)
	want := "logs/2026-01.csv logs/2026-02.csv.gz logs/2026-03.csv.zst parts/a.csv parts/b.csv whole.csv"
	if got := strings.Join(inputs, " "); got != want {
		t.Fatalf("run inputs: got %s, want %s", got, want)
	}
	fp := func() string {
		for _, s := range execRun(t, path).Stages {
			if s.ID == "glob" {
				return s.Fingerprint
			}
		}
		return ""
	}
	before := fp()
	b := part(body[:third])
	b[len(b)-2] ^= 1 // change one digit of the last value of the first file
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "logs/2026-01.csv"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if fp() == before {
		t.Fatal("the fingerprint did not change when a matched file did")
	}
}

func TestReadGlobErrors(t *testing.T) {
	t.Parallel()
	t.Run("no match", func(t *testing.T) {
		path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: "logs/*.csv"}}
`, map[string]string{"logs/a.txt": "a\n1\n"})
		if got := invalid(t, path); !strings.Contains(got, "no file matches logs/*.csv") {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("columns differ", func(t *testing.T) {
		path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: "logs/*.csv"}}
`, map[string]string{"logs/a.csv": "x,y\n1,2\n", "logs/b.csv": "x,y\n3,4\n", "logs/c.csv": "x,z\n5,6\n"})
		err := runErr(t, path)
		want := "logs/c.csv: its columns differ from those of logs/a.csv, the first file: it lacks y and has z besides"
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want %s", err, want)
		}
	})
	t.Run("source column taken", func(t *testing.T) {
		path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: "a.csv", with_source: true}}
`, map[string]string{"a.csv": "source_file\n1\n"})
		if err := runErr(t, path); !strings.Contains(err.Error(), "already has a column source_file") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestWriteCompressed: write_csv and write_jsonl compress by extension and
// what they write reads back the same.
func TestWriteCompressed(t *testing.T) {
	t.Parallel()
	path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: iris.csv}}
  - {id: gz, uses: write_csv, needs: [load], with: {path: out/iris.csv.gz}}
  - {id: zst, uses: write_jsonl, needs: [load], with: {path: out/iris.jsonl.zst}}
  - {id: plain, uses: write_csv, needs: [load], with: {path: out/iris.csv}}
  - {id: back_gz, uses: read_csv, with: {path: out/iris.csv.gz}}
  - {id: back_zst, uses: read_jsonl, with: {path: out/iris.jsonl.zst}}
`, map[string]string{"iris.csv": irisDirty(t)})
	tables, err := outputs(t, mustPlan(t, path))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	for name, magic := range map[string][]byte{"out/iris.csv.gz": {0x1f, 0x8b}, "out/iris.jsonl.zst": {0x28, 0xb5, 0x2f, 0xfd}} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, magic) {
			t.Errorf("%s: starts % x, want % x", name, b[:4], magic)
		}
	}
	plainSize, _ := os.Stat(filepath.Join(dir, "out/iris.csv"))
	gzSize, _ := os.Stat(filepath.Join(dir, "out/iris.csv.gz"))
	if gzSize.Size() >= plainSize.Size() {
		t.Errorf("gzip file %d bytes, plain %d", gzSize.Size(), plainSize.Size())
	}
	if tables["back_gz"].Fingerprint() != tables["load"].Fingerprint() {
		t.Error("the gzip CSV reads back differently")
	}
	if tables["back_zst"].NumRows() != tables["load"].NumRows() {
		t.Error("the zstd JSONL reads back differently")
	}
}

// TestParquetStages: write_parquet and read_parquet between them keep a
// table; read_parquet takes a folder of part files, a glob and columns.
func TestParquetStages(t *testing.T) {
	t.Parallel()
	path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: iris.csv}}
  - {id: write, uses: write_parquet, needs: [load], with: {path: out/iris.parquet, compression: snappy}}
  - {id: back, uses: read_parquet, with: {path: out/iris.parquet}}
  - {id: some, uses: read_parquet, with: {path: out/iris.parquet, columns: [species, sepal_length]}}
`, map[string]string{"iris.csv": irisDirty(t)})
	tables, err := outputs(t, mustPlan(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if tables["back"].Fingerprint() != tables["load"].Fingerprint() {
		t.Fatal("read_parquet of write_parquet's file differs from the table written")
	}
	if got := strings.Join(tables["some"].Names(), ","); got != "species,sepal_length" {
		t.Fatalf("columns: got %s", got)
	}

	// Part files in a folder and by glob.
	load := tables["load"]
	half := load.NumRows() / 2
	dir := filepath.Join(filepath.Dir(path), "parts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*frame.Frame{"part-0001.parquet": load.Slice(0, half), "part-0002.parquet": load.Slice(half, load.NumRows())} {
		var buf bytes.Buffer
		if err := stages.WriteParquet(&buf, f, "zstd"); err != nil {
			t.Fatal(err)
		}
		mustWriteFile(t, filepath.Join(dir, name), buf.Bytes())
	}
	mustWriteFile(t, filepath.Join(dir, "_SUCCESS"), nil)
	path2 := filepath.Join(filepath.Dir(path), "parts.yaml")
	mustWriteFile(t, path2, []byte(`name: parts
stages:
  - {id: folder, uses: read_parquet, with: {path: parts}}
  - {id: glob, uses: read_parquet, with: {path: "parts/part-*.parquet", with_source: true}}
`))
	tables, err = outputs(t, mustPlan(t, path2))
	if err != nil {
		t.Fatal(err)
	}
	if tables["folder"].Fingerprint() != load.Fingerprint() {
		t.Fatal("the folder of part files differs from the table")
	}
	if src := column(t, tables["glob"], "source_file"); src[0] != "parts/part-0001.parquet" || src[len(src)-1] != "parts/part-0002.parquet" {
		t.Fatalf("source_file: %s … %s", src[0], src[len(src)-1])
	}
}

func TestParquetStagesInvalid(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	f, _ := frame.New(frame.NewFloat("x", []float64{1, 2}, nil))
	if err := stages.WriteParquet(&buf, f, "none"); err != nil {
		t.Fatal(err)
	}
	path := pipeline(t, `
  - {id: a, uses: read_parquet, with: {path: t.parquet, columns: [x, nope]}}
  - {id: b, uses: read_parquet, with: {path: not.parquet}}
  - {id: c, uses: write_parquet, needs: [a], with: {path: o.parquet, compression: lz4}}
`, map[string]string{"t.parquet": buf.String(), "not.parquet": "x,y\n1,2\n"})
	got := invalid(t, path)
	for _, want := range []string{
		`columns: t.parquet: no column "nope" (the file has: x)`,
		`path: not.parquet: not a readable parquet file`,
		`compression`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("validation:\n%s\nlacks %s", got, want)
		}
	}
}

// execRun validates the pipeline file afresh and runs it with the executor.
func execRun(t *testing.T, path string) *engine.Run {
	t.Helper()
	run, _ := execute(t, context.Background(), mustPlan(t, path))
	return run
}

// TestWritersAtomic: write_parquet and a compressing write_csv that fail
// leave the old file (or none) and no temporary file.
func TestWritersAtomic(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ uses, out string }{
		{"write_parquet", "out.parquet"},
		{"write_csv", "out.csv.gz"},
		{"write_jsonl", "out.jsonl.zst"},
	} {
		t.Run(tt.uses, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: iris.csv}}
  - {id: save, uses: `+tt.uses+`, with: {path: `+tt.out+`}}
`, map[string]string{"iris.csv": irisDirty(t), tt.out: "old\n"})
			plan := mustPlan(t, path)
			tables, err := outputs(t, plan)
			if err != nil {
				t.Fatal(err)
			}
			mustWriteFile(t, filepath.Join(filepath.Dir(path), tt.out), []byte("old\n"))
			ps, _ := plan.Stage("save")
			sc := engine.NewStageContext(plan, ps, []engine.Value{stages.Table(tables["load"])}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // every write fails
			if _, err := ps.Type.Run(ctx, sc); err == nil {
				t.Fatal("write with a cancelled context: no error, want one")
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if got, want := strings.Join(names, ","), "iris.csv,"+tt.out+",pipeline.yaml"; got != want {
				t.Errorf("files after a failed write: got %s, want %s", got, want)
			}
			if b, _ := os.ReadFile(filepath.Join(filepath.Dir(path), tt.out)); string(b) != "old\n" {
				t.Errorf("the old file changed: %q", b)
			}
		})
	}
}

// TestSourcesProgress: the readers and writers report progress that ends
// at its total: bytes of the files for a compressed glob, rows for
// Parquet and SQL.
func TestSourcesProgress(t *testing.T) {
	t.Parallel()
	iris := irisDirty(t)
	gz := gzipBytes(t, []byte(iris))
	path := pipeline(t, `
  - {id: csv, uses: read_csv, with: {path: "in/*"}}
  - {id: pq, uses: write_parquet, with: {path: out.parquet}}
  - {id: sql, uses: write_sql, with: {connection: local, table: iris}}
  - {id: back, uses: read_sql, with: {connection: local, table: iris}}
`, map[string]string{"in/a.csv": iris, "in/b.csv.gz": gz, "connections": "connections:\n  local: sqlite:local.db\n"})
	path2 := filepath.Join(filepath.Dir(path), "read.yaml")
	mustWriteFile(t, path2, []byte("name: read\nstages:\n  - {id: rpq, uses: read_parquet, with: {path: out.parquet}}\n"))
	last := map[string]engine.Progress{}
	for _, p := range []string{path, path2} {
		plan := mustPlan(t, p)
		broker := &engine.Broker{}
		ctx, cancel := context.WithCancel(context.Background())
		events := broker.Subscribe(ctx)
		ex := &engine.Executor{Events: broker}
		run, err := ex.Run(context.Background(), plan)
		if err != nil || run.Status != engine.StatusSucceeded {
			t.Fatalf("run: %v %s %s", err, run.Status, run.Error)
		}
		cancel()
		for e := range events {
			if e.Kind == engine.EventProgress {
				last[e.Stage] = e.Progress
			}
		}
	}
	rows := int64(len(strings.Split(strings.TrimSpace(iris), "\n"))-1) * 2
	size := int64(len(iris) + len(gz))
	for stage, want := range map[string]engine.Progress{
		"csv":  {Done: size, Total: size, Unit: "bytes"},
		"sql":  {Done: rows, Total: rows, Unit: "rows"},
		"back": {Done: rows, Total: rows, Unit: "rows"},
		"rpq":  {Done: rows, Total: rows, Unit: "rows"},
	} {
		got := last[stage]
		if got.Done != want.Done || got.Total != want.Total || got.Unit != want.Unit {
			t.Errorf("%s: last progress %d/%d %s, want %d/%d %s", stage, got.Done, got.Total, got.Unit, want.Done, want.Total, want.Unit)
		}
	}
}
