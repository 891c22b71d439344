package frame

import (
	"fmt"
	"math"
	"unsafe"
)

// finish decides each column's type, re-reads blocks where needed, packs the
// rows and builds the columns.
func (r *csvReader) finish(blocks []*block, nrows, workers int) ([]*Column, error) {
	ncol := r.ncol
	types := make([]Type, ncol)
	actual := 0
	for _, b := range blocks {
		actual += b.rows
	}
	for c := range types {
		if t := r.forced[c]; t != 0 {
			types[c] = t
			continue
		}
		var t Type
		for _, b := range blocks {
			k := b.cols[c].kind
			switch {
			case k == 0 || k == t:
			case t == 0:
				t = k
			case (t == Int && k == Float) || (t == Float && k == Int):
				t = Float
			default:
				t = String
			}
		}
		if t == 0 {
			t = Float
			if actual == 0 {
				t = String
			}
		}
		types[c] = t
	}

	// A column whose storage has another width than its type needs (its
	// first values had another kind, or it has no values) gets storage of
	// the right width, and every block with values in it reads it again.
	full := make([]bool, ncol)
	for c, t := range types {
		if d := &r.data[c]; d.width() != width(t) {
			*d = colData{}
			d.alloc(width(t), nrows)
			full[c] = true
		}
	}

	// Fix up blocks: ints to floats, and re-read for String columns.
	errs := make([]error, len(blocks))
	runBlocks(len(blocks), workers, func(i int) {
		b := blocks[i]
		var acts []action
		for c := 0; c < ncol; c++ {
			st := &b.cols[c]
			redo := Type(0)
			switch {
			case full[c]:
				if st.kind != 0 {
					redo = types[c]
				}
			case types[c] == Float && (st.kind == Int || st.redo):
				if st.kind == Int {
					r.promote(b, c, b.rows)
					st.kind = Float
				}
				if st.redo {
					redo = Float
				}
			case types[c] == String && st.kind != 0 && (st.kind != String || st.restart):
				redo = String
			}
			if redo != 0 {
				if acts == nil {
					acts = make([]action, ncol)
					for j := range acts {
						acts[j] = actSkip
					}
				}
				acts[c] = actForce
				*st = blockCol{kind: redo}
				r.attach(b, c)
			}
		}
		if acts != nil {
			if err := r.src.load(b); err != nil {
				errs[i] = fmt.Errorf("frame: read %s: %w", nameOr(r.name), err)
				return
			}
			if err := r.guard(func() { r.parseBlock(b, acts) }); err != nil {
				errs[i] = err
				return
			}
			r.src.release(b)
			errs[i] = b.err
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	// Pack rows when blank lines left gaps.
	if actual != nrows {
		at := 0
		for _, b := range blocks {
			if b.rowStart != at {
				for c := range r.data {
					d := &r.data[c]
					lo, hi := b.rowStart, b.rowStart+b.rows
					switch {
					case d.w8 != nil:
						copy(d.w8[at:], d.w8[lo:hi])
					case d.w4 != nil:
						copy(d.w4[at:], d.w4[lo:hi])
					default:
						copy(d.w1[at:], d.w1[lo:hi])
					}
				}
				b.rowStart = at
			}
			at += b.rows
		}
	}
	n := actual
	cols := make([]*Column, ncol)
	parallelFor(ncol, n > 1<<14 && workers > 1, func(c int) {
		cols[c] = r.buildColumn(c, types[c], blocks, n)
		r.data[c] = colData{}
	})
	return cols, nil
}

// buildColumn turns column c's storage into a Column of type t with n rows.
func (r *csvReader) buildColumn(c int, t Type, blocks []*block, n int) *Column {
	col := &Column{Name: r.names[c], Type: t}
	d := &r.data[c]
	var nulls []uint64
	for _, b := range blocks {
		for _, j := range b.cols[c].nulls {
			if nulls == nil {
				nulls = make([]uint64, (n+63)/64)
			}
			setBit(nulls, b.rowStart+int(j))
		}
	}
	col.nulls = nulls
	switch t {
	case Float:
		f := u64AsFloat64(d.w8[:n:n])
		if nulls != nil {
			for _, b := range blocks {
				for _, j := range b.cols[c].nulls {
					f[b.rowStart+int(j)] = math.NaN()
				}
			}
		}
		col.Floats = f
	case Int:
		col.Ints = u64AsInt64(d.w8[:n:n])
	case Time:
		col.Times = u64AsInt64(d.w8[:n:n])
	case Bool:
		col.Bools = d.w1[:n:n]
	case String:
		// The block-local codes become the column's codes in place.
		codes := d.w4[:n:n]
		var dict []string
		index := make(map[string]int32)
		for _, b := range blocks {
			st := &b.cols[c]
			remap := make([]int32, len(st.dict))
			for k, s := range st.dict {
				g, ok := index[s]
				if !ok {
					g = int32(len(dict))
					dict = append(dict, s)
					index[s] = g
				}
				remap[k] = g
			}
			out := codes[b.rowStart : b.rowStart+b.rows]
			if len(remap) > 0 {
				for i, k := range out {
					out[i] = remap[k]
				}
			}
			for _, j := range st.nulls {
				out[j] = -1
			}
		}
		if dict == nil {
			dict = []string{}
		}
		col.Codes, col.Dict = codes, dict
	}
	return col
}

func u64AsFloat64(s []uint64) []float64 {
	if len(s) == 0 {
		return []float64{}
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(&s[0])), len(s))
}

func u64AsInt64(s []uint64) []int64 {
	if len(s) == 0 {
		return []int64{}
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&s[0])), len(s))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
