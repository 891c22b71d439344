package frame

import (
	"fmt"
	"math"
	"strings"
)

// Cast returns a frame with column name converted to type t:
//
//   - string → float, int, bool, time: the text is trimmed of surrounding
//     white space and parsed as ReadCSV parses fields; empty text and the
//     DefaultNullValues become missing.
//   - int → float exactly (beyond 2^53, to the nearest float); float → int
//     only for whole numbers in range.
//   - bool → int or float as 1 and 0; int or float → bool only for 0 and 1.
//   - time ↔ float as Unix seconds (with fraction); time ↔ int as whole
//     Unix seconds (time → int rounds down).
//   - anything → string: the text Column.Str gives.
//
// Missing values stay missing. A value that cannot be converted is an error
// wrapping ErrBadValue that names the column, the 0-based row and the value.
// An unknown column is an error wrapping ErrNoColumn.
func (f *Frame) Cast(name string, t Type) (*Frame, error) {
	c, i := f.ColByName(name)
	if i < 0 {
		return nil, fmt.Errorf("frame: cast: %w %q", ErrNoColumn, name)
	}
	if !t.Valid() {
		return nil, fmt.Errorf("frame: cast %q: invalid type %d", name, uint8(t))
	}
	nc, err := CastColumn(c, t)
	if err != nil {
		return nil, err
	}
	cols := append([]*Column(nil), f.cols...)
	cols[i] = nc
	return mustFrame(cols, f.nrows), nil
}

// CastColumn returns c converted to type t, as Frame.Cast does.
func CastColumn(c *Column, t Type) (*Column, error) {
	if c.Type == t {
		return c, nil
	}
	n := c.Len()
	fail := func(i int, why string) error {
		return fmt.Errorf("frame: cast column %q to %s: row %d: %s: %w", c.Name, t, i, why, ErrBadValue)
	}
	if t == String {
		b := NewBuilder(c.Name, String, n)
		var buf []byte
		for i := 0; i < n; i++ {
			if c.IsNull(i) {
				b.AppendNull()
				continue
			}
			buf = c.appendValue(buf[:0], i)
			b.AppendString(string(buf))
		}
		return b.Build(), nil
	}
	if c.Type == String {
		// Parse each distinct value once.
		type parsed struct {
			v    uint64
			ok   bool
			null bool
		}
		vals := make([]parsed, len(c.Dict))
		for k, s := range c.Dict {
			s = strings.TrimSpace(s)
			if s == "" || defaultNullSet[s] {
				vals[k] = parsed{null: true, ok: true}
				continue
			}
			v, ok := parseAs([]byte(s), t)
			vals[k] = parsed{v: v, ok: ok}
		}
		out := newRawColumn(c.Name, t, n)
		for i, k := range c.Codes {
			if k < 0 || c.IsNull(i) {
				out.setMissing(i)
				continue
			}
			p := vals[k]
			switch {
			case !p.ok:
				return nil, fail(i, fmt.Sprintf("cannot parse %q", c.Dict[k]))
			case p.null:
				out.setMissing(i)
			default:
				out.set(i, p.v)
			}
		}
		return out.col, nil
	}
	out := newRawColumn(c.Name, t, n)
	for i := 0; i < n; i++ {
		if c.IsNull(i) {
			out.setMissing(i)
			continue
		}
		var v uint64
		ok := true
		switch c.Type {
		case Float:
			x := c.Floats[i]
			switch t {
			case Int:
				ok = x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63
				v = uint64(int64(x))
			case Bool:
				ok = x == 0 || x == 1
				v = uint64(x)
			case Time:
				ns := x * 1e9
				ok = ns >= -(1<<63) && ns < 1<<63
				v = uint64(int64(math.Round(ns)))
			case Float, String: // same type and to-text return earlier
			}
		case Int:
			x := c.Ints[i]
			switch t {
			case Float:
				v = math.Float64bits(float64(x))
			case Bool:
				ok = x == 0 || x == 1
				v = uint64(x)
			case Time:
				ok = x >= -9223372036 && x <= 9223372036
				v = uint64(x * 1e9)
			case Int, String: // same type and to-text return earlier
			}
		case Bool:
			var x uint64
			if c.Bools[i] {
				x = 1
			}
			switch t {
			case Float:
				v = math.Float64bits(float64(x))
			case Int:
				v = x
			case Time:
				return nil, fmt.Errorf("frame: cast column %q: cannot cast bool to time: %w", c.Name, ErrType)
			case Bool, String: // same type and to-text return earlier
			}
		case Time:
			x := c.Times[i]
			switch t {
			case Float:
				v = math.Float64bits(float64(x) / 1e9)
			case Int:
				s := x / 1e9
				if x%1e9 < 0 {
					s--
				}
				v = uint64(s)
			case Bool:
				return nil, fmt.Errorf("frame: cast column %q: cannot cast time to bool: %w", c.Name, ErrType)
			case Time, String: // same type and to-text return earlier
			}
		case String: // parsed from its dictionary above
		}
		if !ok {
			return nil, fail(i, fmt.Sprintf("cannot convert %s", c.Str(i)))
		}
		out.set(i, v)
	}
	return out.col, nil
}

// rawColumn fills a new column from raw 64-bit values (float bits, int64,
// 0/1, Unix nanoseconds).
type rawColumn struct {
	col *Column
	n   int
}

func newRawColumn(name string, t Type, n int) *rawColumn {
	c := &Column{Name: name, Type: t}
	switch t {
	case Float:
		c.Floats = make([]float64, n)
	case Int:
		c.Ints = make([]int64, n)
	case Bool:
		c.Bools = make([]bool, n)
	case Time:
		c.Times = make([]int64, n)
	case String: // CastColumn builds text with a Builder
	}
	return &rawColumn{col: c, n: n}
}

func (r *rawColumn) set(i int, v uint64) {
	switch c := r.col; c.Type {
	case Float:
		c.Floats[i] = math.Float64frombits(v)
	case Int:
		c.Ints[i] = int64(v)
	case Bool:
		c.Bools[i] = v != 0
	case Time:
		c.Times[i] = int64(v)
	case String: // CastColumn builds text with a Builder
	}
}

func (r *rawColumn) setMissing(i int) {
	if r.col.Type == Float {
		r.col.Floats[i] = math.NaN()
	}
	r.col.setNull(i, r.n)
}
