package stages

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine/frame"
)

// allTypesFrame returns a frame with a column of every type, each with
// missing values, and awkward values: extremes, an empty string, non-ASCII
// text, -0, infinities, times before 1970 and with nanoseconds.
func allTypesFrame(t testing.TB, n int) *frame.Frame {
	t.Helper()
	fl := make([]float64, n)
	in := make([]int64, n)
	bo := make([]bool, n)
	st := make([]string, n)
	tm := make([]time.Time, n)
	full := make([]float64, n)
	nulls := make([]bool, n)
	words := []string{"setosa", "", "versicolor", "ünïcødé ✓", "virginica"}
	base := time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.UTC)
	for i := 0; i < n; i++ {
		nulls[i] = i%7 == 3
		fl[i] = float64(i)*1.25 - 3
		in[i] = int64(i*i) - 50
		bo[i] = i%3 == 0
		st[i] = words[i%len(words)]
		tm[i] = base.Add(time.Duration(i) * 36 * time.Hour)
		full[i] = math.Sqrt(float64(i))
	}
	if n > 4 {
		fl[0], fl[1], fl[2] = math.Inf(1), math.Inf(-1), math.Copysign(0, -1)
		in[0], in[1] = math.MaxInt64, math.MinInt64
	}
	// The frame constructors keep the slices, so each gets its own mask.
	mask := func() []bool { return append([]bool(nil), nulls...) }
	f, err := frame.New(
		frame.NewFloat("f", fl, mask()),
		frame.NewInt("i", in, mask()),
		frame.NewBool("b", bo, mask()),
		frame.NewString("s", st, mask()),
		frame.NewTime("t", tm, mask()),
		frame.NewFloat("complete", full, nil),
		frame.NewString("all missing", make([]string, n), func() []bool {
			m := make([]bool, n)
			for i := range m {
				m[i] = true
			}
			return m
		}()),
	)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func encodeParquet(t testing.TB, f *frame.Frame, compression string, rowGroup int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := writeParquet(&buf, f, compression, rowGroup); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeParquet(t testing.TB, b []byte, columns ...string) *frame.Frame {
	t.Helper()
	f, err := ReadParquet(bytes.NewReader(b), int64(len(b)), ParquetReadOptions{Columns: columns})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sameFrame fails unless a and b have the same schema, the same missing
// values and bit-identical values.
func sameFrame(t *testing.T, got, want *frame.Frame) {
	t.Helper()
	if g, w := got.Schema().String(), want.Schema().String(); g != w {
		t.Fatalf("schema: got %s, want %s", g, w)
	}
	if got.NumRows() != want.NumRows() {
		t.Fatalf("rows: got %d, want %d", got.NumRows(), want.NumRows())
	}
	for c := 0; c < want.NumCols(); c++ {
		gc, wc := got.Col(c), want.Col(c)
		for i := 0; i < want.NumRows(); i++ {
			if gc.IsNull(i) != wc.IsNull(i) {
				t.Fatalf("column %s row %d: missing %v, want %v", wc.Name, i, gc.IsNull(i), wc.IsNull(i))
			}
			if wc.Type == frame.Float && !wc.IsNull(i) && math.Float64bits(gc.Floats[i]) != math.Float64bits(wc.Floats[i]) {
				t.Fatalf("column %s row %d: got %v, want %v (bits)", wc.Name, i, gc.Floats[i], wc.Floats[i])
			}
			if gv, wv := fmt.Sprint(gc.Value(i)), fmt.Sprint(wc.Value(i)); gv != wv {
				t.Fatalf("column %s row %d: got %s, want %s", wc.Name, i, gv, wv)
			}
		}
	}
	if got.Fingerprint() != want.Fingerprint() {
		t.Fatal("fingerprints differ")
	}
}

func TestParquetRoundTrip(t *testing.T) {
	t.Parallel()
	want := allTypesFrame(t, 1000)
	for _, tt := range []struct {
		name        string
		compression string
		rowGroup    int
	}{
		{"zstd", "zstd", parquetRowGroup},
		{"default is zstd", "", parquetRowGroup},
		{"snappy", "snappy", parquetRowGroup},
		{"gzip", "gzip", parquetRowGroup},
		{"none", "none", parquetRowGroup},
		{"many row groups", "zstd", 64},
		{"one row a group", "none", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeParquet(t, encodeParquet(t, want, tt.compression, tt.rowGroup))
			sameFrame(t, got, want)
		})
	}
}

func TestParquetEmptyAndTiny(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2} {
		want := allTypesFrame(t, n)
		sameFrame(t, decodeParquet(t, encodeParquet(t, want, "zstd", parquetRowGroup)), want)
	}
	var buf bytes.Buffer
	empty, _ := frame.New()
	if err := WriteParquet(&buf, empty, "zstd"); err == nil {
		t.Error("a frame without columns: no error")
	}
	if err := WriteParquet(&buf, allTypesFrame(t, 3), "brotli"); err == nil || !strings.Contains(err.Error(), `"brotli"`) {
		t.Errorf("unknown compression: got %v", err)
	}
}

// TestParquetDeterministic pins that the bytes depend on the values only:
// not on the run, the core count, or a string column's dictionary order.
func TestParquetDeterministic(t *testing.T) {
	f := allTypesFrame(t, 5000)
	first := encodeParquet(t, f, "zstd", 1000)
	if again := encodeParquet(t, f, "zstd", 1000); !bytes.Equal(first, again) {
		t.Fatal("two writes of one frame differ")
	}
	prev := runtime.GOMAXPROCS(1)
	one := encodeParquet(t, f, "zstd", 1000)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(first, one) {
		t.Fatal("GOMAXPROCS=1 gives other bytes")
	}
	// The same values with the dictionary reversed and an unused entry.
	s, _ := f.ColByName("s")
	dict := append([]string{"unused"}, s.Dict...)
	for i, j := 1, len(dict)-1; i < j; i, j = i+1, j-1 {
		dict[i], dict[j] = dict[j], dict[i]
	}
	pos := make(map[string]int32, len(dict))
	for k, v := range dict {
		pos[v] = int32(k)
	}
	codes := make([]int32, len(s.Codes))
	for i, k := range s.Codes {
		codes[i] = -1
		if k >= 0 {
			codes[i] = pos[s.Dict[k]]
		}
	}
	g, err := f.WithColumn(&frame.Column{Name: "s", Type: frame.String, Codes: codes, Dict: dict})
	if err != nil {
		t.Fatal(err)
	}
	if other := encodeParquet(t, g, "zstd", 1000); !bytes.Equal(first, other) {
		t.Fatal("the same values with another dictionary order give other bytes")
	}
}

func TestParquetColumns(t *testing.T) {
	t.Parallel()
	f := allTypesFrame(t, 100)
	b := encodeParquet(t, f, "snappy", parquetRowGroup)
	got := decodeParquet(t, b, "t", "f")
	want, _ := f.Select("t", "f")
	sameFrame(t, got, want)
	for _, tt := range []struct {
		name    string
		columns []string
		want    string
	}{
		{"unknown", []string{"f", "nope"}, `no column "nope" (the file has: f, i, b, s, t, complete, all missing)`},
		{"twice", []string{"f", "f"}, `column "f" listed twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadParquet(bytes.NewReader(b), int64(len(b)), ParquetReadOptions{Columns: tt.columns, Name: "x.parquet"})
			if err == nil || err.Error() != "x.parquet: "+tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
}

func TestParquetProgress(t *testing.T) {
	t.Parallel()
	b := encodeParquet(t, allTypesFrame(t, 250), "none", 100)
	var calls []string
	_, err := ReadParquet(bytes.NewReader(b), int64(len(b)), ParquetReadOptions{Progress: func(done, total int64) {
		calls = append(calls, fmt.Sprintf("%d/%d", done, total))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(calls, " "), "100/250 200/250 250/250"; got != want {
		t.Fatalf("progress: got %s, want %s", got, want)
	}
}

func TestParquetTruncated(t *testing.T) {
	t.Parallel()
	b := encodeParquet(t, allTypesFrame(t, 300), "zstd", 100)
	for _, n := range []int{0, 4, 8, len(b) / 3, len(b) / 2, len(b) - 9, len(b) - 1} {
		if _, err := ReadParquet(bytes.NewReader(b[:n]), int64(n), ParquetReadOptions{}); err == nil {
			t.Errorf("%d of %d bytes: no error", n, len(b))
		}
	}
	// Flip bytes in the middle of the data: an error or the data, never a panic.
	for off := 4; off < len(b)-8; off += len(b) / 17 {
		c := append([]byte(nil), b...)
		c[off] ^= 0x5a
		_, _ = ReadParquet(bytes.NewReader(c), int64(len(c)), ParquetReadOptions{}) // either is fine
	}
}

// sharedParquet returns the folder of Parquet files written by other
// implementations. It is beside the repository in development and in CI;
// a test that needs it fails in CI without it and is skipped, loudly,
// elsewhere.
func sharedParquet(t *testing.T) string {
	t.Helper()
	// The repository root is two folders up; shared/ sits beside it (or
	// beside a folder that holds it, for a git worktree).
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "datasets", "parquet")
		if fileExists(filepath.Join(p, "alltypes_plain.parquet")) {
			return p
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the interoperability files are missing: CI needs shared/datasets/parquet beside the clone of %s", dir)
	}
	t.Skipf("SKIPPED: no shared/datasets/parquet beside %s or a folder above it", dir)
	return ""
}

func readParquetFile(path string, columns ...string) (*frame.Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	type result struct {
		f   *frame.Frame
		err error
	}
	done := make(chan result, 1)
	go func() {
		fr, err := ReadParquet(f, st.Size(), ParquetReadOptions{Name: filepath.Base(path), Columns: columns})
		done <- result{fr, err}
	}()
	select {
	case r := <-done:
		return r.f, r.err
	case <-time.After(time.Minute):
		return nil, errors.New("hang: no answer in a minute")
	}
}

// TestParquetInterop reads every file written by other implementations and
// states what each holds, or the error that refuses it.
func TestParquetInterop(t *testing.T) {
	t.Parallel()
	dir := sharedParquet(t)
	// rows is what the first rows (or row 0) read as, cells joined by "|",
	// missing values as "∅".
	tests := []struct {
		file    string
		columns []string
		schema  string
		rows    int
		first   string
		err     string // a substring of the error, when the file is refused
	}{
		{file: "alltypes_plain.parquet", rows: 8,
			schema: "id int, bool_col bool, tinyint_col int, smallint_col int, int_col int, bigint_col int, float_col float, double_col float, date_string_col string, string_col string, timestamp_col time",
			first:  "4|true|0|0|0|0|0.0|0.0|03/01/09|0|2009-03-01"},
		{file: "alltypes_plain.snappy.parquet", rows: 2,
			schema: "id int, bool_col bool, tinyint_col int, smallint_col int, int_col int, bigint_col int, float_col float, double_col float, date_string_col string, string_col string, timestamp_col time",
			first:  "6|true|0|0|0|0|0.0|0.0|04/01/09|0|2009-04-01"},
		{file: "alltypes_dictionary.parquet", rows: 2,
			schema: "id int, bool_col bool, tinyint_col int, smallint_col int, int_col int, bigint_col int, float_col float, double_col float, date_string_col string, string_col string, timestamp_col time",
			first:  "0|true|0|0|0|0|0.0|0.0|01/01/09|0|2009-01-01"},
		{file: "alltypes_tiny_pages.parquet", rows: 7300,
			schema: "id int, bool_col bool, tinyint_col int, smallint_col int, int_col int, bigint_col int, float_col float, double_col float, date_string_col string, string_col string, timestamp_col time, year int, month int",
			first:  "122|true|2|2|2|20|2.200000047683716|20.2|01/13/09|2|2009-01-13T01:02:05.41Z|2009|1"},
		{file: "binary.parquet", rows: 12, schema: "foo string", first: "\x00"},
		{file: "byte_array_decimal.parquet", rows: 24, schema: "value float", first: "1.0"},
		{file: "fixed_length_decimal.parquet", rows: 24, schema: "value float", first: "1.0"},
		{file: "int32_decimal.parquet", rows: 24, schema: "value float", first: "1.0"},
		{file: "int64_decimal.parquet", rows: 24, schema: "value float", first: "1.0"},
		{file: "byte_stream_split.zstd.parquet", rows: 300, schema: "f32 float, f64 float", first: "1.764052391052246|-1.3065268517353166"},
		{file: "concatenated_gzip_members.parquet", rows: 513, schema: "long_col int", first: "1"},
		{file: "datapage_v2.snappy.parquet", err: `column "e": nested columns`},
		{file: "datapage_v2.snappy.parquet", columns: []string{"a", "b", "c", "d"}, rows: 5,
			schema: "a string, b int, c float, d bool", first: "abc|1|2.0|true"},
		{file: "delta_binary_packed.parquet", rows: 200, schema: "", first: ""},
		{file: "delta_byte_array.parquet", rows: 1000, schema: "", first: ""},
		{file: "delta_encoding_optional_column.parquet", rows: 100, schema: "", first: ""},
		{file: "delta_length_byte_array.parquet", rows: 1000, schema: "FRUIT string", first: "apple_banana_mango0"},
		{file: "float16_nonzeros_and_nans.parquet", rows: 8, schema: "x float", first: "∅"},
		{file: "lz4_raw_compressed.parquet", rows: 4, schema: "c0 int, c1 string, v11 float", first: "1593604800|abc|42.0"},
		{file: "hadoop_lz4_compressed.parquet", err: `column "c0": decoding page 0 of column "c0": decompressing dictionary page: unsupported compression codec: LZ4`},
		{file: "non_hadoop_lz4_compressed.parquet", err: `column "c0": decoding page 0 of column "c0": decompressing dictionary page: unsupported compression codec: LZ4`},
		{file: "int96_from_spark.parquet", err: `column "a", row 3: INT96 timestamp outside the years 1678-2261`},
		{file: "nan_in_stats.parquet", rows: 2, schema: "x float", first: "1.0"},
		{file: "single_nan.parquet", rows: 1, schema: "mycol float", first: "∅"},
		{file: "rle_boolean_encoding.parquet", rows: 68, schema: "datatype_boolean bool", first: "true"},
		{file: "plain-dict-uncompressed-checksum.parquet", rows: 1000, schema: "long_field int, binary_field string", first: "0|a655fd0e-9949-4059-bcae-fd6a002a4652"},
		{file: "rle-dict-snappy-checksum.parquet", rows: 1000, schema: "long_field int, binary_field string", first: "0|c95e263a-f5d4-401f-8107-5ca7146a1f98"},
		{file: "datapage_v1-corrupt-checksum.parquet", err: `crc32 checksum mismatch in page of column "a"`},
		{file: "nested_lists.snappy.parquet", err: `column "a": nested columns`},
		{file: "nested_structs.rust.parquet", err: `column "roll_num": nested columns`},
		{file: "nonnullable.impala.parquet", err: `column "Int_Array": nested columns`},
		{file: "nulls.snappy.parquet", err: `column "b_struct": nested columns`},
		{file: "bad/PARQUET-1481.parquet", err: `column "Handle": NULL values are not supported`},
		{file: "bad/ARROW-RS-GH-6229-DICTHEADER.parquet", err: `column "name" (row group 0): page header at 305: runs past its bytes`},
		{file: "bad/ARROW-RS-GH-6229-DICTHEADER.parquet", columns: []string{"nation_key"}, err: `column "nation_key": decoding thrift payload`},
		{file: "bad/ARROW-RS-GH-6229-LEVELS.parquet", err: `column "outer": nested columns`},
		{file: "bad/ARROW-GH-45185.parquet", err: `column "x": nested columns`},
		// Indices RLE-encoded with bit width 0 are all index 0: valid, as
		// Arrow's fix for that report agrees.
		{file: "bad/ARROW-GH-43605.parquet", rows: 21186, schema: "min_fl int", first: "0"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file+strings.Join(tt.columns, ","), func(t *testing.T) {
			f, err := readParquetFile(filepath.Join(dir, tt.file), tt.columns...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got error %v, want one containing %s", err, tt.err)
				}
				if !strings.HasPrefix(err.Error(), filepath.Base(tt.file)+": ") {
					t.Fatalf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.NumRows() != tt.rows {
				t.Fatalf("rows: got %d, want %d", f.NumRows(), tt.rows)
			}
			if expect := strings.TrimSuffix(tt.file, ".parquet") + "_expect.csv"; fileExists(filepath.Join(dir, expect)) {
				matchExpectCSV(t, f, filepath.Join(dir, expect))
				return
			}
			if got := f.Schema().String(); got != tt.schema {
				t.Fatalf("schema: got %s, want %s", got, tt.schema)
			}
			var cells []string
			for c := 0; c < f.NumCols(); c++ {
				col := f.Col(c)
				if col.IsNull(0) {
					cells = append(cells, "∅")
				} else {
					cells = append(cells, col.Str(0))
				}
			}
			if got := strings.Join(cells, "|"); got != tt.first {
				t.Fatalf("first row: got %q, want %q", got, tt.first)
			}
		})
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.parquet"))
	bad, _ := filepath.Glob(filepath.Join(dir, "bad", "*.parquet"))
	for _, p := range append(all, bad...) {
		rel, _ := filepath.Rel(dir, p)
		if !covered[filepath.ToSlash(rel)] {
			t.Errorf("%s: not covered by this test; say what it holds", rel)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// matchExpectCSV compares every cell of f with the CSV the file's writers
// published next to it (an empty unquoted cell is a missing value).
func matchExpectCSV(t *testing.T, f *frame.Frame, path string) {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	recs, err := csv.NewReader(in).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 != f.NumRows() || len(recs[0]) != f.NumCols() {
		t.Fatalf("%s: %d×%d, the frame %d×%d", filepath.Base(path), len(recs)-1, len(recs[0]), f.NumRows(), f.NumCols())
	}
	for r, rec := range recs[1:] {
		for c, want := range rec {
			if got := f.Col(c).Str(r); got != want {
				t.Fatalf("row %d column %s: got %q, want %q", r+1, f.Col(c).Name, got, want)
			}
		}
	}
}

// FuzzReadParquet: any bytes give a frame or an error, never a panic or a
// hang. The seeds are files the codec writes; go test runs them, and
// go test -fuzz FuzzReadParquet mutates them.
func FuzzReadParquet(f *testing.F) {
	for _, tt := range []struct {
		n           int
		compression string
	}{{0, "none"}, {3, "none"}, {20, "snappy"}, {20, "zstd"}} {
		var buf bytes.Buffer
		if err := writeParquet(&buf, allTypesFrame(f, tt.n), tt.compression, 8); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fr, err := ReadParquet(bytes.NewReader(b), int64(len(b)), ParquetReadOptions{})
		if err == nil && fr == nil {
			t.Fatal("no frame and no error")
		}
		runtime.ReadMemStats(&after)
		// A size the file declares must not make the reader allocate
		// beyond what the file can hold: the fuzzer's worker was killed
		// for want of memory before this was checked.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > parquetAllocBound(len(b)) {
			t.Fatalf("reading %d bytes allocated %d MB", len(b), alloc>>20)
		}
	})
}

// parquetAllocBound is how much reading a Parquet file of n bytes may
// allocate in FuzzReadParquet: the bound for an input under 1 MB,
// 256 MB, whatever its pages claim.
func parquetAllocBound(n int) uint64 { return 256<<20 + 64*uint64(n) }
