package stages

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

// The 1,000,000 × 20 numeric table of the design's speed targets, as CSV
// and as Parquet (zstd, the default, and uncompressed). Values have four
// decimals, as measurements usually do. Set SLUICE_BENCH_DATA to a folder
// to keep the files between runs (they are made when missing).
const benchRows, benchCols = 1_000_000, 20

func benchFiles(b *testing.B) (csvPath, zstdPath, plainPath string) {
	b.Helper()
	dir := os.Getenv("SLUICE_BENCH_DATA")
	if dir == "" {
		dir = b.TempDir()
	}
	csvPath = filepath.Join(dir, "numeric_1m_20.csv")
	zstdPath = filepath.Join(dir, "numeric_1m_20.zstd.parquet")
	plainPath = filepath.Join(dir, "numeric_1m_20.none.parquet")
	if fileExists(csvPath) && fileExists(zstdPath) && fileExists(plainPath) {
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	cols := make([]*frame.Column, benchCols)
	for c := range cols {
		v := make([]float64, benchRows)
		for i := range v {
			v[i] = math.Round(rng.NormFloat64()*1e6) / 1e4
		}
		cols[c] = frame.NewFloat(fmt.Sprintf("x%02d", c), v, nil)
	}
	f, err := frame.New(cols...)
	if err != nil {
		b.Fatal(err)
	}
	write := func(path string, fn func(w *bufio.Writer) error) {
		out, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(out, 1<<20)
		if err := fn(w); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
	write(csvPath, func(w *bufio.Writer) error { return frame.WriteCSV(w, f) })
	write(zstdPath, func(w *bufio.Writer) error { return WriteParquet(w, f, "zstd") })
	write(plainPath, func(w *bufio.Writer) error { return WriteParquet(w, f, "none") })
	return
}

// BenchmarkRead1Mx20 reads the same table from CSV and from Parquet and
// reports the heap the frame holds afterwards over its raw float64 size
// (x-raw; the design's bound is 1.5).
func BenchmarkRead1Mx20(b *testing.B) {
	csvPath, zstdPath, plainPath := benchFiles(b)
	raw := float64(benchRows * benchCols * 8)
	held := func(b *testing.B, before runtime.MemStats, f *frame.Frame) {
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/raw, "x-raw")
		runtime.KeepAlive(f)
	}
	readParquet := func(path string) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				var before runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				in, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				st, _ := in.Stat()
				f, err := ReadParquet(in, st.Size(), ParquetReadOptions{})
				in.Close()
				if err != nil {
					b.Fatal(err)
				}
				if f.NumRows() != benchRows || f.NumCols() != benchCols {
					b.Fatalf("%d×%d", f.NumRows(), f.NumCols())
				}
				held(b, before, f)
			}
		}
	}
	b.Run("csv", func(b *testing.B) {
		for b.Loop() {
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			f, err := frame.ReadCSVFile(csvPath, frame.ReadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if f.NumRows() != benchRows || f.NumCols() != benchCols {
				b.Fatalf("%d×%d", f.NumRows(), f.NumCols())
			}
			held(b, before, f)
		}
	})
	b.Run("parquet-zstd", readParquet(zstdPath))
	b.Run("parquet-none", readParquet(plainPath))
}

// BenchmarkWriteParquet1Mx20 writes the table as Parquet (zstd).
func BenchmarkWriteParquet1Mx20(b *testing.B) {
	_, zstdPath, _ := benchFiles(b)
	in, err := os.Open(zstdPath)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := in.Stat()
	f, err := ReadParquet(in, st.Size(), ParquetReadOptions{})
	in.Close()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := WriteParquet(discard{}, f, "zstd"); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
