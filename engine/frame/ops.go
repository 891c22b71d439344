package frame

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// SortKey names a column to sort by and the direction.
type SortKey struct {
	Column string
	Desc   bool
}

// SortBy returns the rows sorted by the keys, the first key first. The sort
// is stable, and missing values come last whatever the direction. Strings
// sort by bytes, bools false before true, times chronologically. It
// returns an error wrapping ErrNoColumn for an unknown key column; no keys
// returns f.
func (f *Frame) SortBy(keys []SortKey) (*Frame, error) {
	if len(keys) == 0 {
		return f, nil
	}
	type sortCol struct {
		c    *Column
		desc bool
		rank []int32
	}
	sc := make([]sortCol, len(keys))
	for i, k := range keys {
		c, j := f.ColByName(k.Column)
		if j < 0 {
			return nil, fmt.Errorf("frame: sort: %w %q", ErrNoColumn, k.Column)
		}
		sc[i] = sortCol{c: c, desc: k.Desc}
		if c.Type == String {
			sc[i].rank = dictRanks(c.Dict)
		}
	}
	compare := func(s *sortCol, a, b int) int {
		c := s.c
		if c.nulls != nil {
			na, nb := c.IsNull(a), c.IsNull(b)
			switch {
			case na && nb:
				return 0
			case na:
				return 1
			case nb:
				return -1
			}
		}
		var r int
		switch c.Type {
		case Float:
			r = cmp.Compare(c.Floats[a], c.Floats[b])
		case Int:
			r = cmp.Compare(c.Ints[a], c.Ints[b])
		case Time:
			r = cmp.Compare(c.Times[a], c.Times[b])
		case Bool:
			r = cmpBool(c.Bools[a], c.Bools[b])
		case String:
			r = cmp.Compare(s.rank[c.Codes[a]], s.rank[c.Codes[b]])
		}
		if s.desc {
			r = -r
		}
		return r
	}
	idx := make([]int, f.nrows)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		for i := range sc {
			if r := compare(&sc[i], a, b); r != 0 {
				return r
			}
		}
		return cmp.Compare(a, b) // stable
	})
	return f.Take(idx), nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// dictRanks returns each dictionary entry's position in sorted order.
func dictRanks(dict []string) []int32 {
	order := make([]int32, len(dict))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(dict[a], dict[b]) })
	rank := make([]int32, len(dict))
	for r, k := range order {
		rank[k] = int32(r)
	}
	return rank
}

// appendKey appends an encoding of row i of c that is equal for two rows
// exactly when their values are equal (missing equals missing; 0 and -0
// are equal). With byValue, strings are encoded by their text, so keys from
// different frames compare; otherwise by their code.
func appendKey(b []byte, c *Column, i int, byValue bool) []byte {
	if c.IsNull(i) {
		return append(b, 0)
	}
	switch c.Type {
	case Float:
		v := c.Floats[i]
		if v == 0 {
			v = 0
		}
		b = append(b, 1)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	case Int:
		b = append(b, 1)
		return binary.LittleEndian.AppendUint64(b, uint64(c.Ints[i]))
	case Time:
		b = append(b, 1)
		return binary.LittleEndian.AppendUint64(b, uint64(c.Times[i]))
	case Bool:
		if c.Bools[i] {
			return append(b, 2)
		}
		return append(b, 1)
	case String:
		b = append(b, 1)
		if byValue {
			s := c.Dict[c.Codes[i]]
			b = binary.AppendUvarint(b, uint64(len(s)))
			return append(b, s...)
		}
		return binary.LittleEndian.AppendUint32(b, uint32(c.Codes[i]))
	}
	return b
}

// Dedupe returns the frame without rows whose values in the subset columns
// (all columns when subset is empty) repeat an earlier row's; the first of
// each group is kept, in order. Missing equals missing. It returns an error
// wrapping ErrNoColumn for an unknown column.
func (f *Frame) Dedupe(subset []string) (*Frame, error) {
	idx, err := f.lookup(subset)
	if err != nil {
		return nil, fmt.Errorf("frame: dedupe: %w", err)
	}
	cols := make([]*Column, len(idx))
	for i, j := range idx {
		cols[i] = f.cols[j]
	}
	seen := make(map[string]struct{}, f.nrows)
	var keep []int
	var buf []byte
	for r := 0; r < f.nrows; r++ {
		buf = buf[:0]
		for _, c := range cols {
			buf = appendKey(buf, c, r, false)
		}
		if _, dup := seen[string(buf)]; dup {
			continue
		}
		seen[string(buf)] = struct{}{}
		keep = append(keep, r)
	}
	if len(keep) == f.nrows {
		return f, nil
	}
	return f.Take(keep), nil
}

// DropNA returns the frame without rows that have missing values in the
// subset columns (all columns when subset is empty): with how "any" (or
// ""), rows with any missing value; with "all", rows with all of them
// missing. It returns an error for another how, and one wrapping
// ErrNoColumn for an unknown column.
func (f *Frame) DropNA(subset []string, how string) (*Frame, error) {
	if how == "" {
		how = "any"
	}
	if how != "any" && how != "all" {
		return nil, fmt.Errorf("frame: dropna: how must be \"any\" or \"all\", not %q", how)
	}
	idx, err := f.lookup(subset)
	if err != nil {
		return nil, fmt.Errorf("frame: dropna: %w", err)
	}
	var cols []*Column
	for _, j := range idx {
		if f.cols[j].nulls != nil {
			cols = append(cols, f.cols[j])
		}
	}
	if len(cols) == 0 || (how == "all" && len(cols) < len(idx)) {
		return f, nil
	}
	keep := make([]int, 0, f.nrows)
	for r := 0; r < f.nrows; r++ {
		missing := 0
		for _, c := range cols {
			if c.IsNull(r) {
				missing++
			}
		}
		if (how == "any" && missing == 0) || (how == "all" && missing < len(idx)) {
			keep = append(keep, r)
		}
	}
	if len(keep) == f.nrows {
		return f, nil
	}
	return f.Take(keep), nil
}
