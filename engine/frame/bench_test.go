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
		f = nil
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
}

var _ = bytes.NewReader
