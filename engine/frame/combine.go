package frame

import (
	"fmt"
)

// Concat stacks frames vertically. Every frame must have the same column
// names (in any order; the first frame's order is kept). Types are unified
// per column: equal types stay, int and float give float, and a part whose
// values are all missing takes the others' type; other mixtures are errors
// wrapping ErrType. String columns get one dictionary in order of first
// appearance. Concat of no frames is an empty frame.
func Concat(frames ...*Frame) (*Frame, error) {
	if len(frames) == 0 {
		return mustFrame(nil, 0), nil
	}
	first := frames[0]
	total := 0
	for k, f := range frames {
		if len(f.cols) != len(first.cols) {
			return nil, fmt.Errorf("frame: concat: frame %d has %d columns, frame 0 has %d", k, len(f.cols), len(first.cols))
		}
		for _, c := range f.cols {
			if _, ok := first.index[c.Name]; !ok {
				return nil, fmt.Errorf("frame: concat: frame %d column %q: %w in frame 0", k, c.Name, ErrNoColumn)
			}
		}
		total += f.nrows
	}
	cols := make([]*Column, len(first.cols))
	for j, fc := range first.cols {
		parts := make([]*Column, len(frames))
		for k, f := range frames {
			parts[k], _ = f.ColByName(fc.Name)
		}
		t, err := unifyTypes(parts)
		if err != nil {
			return nil, fmt.Errorf("frame: concat: %w", err)
		}
		for k, p := range parts {
			parts[k], err = convertPart(p, t)
			if err != nil {
				return nil, fmt.Errorf("frame: concat: %w", err)
			}
		}
		cols[j] = concatColumns(fc.Name, t, parts, total)
	}
	return mustFrame(cols, total), nil
}

// unifyTypes returns the type that columns of the given types combine into.
func unifyTypes(parts []*Column) (Type, error) {
	var t Type
	for _, p := range parts {
		if p.NullCount() == p.Len() {
			continue // no values (or no rows): takes the others' type
		}
		switch {
		case t == 0 || t == p.Type:
			t = p.Type
		case (t == Int && p.Type == Float) || (t == Float && p.Type == Int):
			t = Float
		default:
			return 0, fmt.Errorf("column %q is %s in one frame and %s in another: %w", p.Name, t, p.Type, ErrType)
		}
	}
	if t == 0 {
		t = parts[0].Type
	}
	return t, nil
}

// convertPart returns p as type t: cast for int → float, all missing for a
// part with no values.
func convertPart(p *Column, t Type) (*Column, error) {
	if p.Type == t {
		return p, nil
	}
	if p.NullCount() == p.Len() {
		rc := newRawColumn(p.Name, t, p.Len())
		if t == String {
			b := NewBuilder(p.Name, String, p.Len())
			for range p.Len() {
				b.AppendNull()
			}
			return b.Build(), nil
		}
		for i := range p.Len() {
			rc.setMissing(i)
		}
		return rc.col, nil
	}
	return CastColumn(p, t)
}

// concatColumns joins same-typed parts into one column of n rows.
func concatColumns(name string, t Type, parts []*Column, n int) *Column {
	out := &Column{Name: name, Type: t}
	hasNulls := false
	for _, p := range parts {
		if p.nulls != nil {
			hasNulls = true
		}
	}
	if hasNulls {
		out.nulls = make([]uint64, (n+63)/64)
		at := 0
		for _, p := range parts {
			if p.nulls != nil {
				for i := 0; i < p.Len(); i++ {
					if p.IsNull(i) {
						setBit(out.nulls, at+i)
					}
				}
			}
			at += p.Len()
		}
	}
	switch t {
	case Float:
		out.Floats = make([]float64, 0, n)
		for _, p := range parts {
			out.Floats = append(out.Floats, p.Floats...)
		}
	case Int:
		out.Ints = make([]int64, 0, n)
		for _, p := range parts {
			out.Ints = append(out.Ints, p.Ints...)
		}
	case Time:
		out.Times = make([]int64, 0, n)
		for _, p := range parts {
			out.Times = append(out.Times, p.Times...)
		}
	case Bool:
		out.Bools = make([]bool, 0, n)
		for _, p := range parts {
			out.Bools = append(out.Bools, p.Bools...)
		}
	case String:
		out.Codes = make([]int32, 0, n)
		out.Dict = []string{}
		index := make(map[string]int32)
		for _, p := range parts {
			remap := make([]int32, len(p.Dict))
			for k := range remap {
				remap[k] = -2 // not seen yet
			}
			for _, code := range p.Codes {
				if code < 0 {
					out.Codes = append(out.Codes, -1)
					continue
				}
				g := remap[code]
				if g == -2 {
					s := p.Dict[code]
					var ok bool
					if g, ok = index[s]; !ok {
						g = int32(len(out.Dict))
						out.Dict = append(out.Dict, s)
						index[s] = g
					}
					remap[code] = g
				}
				out.Codes = append(out.Codes, g)
			}
		}
	}
	return out
}

// Join joins left and right on the key columns on, which both must have,
// by hashing right's keys. how is "inner" (or ""), "left", "right" or
// "outer". The result has left's columns, then right's other columns; one
// whose name left already uses gets the suffix "_right". Key columns take
// left's value, or right's on rows only right has. Rows come in left's
// order with each left row's matches in right's order ("right": in right's
// order with each right row's matches in left's order; "outer": as "left",
// then right's unmatched rows in order). Missing key values match nothing,
// as in SQL. Key columns of types int and float are compared as floats;
// other type differences are errors wrapping ErrType.
func Join(left, right *Frame, on []string, how string) (*Frame, error) {
	if how == "" {
		how = "inner"
	}
	switch how {
	case "inner", "left", "right", "outer":
	default:
		return nil, fmt.Errorf("frame: join: how must be inner, left, right or outer, not %q", how)
	}
	if len(on) == 0 {
		return nil, fmt.Errorf("frame: join: no key columns")
	}
	lk := make([]*Column, len(on))
	rk := make([]*Column, len(on))
	isKey := make(map[string]bool, len(on))
	for i, name := range on {
		if isKey[name] {
			return nil, fmt.Errorf("frame: join: key %q given twice", name)
		}
		isKey[name] = true
		l, li := left.ColByName(name)
		r, ri := right.ColByName(name)
		if li < 0 {
			return nil, fmt.Errorf("frame: join: left: %w %q", ErrNoColumn, name)
		}
		if ri < 0 {
			return nil, fmt.Errorf("frame: join: right: %w %q", ErrNoColumn, name)
		}
		if l.Type != r.Type {
			t, err := unifyTypes([]*Column{l, r})
			if err != nil {
				return nil, fmt.Errorf("frame: join: key %w", err)
			}
			if l, err = convertPart(l, t); err != nil {
				return nil, fmt.Errorf("frame: join: %w", err)
			}
			if r, err = convertPart(r, t); err != nil {
				return nil, fmt.Errorf("frame: join: %w", err)
			}
		}
		lk[i], rk[i] = l, r
	}

	// Hash the build side: right, or left for a right join.
	build, probe := rk, lk
	bn, pn := right.nrows, left.nrows
	if how == "right" {
		build, probe = lk, rk
		bn, pn = left.nrows, right.nrows
	}
	keyOf := func(cols []*Column, i int, buf []byte) ([]byte, bool) {
		buf = buf[:0]
		for _, c := range cols {
			if c.IsNull(i) {
				return buf, false
			}
			buf = appendKey(buf, c, i, true)
		}
		return buf, true
	}
	head := make(map[string]int32, bn)
	next := make([]int32, bn)
	var buf []byte
	for i := bn - 1; i >= 0; i-- {
		var ok bool
		buf, ok = keyOf(build, i, buf)
		next[i] = -1
		if !ok {
			continue
		}
		if h, seen := head[string(buf)]; seen {
			next[i] = h
		}
		head[string(buf)] = int32(i)
	}
	var pi, bi []int // probe and build row of each output row
	matched := make([]bool, bn)
	for i := 0; i < pn; i++ {
		var ok bool
		buf, ok = keyOf(probe, i, buf)
		found := false
		if ok {
			if h, seen := head[string(buf)]; seen {
				for j := h; j >= 0; j = next[j] {
					pi = append(pi, i)
					bi = append(bi, int(j))
					matched[j] = true
					found = true
				}
			}
		}
		if !found && how != "inner" {
			pi = append(pi, i)
			bi = append(bi, -1)
		}
	}
	if how == "outer" {
		for j := 0; j < bn; j++ {
			if !matched[j] {
				pi = append(pi, -1)
				bi = append(bi, j)
			}
		}
	}
	li, ri := pi, bi
	if how == "right" {
		li, ri = bi, pi
	}
	n := len(li)

	var cols []*Column
	names := make(map[string]bool)
	keyPos := make(map[string]int, len(on))
	for i, name := range on {
		keyPos[name] = i
	}
	for _, c := range left.cols {
		if k, ok := keyPos[c.Name]; ok {
			cols = append(cols, gather2(lk[k], li, rk[k], ri))
		} else {
			cols = append(cols, gather2(c, li, nil, nil))
		}
		names[c.Name] = true
	}
	for _, c := range right.cols {
		if isKey[c.Name] {
			continue
		}
		g := gather2(c, ri, nil, nil)
		if names[g.Name] {
			g.Name += "_right"
			if names[g.Name] {
				return nil, fmt.Errorf("frame: join: %w %q", ErrDuplicateName, g.Name)
			}
		}
		names[g.Name] = true
		cols = append(cols, g)
	}
	return newFrame(cols, n)
}
