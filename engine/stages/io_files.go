package stages

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

// Compressed and many-file inputs, shared by the extract stages.
//
// A data file is decompressed when its first bytes are the gzip or zstd
// magic numbers, whatever its name; a path may be a glob pattern or a
// folder (engine.ExpandInput), whose files are read in sorted order and
// stacked. Writers compress when the path ends in .gz or .zst.

// Magic numbers of the compressed formats read.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// compression names the compression of a stream from its first bytes:
// "gzip", "zstd" or "" (none).
func compression(head []byte) string {
	switch {
	case len(head) >= 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1]:
		return "gzip"
	case len(head) >= 4 && string(head[:4]) == string(zstdMagic):
		return "zstd"
	}
	return ""
}

// dataFile is an open input file, decompressed when it is compressed.
type dataFile struct {
	file  *os.File
	size  int64  // the file's size in bytes (compressed size if compressed)
	codec string // "gzip", "zstd" or ""
	r     io.Reader
	raw   *countingReader // counts the file's bytes as they are consumed
	close func()
}

// openData opens path and returns its content as a stream, decompressed
// when the file starts with a gzip or zstd magic number. Close it. Only a
// regular file is opened: a FIFO or device named by mistake would block
// validation in open(2) or never end.
func openData(path string) (*dataFile, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: path, Err: engine.ErrNotRegular}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	d := &dataFile{file: f, close: func() {}}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		d.size = st.Size()
	}
	d.raw = &countingReader{r: f}
	br := bufio.NewReaderSize(d.raw, 1<<16)
	head, _ := br.Peek(4)
	d.codec = compression(head)
	switch d.codec {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			_ = f.Close() // opened for reading; the gzip error is the one to report
			return nil, fmt.Errorf("gzip: %w", err)
		}
		d.r, d.close = zr, func() { _ = zr.Close() } // a reader's Close frees it; nothing to report
	case "zstd":
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		d.r, d.close = zr, zr.Close
	default:
		// Plain: read the file itself (seek back over the peeked bytes).
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			_ = f.Close()
			return nil, err
		}
		d.raw = &countingReader{r: f}
		d.r = d.raw
	}
	return d, nil
}

// Close releases the decompressor and closes the file.
func (d *dataFile) Close() error {
	d.close()
	return d.file.Close()
}

// decompressError names the compression of a file whose stream broke.
func (d *dataFile) wrap(name string, err error) error {
	if d.codec == "" || err == nil {
		return err
	}
	s := trimFramePrefix(err)
	if strings.Contains(s, d.codec) {
		return err
	}
	return fmt.Errorf("%s (%s-compressed): %w", name, d.codec, err)
}

// countingReader counts the bytes read through it; Count may be called
// from another goroutine.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Count returns the bytes read so far.
func (c *countingReader) Count() int64 { return c.n.Load() }

// compressingWriter wraps w in a gzip or zstd encoder when name ends in
// .gz or .zst. finish flushes the encoder; call it before w is complete.
func compressingWriter(name string, w io.Writer) (out io.Writer, finish func() error, err error) {
	switch {
	case strings.HasSuffix(name, ".gz"):
		zw := gzip.NewWriter(w)
		return zw, zw.Close, nil
	case strings.HasSuffix(name, ".zst"):
		zw, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return zw, zw.Close, nil
	}
	return w, func() error { return nil }, nil
}

// sourceColumn is the column with_source adds: the file each row came from.
const sourceColumn = "source_file"

// readMany reads every file the stage's path parameter names (a file, a
// glob or a folder) with read, and stacks the tables in sorted file order.
// Every file must have the same columns (in any order), or the error
// names the first that differs. with_source adds a source_file column.
// read gets the file's name as written and its absolute path.
func readMany(ctx context.Context, sc *engine.StageContext, read func(name, path string) (*frame.Frame, error)) (*frame.Frame, []string, error) {
	names, err := engine.ExpandInput(sc.Plan.Spec.Dir, sc.Params.String("path"))
	if err != nil {
		return nil, nil, err
	}
	withSource := sc.Params.Bool("with_source")
	parts := make([]*frame.Frame, 0, len(names))
	var first *frame.Frame
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		f, err := read(name, sc.Path(name))
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			first = f
		} else if err := filesAgree(first, names[0], f, name); err != nil {
			return nil, nil, err
		}
		if withSource {
			if _, j := f.ColByName(sourceColumn); j >= 0 {
				return nil, nil, fmt.Errorf("%s: with_source: the file already has a column %s", name, sourceColumn)
			}
			vals := make([]string, f.NumRows())
			for r := range vals {
				vals[r] = name
			}
			f, err = f.WithColumn(frame.NewString(sourceColumn, vals, nil))
			if err != nil {
				return nil, nil, err
			}
		}
		parts = append(parts, f)
	}
	if len(parts) == 1 {
		return parts[0], names, nil
	}
	out, err := frame.Concat(parts...)
	if err != nil {
		return nil, nil, fmt.Errorf("stacking %d files: %s", len(parts), trimFramePrefix(err))
	}
	return out, names, nil
}

// filesAgree returns an error naming file b when its columns are not
// those of a.
func filesAgree(a *frame.Frame, aName string, b *frame.Frame, bName string) error {
	var missing, extra []string
	for _, n := range a.Names() {
		if _, j := b.ColByName(n); j < 0 {
			missing = append(missing, n)
		}
	}
	for _, n := range b.Names() {
		if _, j := a.ColByName(n); j < 0 {
			extra = append(extra, n)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var why []string
	if len(missing) > 0 {
		why = append(why, "lacks "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		why = append(why, "has "+strings.Join(extra, ", ")+" besides")
	}
	return fmt.Errorf("%s: its columns differ from those of %s, the first file: it %s", bName, aName, strings.Join(why, " and "))
}
