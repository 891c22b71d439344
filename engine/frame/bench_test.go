package frame_test

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

var (
	benchOnce sync.Once
	benchPath string
	benchErr  error
)

// numericCSV writes (once per process) a 1,000,000 × 20 CSV of floats like
// -12.345678 from a PCG(1, 1) stream, in a cached temporary file.
func numericCSV(b *testing.B) string {
	benchOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "sluice-frame-bench")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			benchErr = err
			return
		}
		benchPath = filepath.Join(dir, "numeric-1e6x20-v1.csv")
		if _, err := os.Stat(benchPath); err == nil {
			return
		}
		benchErr = writeNumericCSV(benchPath, 1_000_000, 20)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPath
}

func writeNumericCSV(path string, rows, cols int) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 1))
	for j := 0; j < cols; j++ {
		if j > 0 {
			w.WriteByte(',')
		}
		w.WriteString("c" + strconv.Itoa(j))
	}
	w.WriteByte('\n')
	var buf []byte
	for i := 0; i < rows; i++ {
		buf = buf[:0]
		for j := 0; j < cols; j++ {
			if j > 0 {
				buf = append(buf, ',')
			}
			v := rng.Float64() * 100
			if rng.IntN(2) == 0 {
				v = -v
			}
			buf = strconv.AppendFloat(buf, v, 'f', 6, 64)
		}
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func heldMB(b *testing.B, keep func() any) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(keep())
	b.ReportMetric(float64(ms.HeapAlloc)/1e6, "heldMB")
}

func BenchmarkReadCSV(b *testing.B) {
	path := numericCSV(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var f *frame.Frame
	for b.Loop() {
		f, err = frame.ReadCSVFile(path, frame.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if f.NumRows() != 1_000_000 || f.NumCols() != 20 {
		b.Fatalf("got %d×%d", f.NumRows(), f.NumCols())
	}
	heldMB(b, func() any { return f })
}

// BenchmarkWriteCSV writes the frame read from the 1,000,000 × 20 file to
// io.Discard (formatting only); BenchmarkWriteCSVFile to a file (buffered, synced).
func BenchmarkWriteCSV(b *testing.B) {
	path := numericCSV(b)
	f, err := frame.ReadCSVFile(path, frame.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if err := frame.WriteCSV(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	heldMB(b, func() any { return f })
}

func BenchmarkWriteCSVFile(b *testing.B) {
	path := numericCSV(b)
	f, err := frame.ReadCSVFile(path, frame.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	out := filepath.Join(b.TempDir(), "out.csv")
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if err := writeFile(out, func(w io.Writer) error { return frame.WriteCSV(w, f) }); err != nil {
			b.Fatal(err)
		}
	}
}

// writeFile writes path through write as the engine's atomic write does
// (a 1 MiB buffer, then sync), less the rename.
func writeFile(path string, write func(io.Writer) error) error {
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(file, 1<<20)
	if err := write(bw); err != nil {
		_ = file.Close() // the write's error is the one to report
		return err
	}
	if err := bw.Flush(); err != nil {
		_ = file.Close()
		return err
	}
	if err := file.Sync(); err != nil {
		_ = file.Close()
		return err
	}
	return file.Close()
}

// BenchmarkReadJSONL reads 200,000 JSON lines of ten mixed fields (about
// 30 MB), written by WriteJSONL from a seeded frame.
func BenchmarkReadJSONL(b *testing.B) {
	const rows = 200_000
	rng := rand.New(rand.NewPCG(1, 1))
	words := []string{"alpha", "beta", "gamma", "delta", "epsilon \"quoted\"", "zeta, with comma", "ünïcode"}
	var cols []*frame.Column
	for j := 0; j < 10; j++ {
		name := "c" + strconv.Itoa(j)
		switch j % 4 {
		case 0, 1:
			v := make([]float64, rows)
			for i := range v {
				v[i] = (rng.Float64() - 0.5) * 200
			}
			cols = append(cols, frame.NewFloat(name, v, nil))
		case 2:
			v := make([]int64, rows)
			for i := range v {
				v[i] = rng.Int64N(1e6)
			}
			cols = append(cols, frame.NewInt(name, v, nil))
		case 3:
			v := make([]string, rows)
			for i := range v {
				v[i] = words[rng.IntN(len(words))]
			}
			cols = append(cols, frame.NewString(name, v, nil))
		}
	}
	src, err := frame.New(cols...)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := frame.WriteJSONL(&buf, src); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var f *frame.Frame
	for b.Loop() {
		f, err = frame.ReadJSONL(bytes.NewReader(data), frame.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if f.NumRows() != rows {
		b.Fatalf("got %d rows", f.NumRows())
	}
}

// BenchmarkReadCSVStream reads the numeric file through a plain io.Reader
// (a pipe), which ReadCSV holds in memory.
func BenchmarkReadCSVStream(b *testing.B) {
	path := numericCSV(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var f *frame.Frame
	for b.Loop() {
		f = nil
		fh, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		f, err = frame.ReadCSV(bufio.NewReaderSize(fh, 1<<16), frame.ReadOptions{})
		fh.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	heldMB(b, func() any { return f })
}

var (
	mixedOnce sync.Once
	mixedPath string
	mixedErr  error
)

// mixedCSV writes (once per process) a 1,000,000-row CSV of eight
// columns: an id, a name from eight, a city from six (two quoted with a
// comma), a float with 5% gaps, an integer with 10% gaps, a boolean, a
// date and a quoted two-word comment with 25% gaps; from a PCG(5, 1)
// stream, in a cached temporary file.
func mixedCSV(b *testing.B) string {
	mixedOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "sluice-frame-bench")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			mixedErr = err
			return
		}
		mixedPath = filepath.Join(dir, "mixed-1e6x8-v1.csv")
		if _, err := os.Stat(mixedPath); err == nil {
			return
		}
		mixedErr = writeMixedCSV(mixedPath, 1_000_000)
	})
	if mixedErr != nil {
		b.Fatal(mixedErr)
	}
	return mixedPath
}

func writeMixedCSV(path string, rows int) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(5, 1))
	names := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	cities := []string{"Lyon", `"Portland, OR"`, "Zürich", `"Austin, TX"`, "Oslo", "Kyoto"}
	words := append(append([]string(nil), names...), "late", "on time", "damaged", "returned")
	w.WriteString("id,name,city,price,qty,active,day,comment\n")
	for i := 0; i < rows; i++ {
		w.WriteString(strconv.Itoa(i) + "," + names[r.IntN(len(names))] + "," + cities[r.IntN(len(cities))] + ",")
		if r.IntN(20) != 0 {
			w.WriteString(strconv.FormatFloat(r.ExpFloat64()*50, 'f', 2, 64))
		}
		w.WriteByte(',')
		if r.IntN(10) != 0 {
			w.WriteString(strconv.Itoa(r.IntN(1000)))
		}
		w.WriteString("," + strconv.FormatBool(r.IntN(2) == 0) + ",")
		w.WriteString("2024-" + pad2(1+r.IntN(12)) + "-" + pad2(1+r.IntN(28)) + ",")
		if r.IntN(4) != 0 {
			w.WriteString(`"` + words[r.IntN(len(words))] + ", " + words[r.IntN(len(words))] + `"`)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// BenchmarkReadCSVMixed reads the mixed 1,000,000-row file: strings
// (dictionary-encoded), numbers with gaps, booleans, dates and quoted
// fields.
func BenchmarkReadCSVMixed(b *testing.B) {
	path := mixedCSV(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var f *frame.Frame
	for b.Loop() {
		f, err = frame.ReadCSVFile(path, frame.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if f.NumRows() != 1_000_000 || f.NumCols() != 8 {
		b.Fatalf("got %d×%d", f.NumRows(), f.NumCols())
	}
	heldMB(b, func() any { return f })
}
