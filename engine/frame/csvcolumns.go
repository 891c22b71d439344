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

	// Fix up blocks: ints to floats, and re-read for String columns.
	errs := make([]error, len(blocks))
	runBlocks(len(blocks), workers, func(i int) {
		b := blocks[i]
		var acts []action
		for c := 0; c < ncol; c++ {
			st := &b.cols[c]
			redo := Type(0)
			switch {
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
				for _, s := range r.slots {
					copy(s[at:at+b.rows], s[b.rowStart:b.rowStart+b.rows])
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
		r.slots[c] = nil
	})
	return cols, nil
}

// buildColumn turns column c's slot into a Column of type t with n rows.
func (r *csvReader) buildColumn(c int, t Type, blocks []*block, n int) *Column {
	col := &Column{Name: r.names[c], Type: t}
	slot := r.slots[c][:n:n]
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
		f := u64AsFloat64(slot)
		if nulls != nil {
			for _, b := range blocks {
				for _, j := range b.cols[c].nulls {
					f[b.rowStart+int(j)] = math.NaN()
				}
			}
		}
		col.Floats = f
	case Int:
		col.Ints = u64AsInt64(slot)
	case Time:
		col.Times = u64AsInt64(slot)
	case Bool:
		v := make([]bool, n)
		for i, x := range slot {
			v[i] = x != 0
		}
		col.Bools = v
	case String:
		codes := make([]int32, n)
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
			part := slot[b.rowStart : b.rowStart+b.rows]
			out := codes[b.rowStart : b.rowStart+b.rows]
			for i, k := range part {
				if len(remap) > 0 {
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
