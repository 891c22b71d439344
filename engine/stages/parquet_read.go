// The Parquet reader: ReadParquet checks a file's footer, picks its
// columns and reads them, one column sink each (parquet_sink.go, where
// every physical and logical type it accepts is decoded).

package stages

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/sluice-ml/sluice/engine/frame"
)

// ParquetReadOptions are the options of ReadParquet.
type ParquetReadOptions struct {
	// Columns, when not empty, lists the columns to read, in the order
	// the frame gets them; a name the file does not have is an error.
	Columns []string
	// Name prefixes error messages (a file name); may be empty.
	Name string
	// Progress, when set, is called after each row group with the rows
	// read so far and the file's total, one call at a time.
	Progress func(done, total int64)
}

// ReadParquet reads the Parquet file of the given size from r into a frame.
//
// It reads flat columns of these physical and logical types: BOOLEAN →
// bool; INT32/INT64 (plain or any INT annotation) → int; DOUBLE, FLOAT,
// FLOAT16 and DECIMAL (any physical form, as value / 10^scale) → float;
// BYTE_ARRAY (STRING, ENUM, JSON or unannotated text) and UUID → string;
// TIMESTAMP (millis, micros, nanos), DATE and legacy INT96 → time. A null
// is a missing value; a NaN double reads as missing, as it does everywhere
// in a frame.
//
// It returns an error naming the column and the feature for what a flat
// table cannot hold: nested groups (structs, maps), repeated values
// (lists), TIME of day, INTERVAL, BSON and other fixed-size binary values,
// binary values that are not UTF-8 text, an unsigned 64-bit value above
// the int64 range, and a time outside the years 1678–2261. A malformed
// file (bad metadata, levels, or a page whose checksum does not match) is
// an error too, never a panic. Columns are decoded in parallel; the
// reader must allow concurrent ReadAt calls, as *os.File and
// *bytes.Reader do.
func ReadParquet(r io.ReaderAt, size int64, opts ParquetReadOptions) (f *frame.Frame, err error) {
	prefix := ""
	if opts.Name != "" {
		prefix = opts.Name + ": "
	}
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("%smalformed parquet file: %v", prefix, p)
		}
	}()
	if err := checkParquetFooter(r, size); err != nil {
		return nil, fmt.Errorf("%snot a readable parquet file: %w", prefix, err)
	}
	file, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, fmt.Errorf("%snot a readable parquet file: %w", prefix, err)
	}
	leaves, err := parquetLeaves(file, opts.Columns)
	if err != nil {
		return nil, fmt.Errorf("%s%w", prefix, err)
	}
	if err := checkParquetPages(r, size, file.Metadata(), leaves); err != nil {
		return nil, fmt.Errorf("%smalformed parquet file: %w", prefix, err)
	}
	nrows := file.NumRows()
	if nrows < 0 || nrows > math.MaxInt32*8 {
		return nil, fmt.Errorf("%smalformed parquet file: %d rows", prefix, nrows)
	}
	// The footer's row count sizes the columns only as far as the file's
	// size makes it plausible (a plain value takes at least a byte, a
	// run-length one less); beyond that they grow as values arrive, so a
	// footer that lies costs no more memory than its pages decode to.
	prealloc := min(int(nrows), max(1<<16, int(size)))
	logical := parquetLogicalTypes(file)
	sinks := make([]*parquetSink, len(leaves))
	for i, l := range leaves {
		s, err := newParquetSink(l, logical[l.Name()], int(nrows), prealloc)
		if err != nil {
			return nil, fmt.Errorf("%s%w", prefix, err)
		}
		sinks[i] = s
	}
	var done int64
	for _, rg := range file.RowGroups() {
		chunks := rg.ColumnChunks()
		err := forEachParallel(len(sinks), func(i int) error {
			return sinks[i].readChunk(chunks[leaves[i].Index()])
		})
		if err != nil {
			return nil, fmt.Errorf("%s%w", prefix, err)
		}
		done += rg.NumRows()
		if opts.Progress != nil {
			opts.Progress(done, nrows)
		}
	}
	for _, s := range sinks {
		if s.n != int(nrows) {
			return nil, fmt.Errorf("%smalformed parquet file: column %q has %d values, the file %d rows", prefix, s.name, s.n, nrows)
		}
	}
	cols := make([]*frame.Column, len(sinks))
	// forEachParallel turns a panic in column() into an error.
	if err := forEachParallel(len(sinks), func(i int) error {
		cols[i] = sinks[i].column()
		return nil
	}); err != nil {
		return nil, fmt.Errorf("%s%w", prefix, err)
	}
	out, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("%s%w", prefix, err)
	}
	return out, nil
}

// parquetLeaves returns the file's top-level columns to read, refusing
// nested and repeated ones by name.
func parquetLeaves(file *parquet.File, want []string) ([]*parquet.Column, error) {
	all := file.Root().Columns()
	byName := make(map[string]*parquet.Column, len(all))
	for _, c := range all {
		byName[c.Name()] = c
	}
	pick := all
	if len(want) > 0 {
		pick = make([]*parquet.Column, len(want))
		seen := make(map[string]bool, len(want))
		for i, name := range want {
			c, ok := byName[name]
			if !ok {
				names := make([]string, len(all))
				for j, c := range all {
					names[j] = c.Name()
				}
				return nil, fmt.Errorf("no column %q (the file has: %s)", name, strings.Join(names, ", "))
			}
			if seen[name] {
				return nil, fmt.Errorf("column %q listed twice", name)
			}
			seen[name] = true
			pick[i] = c
		}
	}
	for _, c := range pick {
		switch {
		case !c.Leaf():
			return nil, fmt.Errorf("column %q: nested columns (structs, maps, lists) are not supported; a flat table is needed", c.Name())
		case c.Repeated() || c.MaxRepetitionLevel() > 0:
			return nil, fmt.Errorf("column %q: repeated values (lists) are not supported; a flat table is needed", c.Name())
		}
	}
	return pick, nil
}

// parquetLogicalTypes returns the logical type annotation of each
// top-level column as the file's schema states it. The library's column
// types carry the ones it knows (legacy converted types translated);
// this also has those it does not model, such as FLOAT16.
func parquetLogicalTypes(file *parquet.File) map[string]format.LogicalTypeValue {
	out := make(map[string]format.LogicalTypeValue)
	elems := file.Metadata().Schema
	if len(elems) == 0 {
		return out
	}
	// skip returns the index after the subtree that starts at i.
	var skip func(i int) int
	skip = func(i int) int {
		if i >= len(elems) {
			return len(elems)
		}
		n := int(elems[i].NumChildren.V)
		i++
		for k := 0; k < n && i < len(elems); k++ {
			i = skip(i)
		}
		return i
	}
	for i, k := 1, 0; i < len(elems) && k < int(elems[0].NumChildren.V); k++ {
		out[elems[i].Name] = elems[i].LogicalType.Value
		i = skip(i)
	}
	return out
}
