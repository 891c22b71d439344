package frame

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Builder appends values of one type to a new column. The zero Builder is
// not usable; call NewBuilder. A Builder must not be used after Build.
//
// The typed Append methods panic when called on a builder of another type
// (a caller bug); Append and AppendText return errors for bad values.
type Builder struct {
	c     Column
	n     int
	index map[string]int32
}

// NewBuilder returns a Builder for a column named name of type t, with room
// for capacity values. It panics if t is not a valid Type.
func NewBuilder(name string, t Type, capacity int) *Builder {
	if !t.Valid() {
		panic(fmt.Sprintf("frame: NewBuilder: invalid type %d", uint8(t)))
	}
	b := &Builder{c: Column{Name: name, Type: t}}
	switch t {
	case Float:
		b.c.Floats = make([]float64, 0, capacity)
	case Int:
		b.c.Ints = make([]int64, 0, capacity)
	case Bool:
		b.c.Bools = make([]bool, 0, capacity)
	case String:
		b.c.Codes = make([]int32, 0, capacity)
		b.c.Dict = []string{}
		b.index = make(map[string]int32)
	case Time:
		b.c.Times = make([]int64, 0, capacity)
	}
	return b
}

// Type returns the type of the column being built.
func (b *Builder) Type() Type { return b.c.Type }

// Len returns the number of values appended so far.
func (b *Builder) Len() int { return b.n }

func (b *Builder) want(t Type, fn string) {
	if b.c.Type != t {
		panic(fmt.Sprintf("frame: Builder.%s on a %s column", fn, b.c.Type))
	}
}

// AppendNull appends a missing value.
func (b *Builder) AppendNull() {
	i := b.n
	switch b.c.Type {
	case Float:
		b.c.Floats = append(b.c.Floats, math.NaN())
	case Int:
		b.c.Ints = append(b.c.Ints, 0)
	case Bool:
		b.c.Bools = append(b.c.Bools, false)
	case String:
		b.c.Codes = append(b.c.Codes, -1)
	case Time:
		b.c.Times = append(b.c.Times, 0)
	}
	b.n++
	for len(b.c.nulls) < (b.n+63)/64 {
		b.c.nulls = append(b.c.nulls, 0)
	}
	setBit(b.c.nulls, i)
}

// AppendFloat appends v to a Float column; NaN is appended as missing.
func (b *Builder) AppendFloat(v float64) {
	b.want(Float, "AppendFloat")
	if v != v {
		b.AppendNull()
		return
	}
	b.c.Floats = append(b.c.Floats, v)
	b.n++
}

// AppendInt appends v to an Int column.
func (b *Builder) AppendInt(v int64) {
	b.want(Int, "AppendInt")
	b.c.Ints = append(b.c.Ints, v)
	b.n++
}

// AppendBool appends v to a Bool column.
func (b *Builder) AppendBool(v bool) {
	b.want(Bool, "AppendBool")
	b.c.Bools = append(b.c.Bools, v)
	b.n++
}

// AppendString appends v to a String column.
func (b *Builder) AppendString(v string) {
	b.want(String, "AppendString")
	k, ok := b.index[v]
	if !ok {
		k = int32(len(b.c.Dict))
		b.index[v] = k
		b.c.Dict = append(b.c.Dict, v)
	}
	b.c.Codes = append(b.c.Codes, k)
	b.n++
}

// AppendTime appends t to a Time column. A time outside the years 1678–2261
// is appended as missing.
func (b *Builder) AppendTime(t time.Time) {
	b.want(Time, "AppendTime")
	ns, ok := unixNano(t)
	if !ok {
		b.AppendNull()
		return
	}
	b.c.Times = append(b.c.Times, ns)
	b.n++
}

// AppendUnixNano appends Unix nanoseconds to a Time column.
func (b *Builder) AppendUnixNano(ns int64) {
	b.want(Time, "AppendUnixNano")
	b.c.Times = append(b.c.Times, ns)
	b.n++
}

// Append appends v, converting where no information is lost: nil appends a
// missing value; float64, float32, any integer type, bool, string and
// time.Time are accepted by the column types that can hold them (an integer
// by a Float column, a whole float by an Int column, any value by a String
// column as its text). It returns an error for other combinations.
func (b *Builder) Append(v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b.c.Type {
	case Float:
		switch x := v.(type) {
		case float64:
			b.AppendFloat(x)
			return nil
		case float32:
			b.AppendFloat(float64(x))
			return nil
		}
		if i, ok := asInt(v); ok {
			b.AppendFloat(float64(i))
			return nil
		}
	case Int:
		if i, ok := asInt(v); ok {
			b.AppendInt(i)
			return nil
		}
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			b.AppendInt(int64(f))
			return nil
		}
	case Bool:
		if x, ok := v.(bool); ok {
			b.AppendBool(x)
			return nil
		}
	case String:
		switch x := v.(type) {
		case string:
			b.AppendString(x)
		case float64:
			b.AppendString(string(appendFloat(nil, x)))
		case bool:
			b.AppendString(strconv.FormatBool(x))
		case time.Time:
			if ns, ok := unixNano(x); ok {
				b.AppendString(string(appendTime(nil, ns)))
			} else {
				b.AppendString(x.UTC().Format(time.RFC3339Nano))
			}
		default:
			if i, ok := asInt(v); ok {
				b.AppendString(strconv.FormatInt(i, 10))
			} else {
				b.AppendString(fmt.Sprint(v))
			}
		}
		return nil
	case Time:
		if x, ok := v.(time.Time); ok {
			ns, ok := unixNano(x)
			if !ok {
				return fmt.Errorf("frame: column %q: time %v out of range", b.c.Name, x)
			}
			b.AppendUnixNano(ns)
			return nil
		}
	}
	return fmt.Errorf("frame: column %q: cannot append %T to a %s column", b.c.Name, v, b.c.Type)
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// AppendText parses s as a value of the builder's type and appends it, the
// way ReadCSV parses a field of a column with that type: empty s is missing;
// floats and ints in Go syntax (decimal only); bools as true/false in any
// case; times as RFC 3339 or 2006-01-02. It returns an error wrapping
// ErrBadValue when s does not parse.
func (b *Builder) AppendText(s string) error {
	if s == "" {
		b.AppendNull()
		return nil
	}
	if b.c.Type == String {
		b.AppendString(s)
		return nil
	}
	v, ok := parseAs([]byte(s), b.c.Type)
	if !ok {
		return fmt.Errorf("%w: cannot parse %q as %s", ErrBadValue, s, b.c.Type)
	}
	switch b.c.Type {
	case Float:
		b.AppendFloat(math.Float64frombits(v))
	case Int:
		b.AppendInt(int64(v))
	case Bool:
		b.AppendBool(v != 0)
	case Time:
		b.AppendUnixNano(int64(v))
	case String:
		// appended as text above
	}
	return nil
}

// Build returns the column. The Builder must not be used afterwards.
func (b *Builder) Build() *Column {
	c := b.c
	if c.nulls != nil && len(c.nulls) != (b.n+63)/64 {
		c.nulls = cloneBits(c.nulls, b.n)
	}
	b.c = Column{}
	b.index = nil
	return &c
}
