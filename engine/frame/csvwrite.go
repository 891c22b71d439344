package frame

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
)

// WriteCSV writes f as comma-separated values with a header row and LF line
// ends. Missing values are empty fields; floats use the shortest text that
// reads back as the same value (see Column.Str); a field is quoted only
// when it must be: a string that contains a comma, a quote, CR or LF, that
// is empty, that starts with a byte order mark, or that equals one of
// DefaultNullValues (so that ReadCSV reads it back as that string, not as
// missing). A frame with one column writes a
// missing value as an empty line, which ReadCSV reads back as missing.
// It returns the first error from w.
func WriteCSV(w io.Writer, f *Frame) error {
	var hdr []byte
	for j, c := range f.cols {
		if j > 0 {
			hdr = append(hdr, ',')
		}
		hdr = appendCSVField(hdr, c.Name)
	}
	hdr = append(hdr, '\n')
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("frame: write csv: %w", err)
	}
	// Encode each string column's dictionary once.
	encoded := make([][][]byte, len(f.cols))
	for j, c := range f.cols {
		if c.Type == String {
			e := make([][]byte, len(c.Dict))
			for k, s := range c.Dict {
				e[k] = appendCSVField(nil, s)
			}
			encoded[j] = e
		}
	}
	format := func(buf []byte, lo, hi int) []byte {
		for i := lo; i < hi; i++ {
			for j, c := range f.cols {
				if j > 0 {
					buf = append(buf, ',')
				}
				if c.nulls != nil && c.IsNull(i) {
					continue
				}
				if c.Type == String {
					buf = append(buf, encoded[j][c.Codes[i]]...)
				} else {
					buf = c.appendValue(buf, i)
				}
			}
			buf = append(buf, '\n')
		}
		return buf
	}
	return writeChunks(w, f.nrows, format)
}

// writeChunks formats rows in chunks on all CPUs and writes them in order.
func writeChunks(w io.Writer, nrows int, format func(buf []byte, lo, hi int) []byte) error {
	const chunk = 8192
	nchunks := (nrows + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), nchunks)
	if workers <= 1 {
		var buf []byte
		for lo := 0; lo < nrows; lo += chunk {
			buf = format(buf[:0], lo, min(lo+chunk, nrows))
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("frame: write: %w", err)
			}
		}
		return nil
	}
	type job struct {
		lo, hi int
		out    chan []byte
	}
	jobs := make(chan job, workers)
	order := make(chan chan []byte, 2*workers)
	free := make(chan []byte, 3*workers)
	stop := make(chan struct{})
	var sizeHint atomic.Int64 // the largest chunk so far, to size new buffers
	for range workers {
		go func() {
			for jb := range jobs {
				var buf []byte
				select {
				case buf = <-free:
				default:
					buf = make([]byte, 0, sizeHint.Load())
				}
				buf = format(buf[:0], jb.lo, jb.hi)
				if n := int64(cap(buf)); n > sizeHint.Load() {
					sizeHint.Store(n)
				}
				jb.out <- buf
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(jobs)
		for lo := 0; lo < nrows; lo += chunk {
			out := make(chan []byte, 1)
			select {
			case order <- out:
			case <-stop:
				return
			}
			jobs <- job{lo, min(lo+chunk, nrows), out}
		}
	}()
	var err error
	for out := range order {
		buf := <-out
		if err == nil {
			if _, werr := w.Write(buf); werr != nil {
				err = fmt.Errorf("frame: write: %w", werr)
				close(stop)
			}
		}
		select {
		case free <- buf:
		default:
		}
	}
	return err
}

var defaultNullSet = func() map[string]bool {
	m := make(map[string]bool)
	for _, s := range defaultNullValues {
		m[s] = true
	}
	return m
}()

// appendCSVField appends s, quoted when needed.
func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") && !defaultNullSet[s] && !strings.HasPrefix(s, "\uFEFF") {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}
