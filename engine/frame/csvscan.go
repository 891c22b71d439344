package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// The byte scanning under the CSV parser: where an unquoted field ends,
// and a quoted field's text and end (its closing quote found eight bytes
// at a time).

// quoted parses the quoted field whose opening quote is at data[pos]. It
// returns the field's text (a subslice of the data, or of scratch when the
// field has doubled quotes) and the offset just past the closing quote,
// which is checked to end the field.
func (r *csvReader) quoted(b *block, pos int, scratch *[]byte) ([]byte, int, error) {
	data := b.data
	i := pos + 1
	var buf []byte
	escaped := false
	for {
		j := quoteAt(data, i)
		if j < 0 {
			return nil, 0, r.errAt(b, pos, fmt.Errorf("%w: unterminated quoted field", ErrQuote))
		}
		if j+1 < len(data) && data[j+1] == '"' {
			if !escaped {
				escaped = true
				if scratch != nil {
					buf = (*scratch)[:0]
				}
			}
			buf = append(buf, data[i:j+1]...)
			i = j + 2
			continue
		}
		var text []byte
		if escaped {
			buf = append(buf, data[i:j]...)
			text = buf
			if scratch != nil {
				*scratch = buf
			}
		} else {
			text = data[pos+1 : j]
		}
		e := j + 1
		if e < len(data) {
			switch c := data[e]; {
			case c == r.delim || c == '\n':
			case c == '\r' && (e+1 == len(data) || data[e+1] == '\n'):
			default:
				return nil, 0, r.errAt(b, e, fmt.Errorf("%w: extraneous character after closing quote", ErrQuote))
			}
		}
		return text, e, nil
	}
}

// quoteAt returns the index of the first double quote in data at or after
// i, or -1. It looks at the first 32 bytes eight at a time (as fieldEnd
// does), where most quoted fields end, before calling bytes.IndexByte.
func quoteAt(data []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for k := 0; k < 4 && i+8 <= len(data); k++ {
		w := binary.LittleEndian.Uint64(data[i:]) ^ (lo * '"')
		if m := (w - lo) &^ w & hi; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	j := bytes.IndexByte(data[i:], '"')
	if j < 0 {
		return -1
	}
	return i + j
}

// fieldEnd returns the index of the first delim, newline or double quote
// in data at or after i, or len(data). It tests eight bytes at a time:
// a byte equal to one of the three makes a zero byte in the word XORed
// with it, and the lowest set bit of (v - 0x01…) &^ v & 0x80… marks the
// first zero byte exactly.
func fieldEnd(data []byte, i int, delim byte) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	n := len(data)
	d, nl, q := lo*uint64(delim), uint64(lo*'\n'), uint64(lo*'"')
	for i+8 <= n {
		w := binary.LittleEndian.Uint64(data[i:])
		x, y, z := w^d, w^nl, w^q
		if m := ((x-lo)&^x | (y-lo)&^y | (z-lo)&^z) & hi; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < n && data[i] != delim && data[i] != '\n' && data[i] != '"' {
		i++
	}
	return i
}
