// One concern, parsing a block of JSON Lines: a small JSON scanner
// (objects of scalars, nested values kept as their text) that turns each
// line into values by key, converted to a forced Schema type where one
// is given. ReadJSONL (jsonl.go) runs it on blocks in parallel and
// builds the columns.

package frame

import (
	"bytes"
	"fmt"
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonParser parses the lines of one block.
type jsonParser struct {
	strs   map[string]string // string values seen in the block, to share them
	data   []byte
	pos    int
	name   string
	b      *block
	schema map[string]Type
	buf    []byte
}

func (p *jsonParser) fail(pos int, format string, args ...any) error {
	return parseErrorAt(p.name, p.b.data, p.b.line, pos, fmt.Errorf("%w: "+format, append([]any{ErrJSON}, args...)...))
}

func parseJSONBlock(b *block, opts ReadOptions) (*jblock, error) {
	jb := &jblock{index: make(map[string]int)}
	p := &jsonParser{data: b.data, name: opts.Name, b: b, schema: opts.Schema, strs: make(map[string]string)}
	data := b.data
	row := 0
	for p.pos < len(data) {
		p.skipSpace()
		if p.pos >= len(data) {
			break
		}
		if data[p.pos] == '\n' {
			p.pos++
			continue
		}
		if data[p.pos] != '{' {
			return nil, p.fail(p.pos, "line is not a JSON object")
		}
		p.pos++
		first := true
		for {
			p.skipSpace()
			if p.pos < len(data) && data[p.pos] == '}' && first {
				p.pos++
				break
			}
			if p.pos >= len(data) || data[p.pos] != '"' {
				return nil, p.fail(p.pos, "expected a string key")
			}
			key, err := p.str()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if p.pos >= len(data) || data[p.pos] != ':' {
				return nil, p.fail(p.pos, "expected ':'")
			}
			p.pos++
			p.skipSpace()
			j, ok := jb.index[string(key)]
			if !ok {
				j = len(jb.cols)
				name := string(key)
				jb.index[name] = j
				c := &jcol{name: name, vals: make([]jval, row, max(b.maxRows, row+1))}
				if row > 0 {
					c.kinds = 1 << jNull
				}
				jb.cols = append(jb.cols, c)
			}
			c := jb.cols[j]
			start := p.pos
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			if t, forced := p.schema[c.name]; forced && v.kind != jNull {
				if v, ok = convertJSON(v, t); !ok {
					return nil, parseErrorAt(p.name, data, b.line, start,
						fmt.Errorf("%w: column %q: cannot convert %s to %s", ErrBadValue, c.name, data[start:p.pos], t))
				}
			}
			c.kinds |= 1 << v.kind
			if len(c.vals) > row {
				c.vals[row] = v // a repeated key: the last value wins
			} else {
				c.vals = append(c.vals, v)
			}
			first = false
			p.skipSpace()
			if p.pos < len(data) && data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.pos < len(data) && data[p.pos] == '}' {
				p.pos++
				break
			}
			return nil, p.fail(p.pos, "expected ',' or '}'")
		}
		p.skipSpace()
		if p.pos < len(data) && data[p.pos] != '\n' {
			return nil, p.fail(p.pos, "text after the object")
		}
		p.pos++
		row++
		for _, c := range jb.cols {
			if len(c.vals) < row {
				c.vals = append(c.vals, jval{})
				c.kinds |= 1 << jNull
			}
		}
	}
	jb.rows = row
	return jb, nil
}

// convertJSON converts a non-null value to the forced type t, encoding it
// for appendJSONValue.
func convertJSON(v jval, t Type) (jval, bool) {
	switch t {
	case Float:
		switch v.kind {
		case jInt:
			return jval{kind: jFloat, num: math.Float64bits(float64(int64(v.num)))}, true
		case jFloat:
			return v, true
		case jString:
			if f, ok := parseFloatText([]byte(v.str)); ok {
				return jval{kind: jFloat, num: math.Float64bits(f)}, true
			}
		}
	case Int:
		switch v.kind {
		case jInt:
			return v, true
		case jFloat:
			f := math.Float64frombits(v.num)
			if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
				return jval{kind: jInt, num: uint64(int64(f))}, true
			}
		case jString:
			if i, ok := parseIntText([]byte(v.str)); ok {
				return jval{kind: jInt, num: uint64(i)}, true
			}
		}
	case Bool:
		switch v.kind {
		case jBool:
			return v, true
		case jString:
			if x, ok := parseBoolText([]byte(v.str)); ok {
				r := jval{kind: jBool}
				if x {
					r.num = 1
				}
				return r, true
			}
		}
	case Time:
		if v.kind == jString {
			if ns, ok := parseTimeText([]byte(v.str)); ok {
				return jval{kind: jInt, num: uint64(ns)}, true
			}
		}
	case String:
		return v, true
	}
	return v, false
}

// intern returns s as a string, sharing one copy per distinct value (up
// to a limit, so that unique values do not fill a map).
func (p *jsonParser) intern(s []byte) string {
	if v, ok := p.strs[string(s)]; ok {
		return v
	}
	v := string(s)
	if len(p.strs) < 1<<16 {
		p.strs[v] = v
	}
	return v
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses one JSON value at p.pos.
func (p *jsonParser) value() (jval, error) {
	data := p.data
	if p.pos >= len(data) {
		return jval{}, p.fail(p.pos, "expected a value")
	}
	switch c := data[p.pos]; {
	case c == '"':
		s, err := p.str()
		if err != nil {
			return jval{}, err
		}
		return jval{kind: jString, str: p.intern(s)}, nil
	case c == '{' || c == '[':
		start := p.pos
		if err := p.skipNested(); err != nil {
			return jval{}, err
		}
		return jval{kind: jRaw, str: string(data[start:p.pos])}, nil
	case c == 't' && bytes.HasPrefix(data[p.pos:], []byte("true")):
		p.pos += 4
		return jval{kind: jBool, num: 1}, nil
	case c == 'f' && bytes.HasPrefix(data[p.pos:], []byte("false")):
		p.pos += 5
		return jval{kind: jBool}, nil
	case c == 'n' && bytes.HasPrefix(data[p.pos:], []byte("null")):
		p.pos += 4
		return jval{}, nil
	case c == 'N' && bytes.HasPrefix(data[p.pos:], []byte("NaN")):
		p.pos += 3
		return jval{}, nil
	case c == 'I' && bytes.HasPrefix(data[p.pos:], []byte("Infinity")):
		p.pos += 8
		return jval{kind: jFloat, num: math.Float64bits(math.Inf(1))}, nil
	case c == '-' && bytes.HasPrefix(data[p.pos:], []byte("-Infinity")):
		p.pos += 9
		return jval{kind: jFloat, num: math.Float64bits(math.Inf(-1))}, nil
	case c == '-' || c >= '0' && c <= '9':
		var n number
		start := p.pos
		end := scanNumber(data, p.pos, &n)
		if end < 0 {
			return jval{}, p.fail(p.pos, "bad number")
		}
		p.pos = end
		text := data[start:end]
		if n.isInt {
			if v, ok := parseIntText(text); ok {
				return jval{kind: jInt, num: uint64(v)}, nil
			}
		}
		f, ok := n.float()
		if !ok {
			f, ok = parseFloatText(text)
			if !ok {
				return jval{}, p.fail(start, "bad number")
			}
		}
		return jval{kind: jFloat, num: math.Float64bits(f)}, nil
	}
	return jval{}, p.fail(p.pos, "unexpected character %q", data[p.pos])
}

// skipNested skips an object or array, minding strings.
func (p *jsonParser) skipNested() error {
	data := p.data
	start := p.pos
	depth := 0
	for p.pos < len(data) {
		switch data[p.pos] {
		case '"':
			if _, err := p.str(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				p.pos++
				return nil
			}
		case '\n':
			return p.fail(start, "unterminated object or array")
		}
		p.pos++
	}
	return p.fail(start, "unterminated object or array")
}

// str parses the JSON string at p.pos and returns its unescaped UTF-8
// text, valid until the next call.
func (p *jsonParser) str() ([]byte, error) {
	data := p.data
	start := p.pos
	i := p.pos + 1
	// Fast path: no escapes.
	for i < len(data) {
		c := data[i]
		if c == '"' {
			s := data[start+1 : i]
			if !utf8.Valid(s) {
				return nil, parseErrorAt(p.name, data, p.b.line, start+1+invalidUTF8At(s), ErrUTF8)
			}
			p.pos = i + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		i++
	}
	buf := append(p.buf[:0], data[start+1:i]...)
	for {
		if i >= len(data) || data[i] == '\n' {
			return nil, p.fail(start, "unterminated string")
		}
		c := data[i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return nil, parseErrorAt(p.name, data, p.b.line, start, ErrUTF8)
			}
			p.pos = i + 1
			p.buf = buf
			return buf, nil
		case c < 0x20:
			return nil, p.fail(i, "control character in string")
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(data) {
			return nil, p.fail(i, "bad escape")
		}
		e := data[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(data, i)
			if !ok {
				return nil, p.fail(i-2, "bad \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(data, i+2); ok && i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, p.fail(i-2, "bad escape")
		}
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
