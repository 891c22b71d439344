package frame

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Column is one named, typed column of values. Exactly one data slice is set,
// the one that belongs to Type; its length is the column's length.
//
// Missing values are kept in a bitset that is nil when the column has none.
// At a missing position the data slice holds a placeholder: NaN in Floats,
// 0 in Ints and Times, false in Bools and -1 in Codes.
//
// A Column placed in a Frame must not be modified afterwards: frames share
// columns (Select, Rename, WithColumn and others return frames that reuse
// them).
type Column struct {
	Name string
	Type Type

	Floats []float64 // Float: the values; NaN marks a missing value
	Ints   []int64   // Int: the values
	Bools  []bool    // Bool: the values
	Codes  []int32   // String: index into Dict for each row; -1 when missing
	Dict   []string  // String: the distinct values, in order of first appearance
	Times  []int64   // Time: Unix nanoseconds, UTC

	nulls []uint64 // bit i set: row i missing; nil when no value is missing
}

// Len returns the number of rows.
func (c *Column) Len() int {
	switch c.Type {
	case Float:
		return len(c.Floats)
	case Int:
		return len(c.Ints)
	case Bool:
		return len(c.Bools)
	case String:
		return len(c.Codes)
	case Time:
		return len(c.Times)
	}
	return 0
}

// IsNull reports whether row i is missing.
func (c *Column) IsNull(i int) bool {
	return c.nulls != nil && c.nulls[i>>6]&(1<<(uint(i)&63)) != 0
}

// HasNulls reports whether any value is missing.
func (c *Column) HasNulls() bool { return c.nulls != nil }

// NullCount returns the number of missing values.
func (c *Column) NullCount() int {
	n := 0
	for _, w := range c.nulls {
		n += popcount(w)
	}
	return n
}

// NullBits returns the missing-value bitset (bit i of word i/64 set when row
// i is missing), or nil when no value is missing. The caller must not modify it.
func (c *Column) NullBits() []uint64 { return c.nulls }

// Float returns the numeric view of row i: the value of a Float or Int
// column, 1 or 0 for Bool, and Unix seconds (with fraction) for Time.
// ok is false when the value is missing or the column is a String column.
func (c *Column) Float(i int) (v float64, ok bool) {
	if c.IsNull(i) {
		return math.NaN(), false
	}
	switch c.Type {
	case Float:
		return c.Floats[i], true
	case Int:
		return float64(c.Ints[i]), true
	case Bool:
		if c.Bools[i] {
			return 1, true
		}
		return 0, true
	case Time:
		return float64(c.Times[i]) / 1e9, true
	case String: // no numeric view
	}
	return math.NaN(), false
}

// Str returns row i formatted as WriteCSV writes it: "" when missing, floats
// in the shortest form that parses back to the same value (with ".0" added
// to whole numbers), times as "2006-01-02" when at midnight UTC and as
// RFC 3339 with nanoseconds otherwise.
func (c *Column) Str(i int) string {
	if c.IsNull(i) {
		return ""
	}
	if c.Type == String {
		return c.Dict[c.Codes[i]]
	}
	var buf [64]byte
	return string(c.appendValue(buf[:0], i))
}

// appendValue appends the text of the non-missing value at row i.
func (c *Column) appendValue(b []byte, i int) []byte {
	switch c.Type {
	case Float:
		return appendFloat(b, c.Floats[i])
	case Int:
		return strconv.AppendInt(b, c.Ints[i], 10)
	case Bool:
		return strconv.AppendBool(b, c.Bools[i])
	case String:
		return append(b, c.Dict[c.Codes[i]]...)
	case Time:
		return appendTime(b, c.Times[i])
	}
	return b
}

// Value returns row i as float64, int64, bool, string or time.Time (UTC),
// or nil when the value is missing.
func (c *Column) Value(i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch c.Type {
	case Float:
		return c.Floats[i]
	case Int:
		return c.Ints[i]
	case Bool:
		return c.Bools[i]
	case String:
		return c.Dict[c.Codes[i]]
	case Time:
		return time.Unix(0, c.Times[i]).UTC()
	}
	return nil
}

// TimeAt returns row i of a Time column as a time.Time in UTC; ok is false
// when the value is missing or the column is not a Time column.
func (c *Column) TimeAt(i int) (t time.Time, ok bool) {
	if c.Type != Time || c.IsNull(i) {
		return time.Time{}, false
	}
	return time.Unix(0, c.Times[i]).UTC(), true
}

// Renamed returns a copy of c (sharing its data) with a new name.
func (c *Column) Renamed(name string) *Column {
	d := *c
	d.Name = name
	return &d
}

// Nulls returns the missing-value mask as one bool per row.
func (c *Column) Nulls() []bool {
	out := make([]bool, c.Len())
	if c.nulls != nil {
		for i := range out {
			out[i] = c.IsNull(i)
		}
	}
	return out
}

// check validates the column's shape. It returns an error naming the
// column when the data slice for its type is missing, another one is set,
// the bitset is the wrong size or a string code is out of range.
func (c *Column) check() error {
	if !c.Type.Valid() {
		return fmt.Errorf("frame: column %q: invalid type %d", c.Name, uint8(c.Type))
	}
	set := 0
	if c.Floats != nil {
		set++
	}
	if c.Ints != nil {
		set++
	}
	if c.Bools != nil {
		set++
	}
	if c.Codes != nil {
		set++
	}
	if c.Times != nil {
		set++
	}
	if set > 1 {
		return fmt.Errorf("frame: column %q: more than one data slice set", c.Name)
	}
	n := c.Len()
	if n > 0 && set == 0 {
		return fmt.Errorf("frame: column %q: data slice for %s not set", c.Name, c.Type)
	}
	if set == 1 && n == 0 && c.dataLenAny() != 0 {
		return fmt.Errorf("frame: column %q: data slice does not match type %s", c.Name, c.Type)
	}
	if c.nulls != nil && len(c.nulls) != (n+63)/64 {
		return fmt.Errorf("frame: column %q: null bitset has wrong size", c.Name)
	}
	if c.Type == String {
		for i, k := range c.Codes {
			if k < -1 || int(k) >= len(c.Dict) {
				return fmt.Errorf("frame: column %q: row %d: code %d out of range", c.Name, i, k)
			}
		}
	}
	return nil
}

func (c *Column) dataLenAny() int {
	return len(c.Floats) + len(c.Ints) + len(c.Bools) + len(c.Codes) + len(c.Times)
}

// normalized returns c, or a copy of c whose null bitset also marks NaN
// floats and -1 codes as missing, and whose placeholders are canonical.
func (c *Column) normalized() *Column {
	switch c.Type {
	case Float:
		var nb []uint64
		for i, v := range c.Floats {
			if v != v && !c.IsNull(i) {
				if nb == nil {
					nb = cloneBits(c.nulls, len(c.Floats))
				}
				setBit(nb, i)
			}
		}
		if nb != nil {
			d := *c
			d.nulls = nb
			return &d
		}
	case String:
		var nb []uint64
		for i, k := range c.Codes {
			if k < 0 && !c.IsNull(i) {
				if nb == nil {
					nb = cloneBits(c.nulls, len(c.Codes))
				}
				setBit(nb, i)
			}
		}
		if nb != nil {
			d := *c
			d.nulls = nb
			return &d
		}
	case Int, Bool, Time: // missing only through the bitset
	}
	return c
}

// NewFloat returns a Float column. nulls may be nil; otherwise it must have
// one entry per value and true marks a missing value. NaN values are missing
// too. The column keeps vals (it is not copied) and sets NaN at missing rows.
// NewFloat panics if len(nulls) is neither 0 nor len(vals).
func NewFloat(name string, vals []float64, nulls []bool) *Column {
	checkNulls("NewFloat", len(vals), nulls)
	c := &Column{Name: name, Type: Float, Floats: vals}
	if c.Floats == nil {
		c.Floats = []float64{}
	}
	for i, v := range vals {
		if v != v || (nulls != nil && nulls[i]) {
			c.setNull(i, len(vals))
			vals[i] = math.NaN()
		}
	}
	return c
}

// NewInt returns an Int column; see NewFloat for vals and nulls. The value at
// a missing row is set to 0.
func NewInt(name string, vals []int64, nulls []bool) *Column {
	checkNulls("NewInt", len(vals), nulls)
	c := &Column{Name: name, Type: Int, Ints: vals}
	if c.Ints == nil {
		c.Ints = []int64{}
	}
	for i := range nulls {
		if nulls[i] {
			c.setNull(i, len(vals))
			vals[i] = 0
		}
	}
	return c
}

// NewBool returns a Bool column; see NewFloat for vals and nulls. The value at
// a missing row is set to false.
func NewBool(name string, vals []bool, nulls []bool) *Column {
	checkNulls("NewBool", len(vals), nulls)
	c := &Column{Name: name, Type: Bool, Bools: vals}
	if c.Bools == nil {
		c.Bools = []bool{}
	}
	for i := range nulls {
		if nulls[i] {
			c.setNull(i, len(vals))
			vals[i] = false
		}
	}
	return c
}

// NewString returns a String column holding vals, dictionary-encoded; see
// NewFloat for nulls. vals is not kept.
func NewString(name string, vals []string, nulls []bool) *Column {
	checkNulls("NewString", len(vals), nulls)
	c := &Column{Name: name, Type: String, Codes: make([]int32, len(vals)), Dict: []string{}}
	index := make(map[string]int32)
	for i, v := range vals {
		if nulls != nil && nulls[i] {
			c.setNull(i, len(vals))
			c.Codes[i] = -1
			continue
		}
		k, ok := index[v]
		if !ok {
			k = int32(len(c.Dict))
			index[v] = k
			c.Dict = append(c.Dict, v)
		}
		c.Codes[i] = k
	}
	return c
}

// NewTime returns a Time column; see NewFloat for nulls. Values are stored as
// Unix nanoseconds in UTC; NewTime panics if one is outside the years
// 1678–2261 that int64 nanoseconds can hold. The zero time.Time is a value,
// not a missing one.
func NewTime(name string, vals []time.Time, nulls []bool) *Column {
	checkNulls("NewTime", len(vals), nulls)
	c := &Column{Name: name, Type: Time, Times: make([]int64, len(vals))}
	for i, v := range vals {
		if nulls != nil && nulls[i] {
			c.setNull(i, len(vals))
			continue
		}
		ns, ok := unixNano(v)
		if !ok {
			panic(fmt.Sprintf("frame: NewTime: row %d: time %v out of range", i, v))
		}
		c.Times[i] = ns
	}
	return c
}

func checkNulls(fn string, n int, nulls []bool) {
	if nulls != nil && len(nulls) != n {
		panic(fmt.Sprintf("frame: %s: %d values but %d null flags", fn, n, len(nulls)))
	}
}

// unixNano converts t to Unix nanoseconds, reporting whether it fits.
func unixNano(t time.Time) (int64, bool) {
	y := t.UTC().Year()
	if y < 1678 || y > 2261 {
		return 0, false
	}
	return t.UnixNano(), true
}

func (c *Column) setNull(i, n int) {
	if c.nulls == nil {
		c.nulls = make([]uint64, (n+63)/64)
	}
	setBit(c.nulls, i)
}

func setBit(b []uint64, i int) { b[i>>6] |= 1 << (uint(i) & 63) }

func cloneBits(b []uint64, n int) []uint64 {
	out := make([]uint64, (n+63)/64)
	copy(out, b)
	return out
}

func popcount(w uint64) int {
	n := 0
	for w != 0 {
		w &= w - 1
		n++
	}
	return n
}

// appendFloat appends v in the shortest form that parses back to v exactly:
// fixed notation for magnitudes in [1e-5, 1e21) with ".0" added to whole
// numbers, exponent notation otherwise, and NaN, +Inf, -Inf.
func appendFloat(b []byte, v float64) []byte {
	a := math.Abs(v)
	if a != 0 && (a < 1e-5 || a >= 1e21) || math.IsInf(v, 0) || v != v {
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	n := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	for _, ch := range b[n:] {
		if ch == '.' {
			return b
		}
	}
	return append(b, '.', '0')
}

const nsPerDay = 86400 * 1e9

// appendTime appends Unix nanoseconds ns as "2006-01-02" when at midnight
// UTC, else as RFC 3339 with nanoseconds in UTC.
func appendTime(b []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	if ns%nsPerDay == 0 {
		return t.AppendFormat(b, time.DateOnly)
	}
	return t.AppendFormat(b, time.RFC3339Nano)
}
