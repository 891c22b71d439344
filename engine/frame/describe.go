package frame

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"math"
	"slices"
)

// ColumnSummary describes one column, like a column of pandas'
// DataFrame.describe(include="all"). Statistics that do not apply are NaN
// (and null in JSON).
type ColumnSummary struct {
	Name    string `json:"name"`
	Type    Type   `json:"type"`
	Count   int    `json:"count"`   // values present
	Missing int    `json:"missing"` // values missing
	// Mean, Std, Min and Max summarise Float, Int and Time columns (times as
	// Unix seconds). Std is the sample standard deviation (n-1 in the
	// denominator, as pandas), NaN with fewer than two values.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// Unique and Top summarise String and Bool columns: the number of
	// distinct values present and the (up to) five most frequent, most
	// frequent first, ties in order of first appearance.
	Unique int          `json:"unique"`
	Top    []ValueCount `json:"top,omitempty"`
}

// ValueCount is a value, formatted as Column.Str does, and its count.
type ValueCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// MarshalJSON encodes the summary with NaN statistics as null.
func (s ColumnSummary) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	type out struct {
		Name    string       `json:"name"`
		Type    Type         `json:"type"`
		Count   int          `json:"count"`
		Missing int          `json:"missing"`
		Mean    *float64     `json:"mean"`
		Std     *float64     `json:"std"`
		Min     *float64     `json:"min"`
		Max     *float64     `json:"max"`
		Unique  int          `json:"unique"`
		Top     []ValueCount `json:"top,omitempty"`
	}
	return json.Marshal(out{s.Name, s.Type, s.Count, s.Missing, num(s.Mean), num(s.Std),
		num(s.Min), num(s.Max), s.Unique, s.Top})
}

// UnmarshalJSON decodes what MarshalJSON encodes, null as NaN.
func (s *ColumnSummary) UnmarshalJSON(b []byte) error {
	var in struct {
		Name    string       `json:"name"`
		Type    Type         `json:"type"`
		Count   int          `json:"count"`
		Missing int          `json:"missing"`
		Mean    *float64     `json:"mean"`
		Std     *float64     `json:"std"`
		Min     *float64     `json:"min"`
		Max     *float64     `json:"max"`
		Unique  int          `json:"unique"`
		Top     []ValueCount `json:"top,omitempty"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	f := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	*s = ColumnSummary{Name: in.Name, Type: in.Type, Count: in.Count, Missing: in.Missing,
		Mean: f(in.Mean), Std: f(in.Std), Min: f(in.Min), Max: f(in.Max), Unique: in.Unique, Top: in.Top}
	return nil
}

// Describe summarises each column; see ColumnSummary.
func (f *Frame) Describe() []ColumnSummary {
	out := make([]ColumnSummary, len(f.cols))
	parallelFor(len(f.cols), f.nrows*len(f.cols) > 1<<16, func(j int) {
		out[j] = describe(f.cols[j])
	})
	return out
}

func describe(c *Column) ColumnSummary {
	nan := math.NaN()
	n := c.Len()
	miss := c.NullCount()
	s := ColumnSummary{Name: c.Name, Type: c.Type, Count: n - miss, Missing: miss,
		Mean: nan, Std: nan, Min: nan, Max: nan}
	switch c.Type {
	case Float, Int, Time:
		if s.Count == 0 {
			return s
		}
		sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
		for i := 0; i < n; i++ {
			v, ok := c.Float(i)
			if !ok {
				continue
			}
			sum += v
			lo = min(lo, v)
			hi = max(hi, v)
		}
		mean := sum / float64(s.Count)
		s.Mean, s.Min, s.Max = mean, lo, hi
		if s.Count > 1 {
			ss, comp := 0.0, 0.0
			for i := 0; i < n; i++ {
				if v, ok := c.Float(i); ok {
					d := v - mean
					ss += d * d
					comp += d
				}
			}
			// Corrected two-pass formula: exact when sum/n is rounded.
			variance := (ss - comp*comp/float64(s.Count)) / float64(s.Count-1)
			s.Std = math.Sqrt(max(variance, 0))
		}
	case String, Bool:
		var counts []int
		var order []string
		if c.Type == String {
			counts = make([]int, len(c.Dict))
			first := make([]int32, 0, len(c.Dict))
			for i, k := range c.Codes {
				if k < 0 || c.IsNull(i) {
					continue
				}
				if counts[k] == 0 {
					first = append(first, k)
				}
				counts[k]++
			}
			cs := make([]int, len(first))
			for i, k := range first {
				order = append(order, c.Dict[k])
				cs[i] = counts[k]
			}
			counts = cs
		} else {
			var tf [2]int
			firstTrue := -1
			seenFirst := false
			for i, v := range c.Bools {
				if c.IsNull(i) {
					continue
				}
				if !seenFirst {
					seenFirst = true
					if v {
						firstTrue = 1
					} else {
						firstTrue = 0
					}
				}
				if v {
					tf[1]++
				} else {
					tf[0]++
				}
			}
			names := [2]string{"false", "true"}
			for _, b := range []int{firstTrue, 1 - firstTrue} {
				if b >= 0 && b <= 1 && tf[b] > 0 {
					order = append(order, names[b])
					counts = append(counts, tf[b])
				}
			}
		}
		s.Unique = len(order)
		idx := make([]int, len(order))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return counts[b] - counts[a] })
		for _, i := range idx[:min(5, len(idx))] {
			s.Top = append(s.Top, ValueCount{Value: order[i], Count: counts[i]})
		}
	}
	return s
}

// Hash writes a deterministic encoding of the frame's names, types and
// values to h: frames with equal schemas and values give equal bytes,
// however their dictionaries are ordered. It never returns an error (writes
// to a hash.Hash do not fail).
func (f *Frame) Hash(h hash.Hash) {
	var buf []byte
	flush := func(force bool) {
		if len(buf) >= 64<<10 || (force && len(buf) > 0) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	buf = append(buf, "sluice-frame-v1\x00"...)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(f.cols)))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(f.nrows))
	for _, c := range f.cols {
		buf = binary.AppendUvarint(buf, uint64(len(c.Name)))
		buf = append(buf, c.Name...)
		buf = append(buf, byte(c.Type))
		for i := 0; i < f.nrows; i++ {
			if c.IsNull(i) {
				buf = append(buf, 0)
			} else {
				switch c.Type {
				case Float:
					buf = append(buf, 1)
					buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(c.Floats[i]))
				case Int:
					buf = append(buf, 1)
					buf = binary.LittleEndian.AppendUint64(buf, uint64(c.Ints[i]))
				case Time:
					buf = append(buf, 1)
					buf = binary.LittleEndian.AppendUint64(buf, uint64(c.Times[i]))
				case Bool:
					if c.Bools[i] {
						buf = append(buf, 2)
					} else {
						buf = append(buf, 1)
					}
				case String:
					s := c.Dict[c.Codes[i]]
					buf = append(buf, 1)
					buf = binary.AppendUvarint(buf, uint64(len(s)))
					buf = append(buf, s...)
				}
			}
			flush(false)
		}
	}
	flush(true)
}

// Fingerprint returns the hex SHA-256 of the frame's Hash encoding.
func (f *Frame) Fingerprint() string {
	h := sha256.New()
	f.Hash(h)
	return hex.EncodeToString(h.Sum(nil))
}
