package frame

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON value kinds while reading JSONL.
const (
	jNull uint8 = iota
	jInt
	jFloat
	jBool
	jString
	jRaw // an object or array, kept as its JSON text
)

// jval is one value read from a JSONL line.
type jval struct {
	kind uint8
	num  uint64 // int64, float64 bits or 0/1
	str  string // jString text, or jRaw JSON text
}

// jcol collects one key's values in one block, one per row.
type jcol struct {
	name  string
	kinds uint8 // bit 1<<kind for each kind seen
	vals  []jval
}

// jblock is the parse result of one block.
type jblock struct {
	cols  []*jcol
	index map[string]int
	rows  int
}

// ReadJSONL reads one JSON object per line (blank lines are skipped). The
// columns are the union of the objects' keys in order of first appearance;
// a key absent from an object, or null, is a missing value. Types are
// inferred per key: Int if all values are integers that fit int64, Float if
// all are numbers, Bool if all are true/false, Time if all are strings in
// RFC 3339 or 2006-01-02 form, else String (numbers and bools then as their
// text). Objects and arrays are kept as their JSON text in a String column.
// The non-standard tokens NaN, Infinity and -Infinity are read as numbers,
// NaN as missing. opts.Schema forces types (a value that does not convert
// is an error); opts.Delimiter and opts.NullValues are ignored.
//
// A line that is not a JSON object gives a *ParseError wrapping ErrJSON;
// a value that does not convert to its Schema type, ErrBadValue.
func ReadJSONL(in io.Reader, opts ReadOptions) (*Frame, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	blocks, src, total, err := readBlocks(in, false, opts.Size, workers, opts.blockSize)
	if err != nil {
		return nil, fmt.Errorf("frame: read %s: %w", nameOr(opts.Name), err)
	}
	jbs := make([]*jblock, len(blocks))
	errs := make([]error, len(blocks))
	var done int64
	var mu chanMutex = make(chan struct{}, 1)
	runBlocks(len(blocks), workers, func(i int) {
		b := blocks[i]
		if err := src.load(b); err != nil {
			errs[i] = fmt.Errorf("frame: read %s: %w", nameOr(opts.Name), err)
			return
		}
		jbs[i], errs[i] = parseJSONBlock(b, opts)
		src.release(b)
		if opts.Progress != nil && errs[i] == nil {
			mu.lock()
			done += int64(b.n)
			opts.Progress(done, total)
			mu.unlock()
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	// Columns in order of first appearance.
	var names []string
	pos := make(map[string]int)
	nrows := 0
	for _, jb := range jbs {
		for _, c := range jb.cols {
			if _, ok := pos[c.name]; !ok {
				pos[c.name] = len(names)
				names = append(names, c.name)
			}
		}
		nrows += jb.rows
	}
	for name := range opts.Schema {
		if _, ok := pos[name]; !ok {
			return nil, fmt.Errorf("frame: schema names column %q, which %s does not have: %w", name, nameOr(opts.Name), ErrNoColumn)
		}
	}
	cols := make([]*Column, len(names))
	parallelFor(len(names), nrows > 1<<14, func(j int) {
		cols[j] = buildJSONColumn(names[j], opts.Schema[names[j]], jbs, nrows)
	})
	return newFrame(cols, nrows)
}

type chanMutex chan struct{}

func (m chanMutex) lock()   { m <- struct{}{} }
func (m chanMutex) unlock() { <-m }

// ReadJSONLFile reads the JSONL file at path with ReadJSONL, setting
// opts.Name (when empty) and opts.Size as ReadCSVFile does.
func ReadJSONLFile(path string, opts ReadOptions) (*Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	defer f.Close()
	if opts.Name == "" {
		opts.Name = path
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		opts.Size = st.Size()
	}
	return ReadJSONL(f, opts)
}

// buildJSONColumn merges one key's values from all blocks into a column of
// type t (inferred when 0).
func buildJSONColumn(name string, t Type, jbs []*jblock, n int) *Column {
	var kinds uint8
	for _, jb := range jbs {
		if j, ok := jb.index[name]; ok {
			kinds |= jb.cols[j].kinds
		}
	}
	kinds &^= 1 << jNull
	if t == 0 {
		switch kinds {
		case 0:
			t = Float
		case 1 << jInt:
			t = Int
		case 1 << jFloat, 1<<jInt | 1<<jFloat:
			t = Float
		case 1 << jBool:
			t = Bool
		case 1 << jString:
			t = Time
			for _, jb := range jbs {
				if j, ok := jb.index[name]; ok && t == Time {
					for _, v := range jb.cols[j].vals {
						if v.kind == jString {
							if _, ok := parseTimeText([]byte(v.str)); !ok {
								t = String
								break
							}
						}
					}
				}
			}
		default:
			t = String
		}
	}
	b := NewBuilder(name, t, n)
	for _, jb := range jbs {
		j, ok := jb.index[name]
		if !ok {
			for range jb.rows {
				b.AppendNull()
			}
			continue
		}
		for _, v := range jb.cols[j].vals {
			appendJSONValue(b, t, v)
		}
	}
	return b.Build()
}

// appendJSONValue appends v, already checked to convert to t.
func appendJSONValue(b *Builder, t Type, v jval) {
	if v.kind == jNull {
		b.AppendNull()
		return
	}
	switch t {
	case Float:
		if v.kind == jInt {
			b.AppendFloat(float64(int64(v.num)))
		} else {
			b.AppendFloat(math.Float64frombits(v.num))
		}
	case Int:
		b.AppendInt(int64(v.num))
	case Bool:
		b.AppendBool(v.num != 0)
	case Time:
		b.AppendUnixNano(int64(v.num))
		if v.kind == jString {
			ns, _ := parseTimeText([]byte(v.str))
			b.c.Times[len(b.c.Times)-1] = ns
		}
	case String:
		switch v.kind {
		case jString, jRaw:
			b.AppendString(v.str)
		case jInt:
			b.AppendString(strconv.FormatInt(int64(v.num), 10))
		case jFloat:
			b.AppendString(string(appendFloat(nil, math.Float64frombits(v.num))))
		case jBool:
			b.AppendString(strconv.FormatBool(v.num != 0))
		}
	}
}

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
				default:
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
