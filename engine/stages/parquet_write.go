// The Parquet writer (WriteParquet): frame columns to Parquet columns.

package stages

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/sluice-ml/sluice/engine/frame"
)

// ParquetCompressions lists the compression names WriteParquet accepts, the
// default first.
var ParquetCompressions = []string{"zstd", "snappy", "gzip", "none"}

// parquetRowGroup is the number of rows in a row group written by
// WriteParquet: large enough for good compression and fast column reads,
// small enough that writing holds only one group's pages in memory.
const parquetRowGroup = 1 << 20

// parquetCreatedBy is the writer name recorded in every file. It is fixed
// (not the library's build) so that the bytes of a file do not change with
// the build of the binary that wrote it.
var parquetCreatedBy = parquet.CreatedBy("sluice", "1", "frame-parquet")

func parquetCodec(name string) (compress.Codec, error) {
	switch name {
	case "", "zstd":
		return &parquet.Zstd, nil
	case "snappy":
		return &parquet.Snappy, nil
	case "gzip":
		return &parquet.Gzip, nil
	case "none":
		return &parquet.Uncompressed, nil
	}
	return nil, fmt.Errorf("unknown parquet compression %q (want %s)", name, strings.Join(ParquetCompressions, ", "))
}

// WriteParquet writes f to w as one Parquet file compressed with the named
// codec: "zstd" (the default, also chosen by ""), "snappy", "gzip" or
// "none". Column order, names and types are kept (see the mapping above);
// the output depends only on f's names, types and values. It returns an
// error for an unknown compression, a frame without columns, or a failed
// write; w may then hold part of a file, so write to a temporary file (as
// write_parquet does through an atomic rename) when that matters.
// Columns are encoded in parallel, at most GOMAXPROCS at a time.
func WriteParquet(w io.Writer, f *frame.Frame, compression string) error {
	return writeParquet(w, f, compression, parquetRowGroup)
}

// writeParquet is WriteParquet with row groups of the given number of rows.
func writeParquet(w io.Writer, f *frame.Frame, compression string, rowGroup int) error {
	codec, err := parquetCodec(compression)
	if err != nil {
		return err
	}
	if f.NumCols() == 0 {
		return errors.New("parquet: cannot write a table without columns")
	}
	fields := make([]parquet.Field, f.NumCols())
	for i := 0; i < f.NumCols(); i++ {
		c := f.Col(i)
		var n parquet.Node
		switch c.Type {
		case frame.Float:
			n = parquet.Leaf(parquet.DoubleType)
		case frame.Int:
			n = parquet.Int(64)
		case frame.Bool:
			n = parquet.Leaf(parquet.BooleanType)
		case frame.String:
			n = parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
		case frame.Time:
			n = parquet.Timestamp(parquet.Nanosecond)
		default:
			return fmt.Errorf("parquet: column %q: cannot write type %s", c.Name, c.Type)
		}
		if c.HasNulls() {
			n = parquet.Optional(n)
		}
		fields[i] = &parquetField{Node: n, name: c.Name}
	}
	schema := parquet.NewSchema("sluice", parquetGroup(fields))
	pw := parquet.NewWriter(w, schema,
		parquet.Compression(codec),
		parquetCreatedBy,
		parquet.MaxRowsPerRowGroup(int64(rowGroup)),
	)
	for lo := 0; lo < f.NumRows(); lo += rowGroup {
		hi := min(lo+rowGroup, f.NumRows())
		cws := pw.ColumnWriters()
		err := forEachParallel(f.NumCols(), func(i int) error {
			return writeParquetColumn(cws[i], f.Col(i), i, lo, hi)
		})
		if err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
		if err := pw.Flush(); err != nil {
			return fmt.Errorf("parquet: %w", err)
		}
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// writeParquetColumn writes rows lo..hi of c, the idx-th column, to cw.
func writeParquetColumn(cw *parquet.ColumnWriter, c *frame.Column, idx, lo, hi int) error {
	const chunk = 4096
	buf := make([]parquet.Value, 0, min(chunk, hi-lo))
	def := 0
	if c.HasNulls() {
		def = 1
	}
	for i := lo; i < hi; i += chunk {
		end := min(i+chunk, hi)
		buf = buf[:0]
		for r := i; r < end; r++ {
			if c.IsNull(r) {
				buf = append(buf, parquet.NullValue().Level(0, 0, idx))
				continue
			}
			var v parquet.Value
			switch c.Type {
			case frame.Float:
				v = parquet.DoubleValue(c.Floats[r])
			case frame.Int:
				v = parquet.Int64Value(c.Ints[r])
			case frame.Bool:
				v = parquet.BooleanValue(c.Bools[r])
			case frame.String:
				v = parquet.ByteArrayValue(unsafeBytes(c.Dict[c.Codes[r]]))
			case frame.Time:
				v = parquet.Int64Value(c.Times[r])
			}
			buf = append(buf, v.Level(0, def, idx))
		}
		if _, err := cw.WriteRowValues(buf); err != nil {
			return fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	return nil
}

// unsafeBytes returns s as a byte slice without copying; the slice must
// not be modified. Parquet values only read it (and copy it into pages).
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// parquetGroup is a group node that keeps its fields in the order given;
// parquet.Group sorts them by name, which would reorder a table's columns.
type parquetGroup []parquet.Field

func (g parquetGroup) ID() int { return 0 }

func (g parquetGroup) String() string { return "group" }

func (g parquetGroup) Type() parquet.Type { return parquet.Group{}.Type() }

func (g parquetGroup) Optional() bool { return false }

func (g parquetGroup) Repeated() bool { return false }

func (g parquetGroup) Required() bool { return true }

func (g parquetGroup) Leaf() bool { return false }

func (g parquetGroup) Fields() []parquet.Field { return g }

func (g parquetGroup) Encoding() encoding.Encoding { return nil }

func (g parquetGroup) Compression() compress.Codec { return nil }

func (g parquetGroup) GoType() reflect.Type { return reflect.TypeOf(map[string]any{}) }

func (f *parquetField) Name() string { return f.name }

func (f *parquetField) Value(reflect.Value) reflect.Value { return reflect.Value{} }

type parquetField struct {
	parquet.Node
	name string
}
