// One concern, decoding one Parquet column into a frame column: which
// frame type each physical and logical Parquet type becomes, and the
// sink that takes a column chunk's pages (plain pages copied without
// boxing where it can). ReadParquet (parquet_read.go) drives one sink
// per column.

package stages

import (
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/sluice-ml/sluice/engine/frame"
)

// parquetSink collects one column's values as they are decoded.
type parquetSink struct {
	name   string
	t      frame.Type
	conv   func(s *parquetSink, v parquet.Value, row int) error // stores a non-null value
	maxDef int
	n      int // rows stored
	rows   int // rows the file has

	floats []float64
	ints   []int64
	bools  []bool
	codes  []int32
	dict   []string
	index  map[string]int32
	times  []int64
	nulls  []bool // for int, bool and time; nil until a null is seen

	// fast: the physical kind whose plain pages are copied without boxing
	// values (Double into floats, Int64 into ints or times), or -1.
	fast parquet.Kind
	buf  []parquet.Value
}

func newParquetSink(c *parquet.Column, fromSchema format.LogicalTypeValue, rows, n int) (*parquetSink, error) {
	s := &parquetSink{name: c.Name(), maxDef: c.MaxDefinitionLevel(), fast: -1, rows: rows}
	typ := c.Type()
	// Legacy converted types arrive translated into logical ones.
	var lv format.LogicalTypeValue
	if lt := typ.LogicalType(); lt != nil {
		lv = lt.Value
	}
	if lv == nil {
		lv = fromSchema
	}
	interval := false
	if ct := typ.ConvertedType(); ct != nil && *ct == deprecated.Interval {
		interval = true
	}
	unsupported := func(what string) error {
		return fmt.Errorf("column %q: %s values are not supported", s.name, what)
	}
	decimal, _ := lv.(*format.DecimalType)
	switch typ.Kind() {
	case parquet.Boolean:
		s.t, s.conv = frame.Bool, func(s *parquetSink, v parquet.Value, r int) error { s.bools[r] = v.Boolean(); return nil }
	case parquet.Int32, parquet.Int64:
		is64 := typ.Kind() == parquet.Int64
		integer := func(v parquet.Value) int64 {
			if is64 {
				return v.Int64()
			}
			return int64(v.Int32())
		}
		switch lt := lv.(type) {
		case *format.DecimalType:
			scale := int(lt.Scale)
			s.t = frame.Float
			s.conv = func(s *parquetSink, v parquet.Value, r int) error {
				s.floats[r] = float64(integer(v)) / math.Pow10(scale)
				return nil
			}
		case *format.DateType:
			s.t = frame.Time
			s.conv = func(s *parquetSink, v parquet.Value, r int) error {
				return s.putTime(r, integer(v), 86400e9, "date")
			}
		case *format.TimestampType:
			if !is64 {
				return nil, unsupported("32-bit TIMESTAMP")
			}
			mul := int64(1)
			switch lt.Unit.Value.(type) {
			case *format.MilliSeconds:
				mul = 1e6
			case *format.MicroSeconds:
				mul = 1e3
			}
			s.t = frame.Time
			if mul == 1 {
				s.fast = parquet.Int64
			}
			s.conv = func(s *parquetSink, v parquet.Value, r int) error {
				return s.putTime(r, v.Int64(), mul, "timestamp")
			}
		case *format.TimeType:
			return nil, unsupported("TIME (time of day)")
		case *format.IntType:
			s.t = frame.Int
			switch {
			case !lt.IsSigned && !is64:
				s.conv = func(s *parquetSink, v parquet.Value, r int) error { s.ints[r] = int64(uint32(v.Int32())); return nil }
			case !lt.IsSigned:
				s.conv = func(s *parquetSink, v parquet.Value, r int) error {
					if u := v.Uint64(); u > math.MaxInt64 {
						return fmt.Errorf("column %q, row %d: unsigned value %d is above the int64 range", s.name, r+1, u)
					}
					s.ints[r] = v.Int64()
					return nil
				}
			default:
				s.conv = func(s *parquetSink, v parquet.Value, r int) error { s.ints[r] = integer(v); return nil }
			}
		case nil:
			s.t = frame.Int
			if is64 {
				s.fast = parquet.Int64
			}
			s.conv = func(s *parquetSink, v parquet.Value, r int) error { s.ints[r] = integer(v); return nil }
		default:
			return nil, unsupported(typ.String())
		}
	case parquet.Int96:
		s.t = frame.Time
		s.conv = func(s *parquetSink, v parquet.Value, r int) error {
			ns, ok := int96Nanos(v.Int96())
			if !ok {
				return fmt.Errorf("column %q, row %d: INT96 timestamp outside the years 1678-2261 that a time column holds", s.name, r+1)
			}
			s.times[r] = ns
			return nil
		}
	case parquet.Float:
		s.t = frame.Float
		s.conv = func(s *parquetSink, v parquet.Value, r int) error { s.floats[r] = float64(v.Float()); return nil }
	case parquet.Double:
		s.t, s.fast = frame.Float, parquet.Double
		s.conv = func(s *parquetSink, v parquet.Value, r int) error { s.floats[r] = v.Double(); return nil }
	case parquet.ByteArray:
		switch lv.(type) {
		case *format.DecimalType:
			scale := int(decimal.Scale)
			s.t = frame.Float
			s.conv = func(s *parquetSink, v parquet.Value, r int) error {
				s.floats[r] = decimalBytes(v.ByteArray(), scale)
				return nil
			}
		case *format.StringType, *format.EnumType, *format.JsonType, nil:
			s.t = frame.String
			_, text := lv.(*format.StringType)
			s.conv = func(s *parquetSink, v parquet.Value, r int) error {
				b := v.ByteArray()
				if !text && !utf8.Valid(b) {
					return fmt.Errorf("column %q, row %d: binary values that are not UTF-8 text are not supported", s.name, r+1)
				}
				s.putString(r, b)
				return nil
			}
		default:
			return nil, unsupported(typ.String())
		}
	case parquet.FixedLenByteArray:
		size := typ.Length()
		switch lv.(type) {
		case *format.DecimalType:
			scale := int(decimal.Scale)
			s.t = frame.Float
			s.conv = func(s *parquetSink, v parquet.Value, r int) error {
				s.floats[r] = decimalBytes(v.ByteArray(), scale)
				return nil
			}
		case *format.Float16Type:
			if size != 2 {
				return nil, unsupported(typ.String())
			}
			s.t = frame.Float
			s.conv = func(s *parquetSink, v parquet.Value, r int) error {
				b := v.ByteArray()
				s.floats[r] = float64(float16(uint16(b[0]) | uint16(b[1])<<8))
				return nil
			}
		case *format.UUIDType:
			if size != 16 {
				return nil, unsupported(typ.String())
			}
			s.t = frame.String
			s.conv = func(s *parquetSink, v parquet.Value, r int) error {
				b := v.ByteArray()
				s.putString(r, []byte(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])))
				return nil
			}
		default:
			if interval {
				return nil, unsupported("INTERVAL")
			}
			return nil, unsupported(fmt.Sprintf("fixed-size binary (%s)", typ))
		}
	default:
		return nil, unsupported(typ.String())
	}
	switch s.t {
	case frame.Float:
		s.floats = make([]float64, n)
	case frame.Int:
		s.ints = make([]int64, n)
	case frame.Bool:
		s.bools = make([]bool, n)
	case frame.String:
		s.codes = make([]int32, n)
		s.dict = []string{}
		s.index = make(map[string]int32)
	case frame.Time:
		s.times = make([]int64, n)
	}
	return s, nil
}

// putTime stores v×mul nanoseconds at row r, refusing what overflows.
func (s *parquetSink) putTime(r int, v, mul int64, what string) error {
	if mul != 1 && (v > math.MaxInt64/mul || v < math.MinInt64/mul) {
		return fmt.Errorf("column %q, row %d: %s outside the years 1678-2261 that a time column holds", s.name, r+1, what)
	}
	s.times[r] = v * mul
	return nil
}

func (s *parquetSink) putString(r int, b []byte) {
	k, ok := s.index[string(b)]
	if !ok {
		k = int32(len(s.dict))
		v := string(b)
		s.index[v] = k
		s.dict = append(s.dict, v)
	}
	s.codes[r] = k
}

func (s *parquetSink) setNull(r int) {
	switch s.t {
	case frame.Float:
		s.floats[r] = math.NaN()
	case frame.String:
		s.codes[r] = -1
	case frame.Int, frame.Bool, frame.Time:
		if s.nulls == nil {
			s.nulls = make([]bool, s.length())
		}
		s.nulls[r] = true
	}
}

// readChunk appends the values of one column chunk.
func (s *parquetSink) readChunk(chunk parquet.ColumnChunk) error {
	pages := chunk.Pages()
	defer pages.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("column %q: %w", s.name, err)
		}
		err = s.readPage(p)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
}

func (s *parquetSink) readPage(p parquet.Page) error {
	n := int(p.NumValues())
	if n < 0 || s.n+n > s.rows {
		return fmt.Errorf("column %q: malformed parquet file: more values than the file's rows", s.name)
	}
	s.grow(s.n + n)
	if s.fast >= 0 && p.Dictionary() == nil && p.Type().Kind() == s.fast {
		if s.readPlain(p, n) {
			return nil
		}
	}
	if cap(s.buf) == 0 {
		s.buf = make([]parquet.Value, 1024)
	}
	vr := p.Values()
	for {
		k, err := vr.ReadValues(s.buf)
		for _, v := range s.buf[:k] {
			if s.n >= s.length() {
				if s.n >= s.rows {
					return fmt.Errorf("column %q: malformed parquet file: more values than the file's rows", s.name)
				}
				s.grow(s.n + 1)
			}
			if v.IsNull() {
				s.setNull(s.n)
			} else if err := s.conv(s, v, s.n); err != nil {
				return err
			}
			s.n++
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("column %q: %w", s.name, err)
		}
	}
}

// readPlain copies a plain (not dictionary-encoded) DOUBLE or INT64 page
// straight into the column, spreading the values over the rows its
// definition levels mark present. It reports false, having stored
// nothing, when the page does not have the expected shape.
func (s *parquetSink) readPlain(p parquet.Page, n int) bool {
	defs := p.DefinitionLevels()
	data := p.Data()
	var dst func(row, j int)
	var m int
	switch s.fast {
	case parquet.Double:
		vals := data.Double()
		m = len(vals)
		if len(defs) == 0 && m == n {
			copy(s.floats[s.n:], vals)
			s.n += n
			return true
		}
		dst = func(row, j int) { s.floats[row] = vals[j] }
	case parquet.Int64:
		vals := data.Int64()
		m = len(vals)
		out := s.ints
		if s.t == frame.Time {
			out = s.times
		}
		if len(defs) == 0 && m == n {
			copy(out[s.n:], vals)
			s.n += n
			return true
		}
		dst = func(row, j int) { out[row] = vals[j] }
	default:
		return false
	}
	if len(defs) != n {
		return false
	}
	present := 0
	for _, d := range defs {
		if int(d) == s.maxDef {
			present++
		}
	}
	if present != m {
		return false
	}
	j := 0
	for i, d := range defs {
		if int(d) == s.maxDef {
			dst(s.n+i, j)
			j++
		} else {
			s.setNull(s.n + i)
		}
	}
	s.n += n
	return true
}

// length is the number of rows the column's slices hold.
func (s *parquetSink) length() int {
	return len(s.floats) + len(s.ints) + len(s.bools) + len(s.codes) + len(s.times)
}

// grow makes the slices hold at least k rows (doubling, up to the file's).
func (s *parquetSink) grow(k int) {
	l := s.length()
	if k <= l {
		return
	}
	k = max(k, min(2*l, s.rows))
	switch s.t {
	case frame.Float:
		s.floats = growTo(s.floats, k)
	case frame.Int:
		s.ints = growTo(s.ints, k)
	case frame.Bool:
		s.bools = growTo(s.bools, k)
	case frame.String:
		s.codes = growTo(s.codes, k)
	case frame.Time:
		s.times = growTo(s.times, k)
	}
	if s.nulls != nil {
		s.nulls = growTo(s.nulls, k)
	}
}

func trim[T any](v []T, n int) []T {
	if v == nil {
		return nil
	}
	return v[:n]
}

func growTo[T any](v []T, n int) []T {
	w := make([]T, n)
	copy(w, v)
	return w
}

// column returns the collected values as a frame column.
func (s *parquetSink) column() *frame.Column {
	if s.nulls != nil {
		s.nulls = s.nulls[:s.n]
	}
	if s.length() != s.n { // a grown slice may hold more than the rows
		s.floats, s.ints, s.bools = trim(s.floats, s.n), trim(s.ints, s.n), trim(s.bools, s.n)
		s.codes, s.times = trim(s.codes, s.n), trim(s.times, s.n)
	}
	switch s.t {
	case frame.Float:
		// frame.New marks the NaN values (the nulls) missing.
		return &frame.Column{Name: s.name, Type: frame.Float, Floats: s.floats}
	case frame.Int:
		return frame.NewInt(s.name, s.ints, s.nulls)
	case frame.Bool:
		return frame.NewBool(s.name, s.bools, s.nulls)
	case frame.String:
		return &frame.Column{Name: s.name, Type: frame.String, Codes: s.codes, Dict: s.dict}
	case frame.Time:
	}
	if s.nulls == nil {
		return &frame.Column{Name: s.name, Type: frame.Time, Times: s.times}
	}
	// NewInt marks the missing rows (and zeroes them, the Time placeholder
	// too); the column is not in a frame yet, so it can still be retyped.
	c := frame.NewInt(s.name, s.times, s.nulls)
	c.Type, c.Times, c.Ints = frame.Time, c.Ints, nil
	return c
}

// int96Nanos converts a legacy INT96 timestamp (nanoseconds of the day,
// then the Julian day) to Unix nanoseconds, reporting whether it fits.
func int96Nanos(v deprecated.Int96) (int64, bool) {
	nanos := int64(uint64(v[0]) | uint64(v[1])<<32)
	days := int64(v[2]) - 2440588 // Julian day of 1970-01-01
	if nanos < 0 || nanos >= 86400e9+1e9 || days < -106751 || days > 106750 {
		return 0, false
	}
	ns := days*86400e9 + nanos
	if (days > 0 && ns < 0) || (days < 0 && ns > 0) {
		return 0, false
	}
	return ns, true
}

// decimalBytes reads a big-endian two's complement unscaled decimal and
// returns it divided by 10^scale.
func decimalBytes(b []byte, scale int) float64 {
	if len(b) == 0 {
		return 0
	}
	neg := b[0]&0x80 != 0
	var x float64
	for _, c := range b {
		if neg {
			c = ^c
		}
		x = x*256 + float64(c)
	}
	if neg {
		x = -(x + 1)
	}
	return x / math.Pow10(scale)
}

// float16 converts an IEEE 754 half-precision value.
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			return -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
