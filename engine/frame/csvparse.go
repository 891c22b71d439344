package frame

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// parseBlock parses the records of b into the columns' storage, following acts per
// column. It sets b.rows, or b.err at the first problem.
func (r *csvReader) parseBlock(b *block, acts []action) {
	data := b.data
	n := len(data)
	delim := r.delim
	ncol := r.ncol
	cols := b.cols
	var scratch []byte
	var num number
	row := 0
	pos := 0
	// kinds holds the column kinds while every column is a parsed Float or
	// Int column, so that records of plain numbers take fastRecord; nil
	// otherwise. never is set once a column can no longer become numeric.
	kinds := make([]Type, ncol)
	never := false
	numericKinds := func() []Type {
		for c := range cols {
			k := cols[c].kind
			if acts[c] == actSkip || k == String || k == Bool || k == Time || k != 0 && cols[c].w8 == nil {
				never = true
				return nil
			}
			if k == 0 {
				return nil
			}
			kinds[c] = k
		}
		return kinds
	}
	fastKinds := numericKinds()
	// A mapped block's pages are given back as the parse passes them
	// (source.release gives back the rest), so that a block does not hold
	// all its pages until it is done.
	var m inPlace
	if r.src != nil {
		m, _ = r.src.ra.(inPlace)
	}
	const dropStep = 1 << 20
	dropped := 0
	for pos < n {
		if pos-dropped >= dropStep && m != nil {
			m.done(b.off+int64(dropped), pos-dropped)
			dropped = pos
		}
		if fastKinds != nil {
			if e := r.fastRecord(data, pos, row, cols, fastKinds); e >= 0 {
				pos = e
				row++
				continue
			}
		}
		if ncol > 1 {
			if data[pos] == '\n' {
				pos++
				continue
			}
			if data[pos] == '\r' && (pos+1 == n || data[pos+1] == '\n') {
				pos += 2
				continue
			}
		}
		for c := 0; c < ncol; c++ {
			st := &cols[c]
			act := acts[c]
			start := pos
			if pos < n && data[pos] == '"' {
				text, end, err := r.quoted(b, pos, &scratch)
				if err != nil {
					b.err = err
					return
				}
				pos = end
				if act != actSkip && st.kind == String && !st.restart {
					// A quoted field is never missing: straight to the dictionary.
					k, err := r.intern(b, st, text, start, true)
					if err != nil {
						b.err = err
						return
					}
					st.set4(row, k)
				} else if act != actSkip {
					if err := r.store(b, st, act, c, row, text, true, start); err != nil {
						b.err = err
						return
					}
				}
			} else {
				fast := false
				if kind := st.kind; act != actSkip && (kind == Float || kind == Int) && st.w8 != nil {
					m, frac, e, neg := scanSimple(data, pos)
					if e > 0 && (e == n || data[e] == delim || data[e] == '\n' ||
						data[e] == '\r' && (e+1 == n || data[e+1] == '\n')) {
						if kind == Float && m < 1<<53 && frac <= 22 {
							f := float64(m)
							if frac > 0 {
								f /= pow10[frac]
							}
							if neg {
								f = -f
							}
							st.w8[row] = math.Float64bits(f)
							fast = true
						} else if kind == Int && frac < 0 && m < 1<<63 {
							v := int64(m)
							if neg {
								v = -v
								st.negZero = st.negZero || m == 0
							}
							st.w8[row] = uint64(v)
							fast = true
						}
						if fast {
							pos = e
						}
					}
				}
				if !fast && act != actSkip && (st.kind == Float || st.kind == Int || st.kind == 0) {
					e := scanNumber(data, pos, &num)
					if e > 0 && (e == n || data[e] == delim || data[e] == '\n' ||
						data[e] == '\r' && (e+1 == n || data[e+1] == '\n')) {
						fast = r.storeNumber(b, st, act, c, row, &num)
						if fast {
							pos = e
						}
					}
				}
				if !fast && act != actSkip && !st.restart && (st.kind == Time || st.kind == Bool) {
					if e, v := r.scanTimeBool(st, data, pos); e >= 0 {
						if st.kind == Bool {
							st.set1(row, v != 0)
						} else {
							st.set8(row, v)
						}
						pos, fast = e, true
					}
				}
				if !fast {
					e := fieldEnd(data, pos, delim)
					if e < n && data[e] == '"' {
						b.err = r.errAt(b, e, fmt.Errorf("%w: bare \" in unquoted field", ErrQuote))
						return
					}
					end := e
					if (e == n || data[e] == '\n') && e > pos && data[e-1] == '\r' {
						end--
					}
					// The field ends before a \r that ends its line, as it
					// does on the numeric paths: an error after the field
					// is placed there whatever path the field took.
					pos = end
					if act != actSkip && !r.storeString(b, st, row, data[start:end], start) {
						if err := r.store(b, st, act, c, row, data[start:end], false, start); err != nil {
							b.err = err
							return
						}
					}
				}
			}
			// The field ends at pos.
			if c < ncol-1 {
				if pos < n && data[pos] == delim {
					pos++
					continue
				}
				b.err = r.errAt(b, pos, fmt.Errorf("%w: got %d, want %d", ErrFieldCount, c+1, ncol))
				return
			}
			switch {
			case pos == n:
			case data[pos] == '\n':
				pos++
			case data[pos] == '\r':
				pos++
				if pos < n && data[pos] == '\n' {
					pos++
				}
			default: // a delimiter: too many fields
				b.err = r.errAt(b, pos+1, fmt.Errorf("%w: got %d, want %d", ErrFieldCount, r.countFields(b, pos, ncol), ncol))
				return
			}
		}
		row++
		if !never {
			fastKinds = numericKinds()
		}
	}
	b.rows = row
}

// fastRecord parses a record of plain numbers ([-]digits[.digits], at most
// 18 digits) into columns of the given kinds at block row row (their w8
// storage), and returns the offset of the next record. It returns -1,
// having changed nothing but row row, for anything else, which parseBlock
// then handles field by field.
func (r *csvReader) fastRecord(data []byte, pos, row int, cols []blockCol, kinds []Type) int {
	n := len(data)
	delim := r.delim
	last := len(kinds) - 1
	for c, k := range kinds {
		p := pos
		neg := false
		if p < n && data[p] == '-' {
			neg = true
			p++
		}
		start := p
		m, p := digitRun(data, p, 0)
		nd := p - start
		frac := -1
		if p < n && data[p] == '.' {
			p++
			fs := p
			m, p = digitRun(data, p, m)
			frac = p - fs
			nd += frac
		}
		if nd == 0 || nd > 18 {
			return -1
		}
		if c < last {
			if p >= n || data[p] != delim {
				return -1
			}
		} else if p < n && data[p] != '\n' {
			if data[p] != '\r' || (p+1 < n && data[p+1] != '\n') {
				return -1
			}
			p++ // the \r of \r\n
		}
		if k == Float {
			if m >= 1<<53 {
				return -1
			}
			f := float64(m)
			if frac > 0 {
				f /= pow10[frac]
			}
			if neg {
				f = -f
			}
			cols[c].w8[row] = math.Float64bits(f)
		} else {
			if frac >= 0 || neg && m == 0 {
				return -1
			}
			v := int64(m)
			if neg {
				v = -v
			}
			cols[c].w8[row] = uint64(v)
		}
		pos = p + 1
	}
	return pos
}

// countFields counts the fields of a record that has more than ncol, the
// extra ones starting at the delimiter at pos.
func (r *csvReader) countFields(b *block, pos, ncol int) int {
	data := b.data
	k := ncol
	for pos < len(data) && data[pos] == r.delim {
		pos++
		k++
		if pos < len(data) && data[pos] == '"' {
			_, e, err := r.quoted(b, pos, nil)
			if err != nil {
				return k
			}
			pos = e
			continue
		}
		for pos < len(data) && data[pos] != r.delim && data[pos] != '\n' {
			if data[pos] == '"' {
				// A bare quote: where the record ends is not known (the
				// input was cut into blocks by quote parity), so the
				// count stops at the fields before it.
				return k
			}
			pos++
		}
	}
	return k
}

// storeNumber stores a number found by the fast scanner; it returns false
// when the general path must handle the field.
func (r *csvReader) storeNumber(b *block, st *blockCol, act action, c, row int, num *number) bool {
	switch st.kind {
	case Float:
		f, ok := num.float()
		if !ok {
			return false
		}
		st.set8(row, math.Float64bits(f))
		return true
	case Int:
		if v, ok := num.int(); ok {
			st.set8(row, uint64(v))
			st.negZero = st.negZero || num.neg && v == 0
			return true
		}
		if num.isInt || act == actForce {
			return false
		}
		f, ok := num.float()
		if !ok {
			return false
		}
		r.promote(b, c, row)
		st.kind = Float
		st.set8(row, math.Float64bits(f))
		return true
	case 0:
		if v, ok := num.int(); ok {
			st.kind = Int
			r.attach(b, c)
			st.set8(row, uint64(v))
			st.negZero = st.negZero || num.neg && v == 0
			return true
		}
		if num.isInt {
			return false
		}
		if f, ok := num.float(); ok {
			st.kind = Float
			r.attach(b, c)
			st.set8(row, math.Float64bits(f))
			return true
		}
	case Bool, String, Time: // the general path parses them
	}
	return false
}

// promote converts the ints stored for column c in b's first rows to
// floats. When one of them is "-0", whose sign an int cannot keep, it marks
// the block to be read again for the column instead.
func (r *csvReader) promote(b *block, c, rows int) {
	if b.cols[c].negZero {
		b.cols[c].redo = true
		return
	}
	s := b.cols[c].w8[:min(rows, len(b.cols[c].w8))]
	for j, v := range s {
		s[j] = math.Float64bits(float64(int64(v)))
	}
}

// scanTimeBool parses a Time column's 2006-01-02 date or a Bool column's
// true/false (in any case) that starts at data[pos] and ends its field,
// and returns the offset just past it and the value (nanoseconds, or 1 for
// true); -1 leaves the field to the general path. The field's length is 10
// (a date), 4 (true) or 5 (false).
func (r *csvReader) scanTimeBool(st *blockCol, data []byte, pos int) (int, uint64) {
	n := len(data)
	w := 10
	if st.kind == Bool {
		w = 4
		if pos < n && data[pos]|0x20 == 'f' {
			w = 5
		}
	}
	e := pos + w
	if e > n || e < n && data[e] != r.delim && data[e] != '\n' && (data[e] != '\r' || e+1 < n && data[e+1] != '\n') {
		return -1, 0
	}
	t := data[pos:e]
	if w <= r.maxNull && r.nullFirst[t[0]] {
		return -1, 0 // may be a missing value
	}
	if w == 10 {
		if t[4] != '-' || t[7] != '-' {
			return -1, 0
		}
		ns, ok, sure := parseDateFast(t)
		if !ok || !sure {
			return -1, 0
		}
		return e, uint64(ns)
	}
	v, ok := parseBoolText(t)
	if !ok {
		return -1, 0
	}
	return e, uint64(btoi(v))
}

// storeString stores an unquoted field of a String column that cannot be
// a missing value straight into the dictionary, without store's general
// dispatch (Bool and Time fields have scanTimeBool). It returns false,
// having stored nothing, for store to handle the field.
func (r *csvReader) storeString(b *block, st *blockCol, row int, t []byte, start int) bool {
	if st.kind != String || st.restart || len(t) == 0 || len(t) <= r.maxNull && r.nullFirst[t[0]] {
		return false
	}
	k, err := r.intern(b, st, t, start, false)
	if err != nil {
		return false // store reports it
	}
	st.set4(row, k)
	return true
}

// set stores a value of st's kind as parseAs returns it.
func (st *blockCol) set(row int, v uint64) {
	if st.kind == Bool {
		st.set1(row, v != 0)
	} else {
		st.set8(row, v)
	}
}

// store parses one field's text into column c at block row row.
func (r *csvReader) store(b *block, st *blockCol, act action, c, row int, t []byte, quoted bool, start int) error {
	if st.restart {
		// Checked now so that errors come in input order whatever the blocks.
		if !utf8.Valid(t) {
			return r.errAt(b, start+invalidUTF8At(t)+btoi(quoted), ErrUTF8)
		}
		return nil
	}
	if !quoted && r.isNull(t) {
		st.nulls = append(st.nulls, int32(row))
		return nil
	}
	if act == actForce {
		if st.kind == String {
			k, err := r.intern(b, st, t, start, quoted)
			st.set4(row, k)
			return err
		}
		v, ok := parseAs(t, st.kind)
		if !ok {
			return r.errAt(b, start, fmt.Errorf("%w: column %q: cannot parse %q as %s", ErrBadValue, r.names[c], t, st.kind))
		}
		st.set(row, v)
		return nil
	}
	switch st.kind {
	case 0:
		if v, ok := parseIntText(t); ok {
			st.kind = Int
			r.attach(b, c)
			st.set8(row, uint64(v))
			st.negZero = st.negZero || v == 0 && t[0] == '-'
		} else if f, ok := parseFloatText(t); ok {
			st.kind = Float
			r.attach(b, c)
			st.set8(row, math.Float64bits(f))
		} else if v, ok := parseBoolText(t); ok {
			st.kind = Bool
			r.attach(b, c)
			st.set1(row, v)
		} else if v, ok := parseTimeText(t); ok {
			st.kind = Time
			r.attach(b, c)
			st.set8(row, uint64(v))
		} else {
			st.kind = String
			r.attach(b, c)
			k, err := r.intern(b, st, t, start, quoted)
			st.set4(row, k)
			return err
		}
		return nil
	case Int:
		if v, ok := parseIntText(t); ok {
			st.set8(row, uint64(v))
			st.negZero = st.negZero || v == 0 && t[0] == '-'
			return nil
		}
		if f, ok := parseFloatText(t); ok {
			r.promote(b, c, row)
			st.kind = Float
			st.set8(row, math.Float64bits(f))
			return nil
		}
	case Float:
		if f, ok := parseFloatText(t); ok {
			st.set8(row, math.Float64bits(f))
			return nil
		}
	case Bool:
		if v, ok := parseBoolText(t); ok {
			st.set1(row, v)
			return nil
		}
	case Time:
		if v, ok := parseTimeText(t); ok {
			st.set8(row, uint64(v))
			return nil
		}
	case String:
		k, err := r.intern(b, st, t, start, quoted)
		st.set4(row, k)
		return err
	}
	// A value that does not fit the column's type so far: the column is
	// String, and the block is read again for it.
	st.kind = String
	st.restart = true
	st.nulls, st.dict, st.index = nil, nil, dictIndex{}
	st.w8, st.w4, st.w1 = nil, nil, nil
	if !utf8.Valid(t) {
		return r.errAt(b, start+invalidUTF8At(t)+btoi(quoted), ErrUTF8)
	}
	return nil
}

// intern returns the block-local dictionary code of t.
func (r *csvReader) intern(b *block, st *blockCol, t []byte, start int, quoted bool) (int32, error) {
	k, slot, h := st.index.find(t, st.dict)
	if k >= 0 {
		return k, nil
	}
	if !utf8.Valid(t) {
		// Past the opening quote; exact when the field has no doubled quotes.
		return 0, r.errAt(b, start+invalidUTF8At(t)+btoi(quoted), ErrUTF8)
	}
	k = int32(len(st.dict))
	st.dict = append(st.dict, string(t))
	st.index.insert(slot, h, k)
	return k, nil
}
