// Bounds on what a Parquet file may make the Parquet library allocate.
// The library sizes buffers by what the file declares before it reads
// the bytes declared: the footer's length, a list's element count, a
// byte string's length (a page's min/max statistics), a page's size. A
// file of a few hundred bytes declaring 2 GB made it allocate 2 GB per
// column, in parallel. The checks here read the file's own thrift
// structures first and refuse any length that the bytes after it cannot
// hold, so what is allocated stays in proportion to the file.

package stages

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/pierrec/lz4/v4"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// maxParquetPage is the most bytes one page may declare it decompresses
// to: the library allocates that much before decompressing. Writers
// make pages of 8 KB to 1 MB.
const maxParquetPage = 64 << 20

// checkParquetFooter checks the length of the footer a Parquet file
// declares in its last 8 bytes against the file's size, and every list
// and byte string in the footer against the bytes that follow it.
func checkParquetFooter(r io.ReaderAt, size int64) error {
	const magic = 4
	if size < 2*magic+4 {
		return fmt.Errorf("%d bytes is too short for a parquet file", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("read the footer: %w", err)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-2*magic-4 {
		return fmt.Errorf("a footer of %d bytes in a file of %d", n, size)
	}
	if string(tail[4:]) != "PAR1" {
		return nil // the library says what it is (an encrypted footer, or not parquet)
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, size-8-n); err != nil {
		return fmt.Errorf("read the footer: %w", err)
	}
	t := &thriftCheck{data: footer}
	if err := t.structure(0); err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	return nil
}

// checkParquetPages walks the pages of the column chunks of the columns
// to read: each page header's lists and byte strings must fit in the
// chunk, its compressed size too, and its decompressed size must not
// pass maxParquetPage.
func checkParquetPages(r io.ReaderAt, size int64, meta *format.FileMetaData, leaves []*parquet.Column) error {
	for g, rg := range meta.RowGroups {
		for _, l := range leaves {
			c := l.Index()
			if c < 0 || c >= len(rg.Columns) {
				return fmt.Errorf("column %q: row group %d has %d columns", l.Name(), g, len(rg.Columns))
			}
			m := &rg.Columns[c].MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			end := start + m.TotalCompressedSize
			name := strings.Join(m.PathInSchema, ".")
			if name == "" {
				name = fmt.Sprint(c)
			}
			if start < 0 || m.TotalCompressedSize < 0 || end > size || end < start {
				return fmt.Errorf("column %q (row group %d): a chunk of %d bytes at %d in a file of %d", name, g, m.TotalCompressedSize, start, size)
			}
			if err := checkChunkPages(io.NewSectionReader(r, start, end-start), m.Codec); err != nil {
				return fmt.Errorf("column %q (row group %d): %w", name, g, err)
			}
		}
	}
	return nil
}

// checkChunkPages walks one column chunk's pages: a header, then as many
// bytes as its compressed size says. An LZ4_RAW page is decoded once into
// its declared size: the Parquet library's LZ4 decoder takes any error for
// a short buffer and doubles it without end, so damaged LZ4 data would
// exhaust memory there.
func checkChunkPages(chunk *io.SectionReader, codec format.CompressionCodec) error {
	var off int64
	buf := make([]byte, 0, 256)
	for off < chunk.Size() {
		// A header is small; read more of the chunk until it parses.
		want := min(int64(256), chunk.Size()-off)
		var t *thriftCheck
		for {
			buf = buf[:want]
			if _, err := chunk.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			t = &thriftCheck{data: buf, page: true}
			err := t.structure(0)
			if err == nil {
				break
			}
			if !errors.Is(err, errThriftShort) || want == chunk.Size()-off {
				return fmt.Errorf("page header at %d: %w", off, err)
			}
			want = min(2*want, chunk.Size()-off)
		}
		off += int64(t.pos)
		switch {
		case t.compressed < 0 || t.compressed > chunk.Size()-off:
			return fmt.Errorf("page at %d: %d compressed bytes where %d are left", off, t.compressed, chunk.Size()-off)
		case t.uncompressed < 0 || t.uncompressed > maxParquetPage:
			return fmt.Errorf("page at %d: %d bytes decompressed, more than %d", off, t.uncompressed, maxParquetPage)
		}
		if codec == format.Lz4Raw {
			if err := checkLZ4Page(chunk, off, t); err != nil {
				return fmt.Errorf("page at %d: %w", off, err)
			}
		}
		off += t.compressed
	}
	return nil
}

// checkLZ4Page decodes the LZ4 block of the page whose header t describes
// and whose bytes start at off: a data page v2's levels come first,
// uncompressed, and its values may be stored uncompressed.
func checkLZ4Page(chunk *io.SectionReader, off int64, t *thriftCheck) error {
	skip, size := int64(0), t.uncompressed
	if t.pageType == pageDataV2 {
		if !t.v2Compressed {
			return nil
		}
		skip = t.v2Levels
		size -= skip
	}
	if skip < 0 || skip > t.compressed || size < 0 {
		return fmt.Errorf("levels of %d bytes in a page of %d compressed, %d decompressed", skip, t.compressed, t.uncompressed)
	}
	src := make([]byte, t.compressed-skip)
	if _, err := chunk.ReadAt(src, off+skip); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	dst := make([]byte, size)
	if _, err := lz4.UncompressBlock(src, dst); err != nil {
		return fmt.Errorf("damaged LZ4 data, or more than the %d bytes its header declares: %w", size, err)
	}
	return nil
}

// pageDataV2 is the page type of a data page v2 in a page header.
const pageDataV2 = 3

// errThriftShort reports a structure that runs past the bytes given.
var errThriftShort = errors.New("runs past its bytes")

// thriftCheck walks a thrift compact-protocol structure without building
// it, checking every list's element count and every byte string's length
// against the bytes left (an element takes at least a byte). With page
// set it keeps a page header's sizes (fields 2 and 3).
type thriftCheck struct {
	data                     []byte
	pos                      int
	page                     bool
	uncompressed, compressed int64
	// pageType is the header's field 1; for a data page v2 (field 8),
	// v2Levels is the bytes of its repetition and definition levels
	// and v2Compressed whether its values are compressed.
	pageType     int64
	v2Levels     int64
	v2Compressed bool
	inV2         bool
}

const maxThriftDepth = 64

func (t *thriftCheck) byte1() (byte, error) {
	if t.pos >= len(t.data) {
		return 0, errThriftShort
	}
	b := t.data[t.pos]
	t.pos++
	return b, nil
}

func (t *thriftCheck) uvarint() (uint64, error) {
	v, n := binary.Uvarint(t.data[t.pos:])
	if n <= 0 {
		if n == 0 {
			return 0, errThriftShort
		}
		return 0, errors.New("a number too large")
	}
	t.pos += n
	return v, nil
}

// varint reads a zigzag-encoded signed integer (Thrift's compact i16,
// i32 and i64).
func (t *thriftCheck) varint() (int64, error) {
	v, err := t.uvarint()
	return int64(v>>1) ^ -int64(v&1), err
}

// length reads a count or size and checks it against the bytes left.
func (t *thriftCheck) length(what string) (int, error) {
	v, err := t.uvarint()
	if err != nil {
		return 0, err
	}
	if left := len(t.data) - t.pos; v > uint64(left) {
		if t.page {
			return 0, errThriftShort // a longer read may hold it; the chunk's end decides
		}
		return 0, fmt.Errorf("a %s of %d where %d bytes are left", what, v, left)
	}
	return int(v), nil
}

func (t *thriftCheck) structure(depth int) error {
	if depth > maxThriftDepth {
		return fmt.Errorf("structures nested deeper than %d", maxThriftDepth)
	}
	var id int64
	for {
		b, err := t.byte1()
		if err != nil {
			return err
		}
		if b == 0 {
			return nil
		}
		typ := b & 0x0f
		if delta := int64(b >> 4); delta != 0 {
			id += delta
		} else {
			if id, err = t.varint(); err != nil {
				return err
			}
		}
		if t.page && depth == 0 && id == 8 && typ == 12 {
			t.inV2, t.v2Compressed = true, true
			err := t.structure(depth + 1)
			t.inV2 = false
			if err != nil {
				return err
			}
			continue
		}
		if t.inV2 && depth == 1 && id == 7 && (typ == 1 || typ == 2) {
			t.v2Compressed = typ == 1
			continue
		}
		if t.page && (depth == 0 && id == 1 || t.inV2 && depth == 1 && (id == 5 || id == 6)) && typ == 5 {
			n, err := t.varint()
			if err != nil {
				return err
			}
			if depth == 0 {
				t.pageType = n
			} else {
				t.v2Levels += n
			}
			continue
		}
		if t.page && depth == 0 && (id == 2 || id == 3) && typ == 5 {
			n, err := t.varint()
			if err != nil {
				return err
			}
			if id == 2 {
				t.uncompressed = n
			} else {
				t.compressed = n
			}
			continue
		}
		if err := t.value(typ, depth); err != nil {
			return err
		}
	}
}

func (t *thriftCheck) value(typ byte, depth int) error {
	switch typ {
	case 1, 2: // bool true, false: in the field header
		return nil
	case 3: // byte
		_, err := t.byte1()
		return err
	case 4, 5, 6: // i16, i32, i64
		_, err := t.uvarint()
		return err
	case 7: // double
		if len(t.data)-t.pos < 8 {
			return errThriftShort
		}
		t.pos += 8
		return nil
	case 8: // binary
		n, err := t.length("byte string")
		if err != nil {
			return err
		}
		t.pos += n
		return nil
	case 9, 10: // list, set
		h, err := t.byte1()
		if err != nil {
			return err
		}
		n, elem := int(h>>4), h&0x0f
		if n == 15 {
			if n, err = t.length("list"); err != nil {
				return err
			}
		} else if n > len(t.data)-t.pos {
			return errThriftShort
		}
		for range n {
			if elem == 1 || elem == 2 {
				elem = 3 // a bool element takes a byte
			}
			if err := t.value(elem, depth+1); err != nil {
				return err
			}
		}
		return nil
	case 11: // map
		n, err := t.length("map")
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		kv, err := t.byte1()
		if err != nil {
			return err
		}
		k, v := kv>>4, kv&0x0f
		for range n {
			if err := t.value(k, depth+1); err != nil {
				return err
			}
			if err := t.value(v, depth+1); err != nil {
				return err
			}
		}
		return nil
	case 12: // struct
		return t.structure(depth + 1)
	}
	return fmt.Errorf("unknown thrift type %d", typ)
}
