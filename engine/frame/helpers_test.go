package frame_test

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

// plainReader hides everything but Read, so ReadCSV takes its in-memory path.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// readers gives the two ways ReadCSV and ReadJSONL read: a seekable
// io.ReaderAt (read twice, block by block) and a plain stream (held in memory).
var readers = []struct {
	name string
	wrap func(s string) io.Reader
}{
	{"readerAt", func(s string) io.Reader { return strings.NewReader(s) }},
	{"stream", func(s string) io.Reader { return plainReader{strings.NewReader(s)} }},
	{"file", tempFile}, // mapped into memory on Linux
}

// tempFile writes s to a temporary file and returns it open at its start.
// The file is removed at once: on Linux it stays readable while open, and
// the open file is closed when collected.
func tempFile(s string) io.Reader {
	f, err := os.CreateTemp("", "frame-test-*.csv")
	if err != nil {
		panic(err)
	}
	if _, err := f.WriteString(s); err != nil {
		panic(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		panic(err)
	}
	_ = os.Remove(f.Name()) // best effort: a leftover temporary file
	return f
}

func mustRead(t testing.TB, s string, opts frame.ReadOptions) *frame.Frame {
	t.Helper()
	f, err := frame.ReadCSV(strings.NewReader(s), opts)
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	return f
}

func mustNew(t testing.TB, cols ...*frame.Column) *frame.Frame {
	t.Helper()
	f, err := frame.New(cols...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

// table renders a frame as its header and rows, "|" between fields, "∅"
// for missing values.
func table(f *frame.Frame) string {
	var b strings.Builder
	b.WriteString(strings.Join(f.Names(), "|"))
	for i := 0; i < f.NumRows(); i++ {
		b.WriteByte('\n')
		for j := 0; j < f.NumCols(); j++ {
			if j > 0 {
				b.WriteByte('|')
			}
			c := f.Col(j)
			if c.IsNull(i) {
				b.WriteString("∅")
			} else {
				b.WriteString(c.Str(i))
			}
		}
	}
	return b.String()
}
