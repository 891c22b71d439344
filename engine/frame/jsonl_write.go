// Writing JSON Lines: WriteJSONL, one object per row.

package frame

import (
	"io"
	"math"
	"unicode/utf8"
)

// WriteJSONL writes f as one JSON object per row, keys in column order:
// missing values as null, floats as for CSV (±Inf as the non-standard
// Infinity and -Infinity, as Python writes them), times as strings in the
// form Column.Str gives. It returns the first error from w.
func WriteJSONL(w io.Writer, f *Frame) error {
	keys := make([][]byte, len(f.cols))
	encoded := make([][][]byte, len(f.cols))
	for j, c := range f.cols {
		sep := ","
		if j == 0 {
			sep = "{"
		}
		k := appendJSONString([]byte(sep), c.Name)
		keys[j] = append(k, ':')
		if c.Type == String {
			e := make([][]byte, len(c.Dict))
			for i, s := range c.Dict {
				e[i] = appendJSONString(nil, s)
			}
			encoded[j] = e
		}
	}
	format := func(buf []byte, lo, hi int) []byte {
		for i := lo; i < hi; i++ {
			if len(f.cols) == 0 {
				buf = append(buf, '{')
			}
			for j, c := range f.cols {
				buf = append(buf, keys[j]...)
				if c.IsNull(i) {
					buf = append(buf, "null"...)
					continue
				}
				switch c.Type {
				case String:
					buf = append(buf, encoded[j][c.Codes[i]]...)
				case Time:
					buf = append(buf, '"')
					buf = appendTime(buf, c.Times[i])
					buf = append(buf, '"')
				case Float:
					v := c.Floats[i]
					switch {
					case math.IsInf(v, 1):
						buf = append(buf, "Infinity"...)
					case math.IsInf(v, -1):
						buf = append(buf, "-Infinity"...)
					default:
						buf = appendFloat(buf, v)
					}
				case Int, Bool:
					buf = c.appendValue(buf, i)
				}
			}
			buf = append(buf, '}', '\n')
		}
		return buf
	}
	return writeChunks(w, f.nrows, format)
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
