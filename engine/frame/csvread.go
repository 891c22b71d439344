package frame

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// DefaultNullValues are the field texts read as missing values when
// ReadOptions.NullValues is nil. An empty unquoted field is always missing.
// It must not be modified: the readers and writers use a copy taken at
// start-up.
var DefaultNullValues = []string{"", "NA", "N/A", "NaN", "null", "NULL", "nan"}

// defaultNullValues is the copy the package uses.
var defaultNullValues = append([]string(nil), DefaultNullValues...)

// ReadOptions configures ReadCSV and ReadJSONL. The zero value reads
// comma-separated input with inferred types.
type ReadOptions struct {
	// Name is the input's name, used in errors (ReadCSVFile sets it to the path).
	Name string
	// Schema forces the type of the named columns instead of inferring it;
	// a value that does not parse is an error. Naming a column that the input
	// does not have is an error.
	Schema map[string]Type
	// Delimiter separates CSV fields; 0 means ','. It must be an ASCII
	// character other than '"', '\r' and '\n'. JSONL ignores it.
	Delimiter rune
	// NullValues are the unquoted field texts read as missing; nil means
	// DefaultNullValues. An empty unquoted field is missing in any case.
	NullValues []string
	// Progress, if set, is called as the input is parsed, with the bytes done
	// and the total bytes. Calls come from the reading goroutines, one at a
	// time, with done increasing; the last call has done == total.
	Progress func(done, total int64)
	// Size is the input's size in bytes if known (ReadCSVFile sets it); it
	// sizes the read buffers.
	Size int64
	// Workers is the number of goroutines that parse; 0 means GOMAXPROCS.
	Workers int

	blockSize int // bytes per block; 0 means maxBlockSize (tests set it)
}

// action says what the block parser does with a column's fields.
type action uint8

const (
	actInfer action = iota // parse, inferring the type
	actForce               // parse as blockCol.kind, error if a value does not parse
	actSkip                // tokenize only
)

// blockCol is the state of one column while parsing one block.
type blockCol struct {
	kind    Type // type so far; 0 when no value seen yet
	restart bool // turned String part-way: the block is read again for it
	negZero bool // an int "-0" was stored: converting to float would lose its sign
	redo    bool // read the block again for this column as Float
	nulls   []int32
	dict    []string
	index   map[string]int32
}

// csvReader holds what all blocks share.
type csvReader struct {
	name      string
	delim     byte
	nullSet   map[string]struct{}
	nullFirst [256]bool
	maxNull   int
	ncol      int
	names     []string
	forced    []Type
	slots     [][]uint64 // per column, one 8-byte cell per row
	src       *source
}

func newCSVReader(opts ReadOptions) (*csvReader, error) {
	r := &csvReader{name: opts.Name, delim: ','}
	if opts.Delimiter != 0 {
		d := opts.Delimiter
		if d >= utf8.RuneSelf || d == '"' || d == '\r' || d == '\n' {
			return nil, fmt.Errorf("frame: invalid delimiter %q", d)
		}
		r.delim = byte(d)
	}
	nv := opts.NullValues
	if nv == nil {
		nv = defaultNullValues
	}
	r.nullSet = make(map[string]struct{}, len(nv))
	for _, s := range nv {
		if s == "" {
			continue
		}
		r.nullSet[s] = struct{}{}
		r.nullFirst[s[0]] = true
		r.maxNull = max(r.maxNull, len(s))
	}
	return r, nil
}

func (r *csvReader) isNull(t []byte) bool {
	if len(t) == 0 {
		return true
	}
	if len(t) > r.maxNull || !r.nullFirst[t[0]] {
		return false
	}
	_, ok := r.nullSet[string(t)]
	return ok
}

// ReadCSV reads a CSV table with a header row (RFC 4180: fields may be
// double-quoted, with "" for a quote and newlines inside; records end in
// LF or CRLF; a UTF-8 byte order mark is skipped; blank lines are skipped
// unless the table has a single column, where they are missing values).
//
// Each column's type is inferred from its non-missing values unless
// opts.Schema gives it: Int if all parse as int64, else Float if all parse
// as numbers, else Bool if all are true/false in any case, else Time if all
// are RFC 3339 times or 2006-01-02 dates, else String. Numbers must not have
// surrounding spaces. A column with no values is Float (String when the
// input has no rows). A quoted field is never a missing value, so "" and
// "NA" in quotes are strings.
//
// Malformed input gives a *ParseError wrapping ErrFieldCount, ErrQuote,
// ErrBadValue (a value that does not parse as its Schema type), ErrUTF8,
// ErrNoHeader or ErrDuplicateName. Errors from r are returned wrapped.
// An empty header name becomes "column_N" (N counted from 1).
//
// The input is parsed in parallel blocks (opts.Workers); the resulting
// columns are sized exactly.
func ReadCSV(in io.Reader, opts ReadOptions) (*Frame, error) {
	r, err := newCSVReader(opts)
	if err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	blocks, src, total, err := readBlocks(in, true, opts.Size, workers, opts.blockSize)
	if err != nil {
		return nil, fmt.Errorf("frame: read %s: %w", nameOr(opts.Name), err)
	}
	r.src = src
	if err := r.readHeader(&blocks); err != nil {
		return nil, err
	}
	r.forced = make([]Type, r.ncol)
	seen := 0
	for i, name := range r.names {
		if t, ok := opts.Schema[name]; ok {
			if !t.Valid() {
				return nil, fmt.Errorf("frame: schema: column %q: invalid type %d", name, uint8(t))
			}
			r.forced[i] = t
			seen++
		}
	}
	if seen != len(opts.Schema) {
		for name := range opts.Schema {
			if indexOf(r.names, name) < 0 {
				return nil, fmt.Errorf("frame: schema names column %q, which %s does not have: %w", name, nameOr(opts.Name), ErrNoColumn)
			}
		}
	}
	nrows := 0
	for _, b := range blocks {
		b.rowStart = nrows
		nrows += b.maxRows
	}
	r.slots = make([][]uint64, r.ncol)
	for i := range r.slots {
		r.slots[i] = make([]uint64, nrows)
	}
	acts := make([]action, r.ncol)
	for i, t := range r.forced {
		if t != 0 {
			acts[i] = actForce
		}
	}
	// Parse the blocks.
	var progMu sync.Mutex
	var done int64
	headerBytes := total
	for _, b := range blocks {
		headerBytes -= int64(b.n)
	}
	report := func(n int64) {
		if opts.Progress == nil {
			return
		}
		progMu.Lock()
		done += n
		opts.Progress(done, total)
		progMu.Unlock()
	}
	report(headerBytes)
	var firstErr atomic.Int64
	firstErr.Store(math.MaxInt64)
	runBlocks(len(blocks), workers, func(i int) {
		if int64(i) > firstErr.Load() {
			return
		}
		b := blocks[i]
		b.cols = make([]blockCol, r.ncol)
		for c, t := range r.forced {
			b.cols[c].kind = t
		}
		if err := r.src.load(b); err != nil {
			b.err = fmt.Errorf("frame: read %s: %w", nameOr(r.name), err)
		} else {
			r.parseBlock(b, acts)
			r.src.release(b)
		}
		if b.err != nil {
			for {
				cur := firstErr.Load()
				if int64(i) >= cur || firstErr.CompareAndSwap(cur, int64(i)) {
					break
				}
			}
			return
		}
		report(int64(b.n))
	})
	if i := firstErr.Load(); i != math.MaxInt64 {
		return nil, blocks[i].err
	}
	cols, err := r.finish(blocks, nrows, workers)
	if err != nil {
		return nil, err
	}
	return newFrame(cols, cols0Len(cols, blocks))
}

func cols0Len(cols []*Column, blocks []*block) int {
	if len(cols) > 0 {
		return cols[0].Len()
	}
	n := 0
	for _, b := range blocks {
		n += b.rows
	}
	return n
}

func nameOr(name string) string {
	if name == "" {
		return "input"
	}
	return name
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// runBlocks calls fn(i) for i in [0, n) on up to workers goroutines, handing
// out indexes in increasing order.
func runBlocks(n, workers int, fn func(i int)) {
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// ReadCSVFile reads the CSV file at path with ReadCSV. It sets opts.Name to
// path when empty, and opts.Size to the file's size.
func ReadCSVFile(path string, opts ReadOptions) (*Frame, error) {
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
	return ReadCSV(f, opts)
}

// errAt returns a *ParseError for the problem at data offset pos of b.
func (r *csvReader) errAt(b *block, pos int, err error) *ParseError {
	return parseErrorAt(r.name, b.data, b.line, pos, err)
}

func parseErrorAt(name string, data []byte, line, pos int, err error) *ParseError {
	pos = min(pos, len(data))
	line += bytes.Count(data[:pos], []byte{'\n'})
	start := bytes.LastIndexByte(data[:pos], '\n') + 1
	return &ParseError{File: name, Line: line, Col: utf8.RuneCount(data[start:pos]) + 1, Err: err}
}

// readHeader parses the header record from the first block and removes it.
func (r *csvReader) readHeader(blocks *[]*block) error {
	for len(*blocks) > 0 {
		b := (*blocks)[0]
		if err := r.src.load(b); err != nil {
			return fmt.Errorf("frame: read %s: %w", nameOr(r.name), err)
		}
		skip := 0
		for skip < len(b.data) {
			if b.data[skip] == '\n' {
				skip++
				b.line++
			} else if b.data[skip] == '\r' && (skip+1 == len(b.data) || b.data[skip+1] == '\n') {
				skip = min(skip+2, len(b.data))
				b.line++
			} else {
				break
			}
		}
		b.data, b.off, b.n = b.data[skip:], b.off+int64(skip), b.n-skip
		if len(b.data) > 0 {
			break
		}
		r.src.release(b)
		*blocks = (*blocks)[1:]
	}
	if len(*blocks) == 0 {
		return &ParseError{File: r.name, Line: 1, Col: 1, Err: ErrNoHeader}
	}
	b := (*blocks)[0]
	data := b.data
	var names []string
	var starts []int
	pos := 0
	for {
		start := pos
		var text []byte
		if pos < len(data) && data[pos] == '"' {
			t, end, err := r.quoted(b, pos, nil)
			if err != nil {
				return err
			}
			text, pos = t, end
		} else {
			e := pos
			for e < len(data) && data[e] != r.delim && data[e] != '\n' && data[e] != '"' {
				e++
			}
			if e < len(data) && data[e] == '"' {
				return r.errAt(b, e, fmt.Errorf("%w: bare \" in unquoted field", ErrQuote))
			}
			end := e
			if (e == len(data) || data[e] == '\n') && e > pos && data[e-1] == '\r' {
				end--
			}
			text, pos = data[pos:end], e
		}
		if !utf8.Valid(text) {
			return r.errAt(b, start+invalidUTF8At(text), ErrUTF8)
		}
		names = append(names, string(text))
		starts = append(starts, start)
		if pos < len(data) && data[pos] == r.delim {
			pos++
			continue
		}
		if pos < len(data) && data[pos] == '\r' {
			pos++
		}
		if pos < len(data) && data[pos] == '\n' {
			pos++
		}
		break
	}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if n == "" {
			n = "column_" + strconv.Itoa(i+1)
			names[i] = n
		}
		if seen[n] {
			return r.errAt(b, starts[i], fmt.Errorf("%w %q", ErrDuplicateName, n))
		}
		seen[n] = true
	}
	b.line += bytes.Count(data[:pos], []byte{'\n'})
	b.data, b.off, b.n = data[pos:], b.off+int64(pos), b.n-pos
	b.maxRows = bytes.Count(b.data, []byte{'\n'})
	if len(b.data) > 0 && b.data[len(b.data)-1] != '\n' {
		b.maxRows++
	}
	r.src.release(b)
	if b.n == 0 {
		*blocks = (*blocks)[1:]
	}
	r.names = names
	r.ncol = len(names)
	return nil
}

func invalidUTF8At(t []byte) int {
	for i := 0; i < len(t); {
		c, size := utf8.DecodeRune(t[i:])
		if c == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return 0
}

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
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			return nil, 0, r.errAt(b, pos, fmt.Errorf("%w: unterminated quoted field", ErrQuote))
		}
		j += i
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

// parseBlock parses the records of b into the slots, following acts per
// column. It sets b.rows, or b.err at the first problem.
func (r *csvReader) parseBlock(b *block, acts []action) {
	data := b.data
	n := len(data)
	delim := r.delim
	ncol := r.ncol
	cols := b.cols
	slots := r.slots
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
			if acts[c] == actSkip || k == String || k == Bool || k == Time {
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
	for pos < n {
		if fastKinds != nil {
			if e := r.fastRecord(data, pos, b.rowStart+row, fastKinds); e >= 0 {
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
		g := b.rowStart + row
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
				if act != actSkip {
					if err := r.store(b, st, act, c, g, row, text, true, start); err != nil {
						b.err = err
						return
					}
				}
			} else {
				fast := false
				if kind := st.kind; act != actSkip && (kind == Float || kind == Int) {
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
							slots[c][g] = math.Float64bits(f)
							fast = true
						} else if kind == Int && frac < 0 && m < 1<<63 {
							v := int64(m)
							if neg {
								v = -v
								st.negZero = st.negZero || m == 0
							}
							slots[c][g] = uint64(v)
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
						fast = r.storeNumber(b, st, act, c, g, row, &num)
						if fast {
							pos = e
						}
					}
				}
				if !fast {
					e := pos
					for e < n {
						ch := data[e]
						if ch == delim || ch == '\n' || ch == '"' {
							break
						}
						e++
					}
					if e < n && data[e] == '"' {
						b.err = r.errAt(b, e, fmt.Errorf("%w: bare \" in unquoted field", ErrQuote))
						return
					}
					end := e
					if (e == n || data[e] == '\n') && e > pos && data[e-1] == '\r' {
						end--
					}
					pos = e
					if act != actSkip {
						if err := r.store(b, st, act, c, g, row, data[start:end], false, start); err != nil {
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
// 18 digits) into columns of the given kinds at slot row g, and returns the
// offset of the next record. It returns -1, having changed nothing but slot
// row g, for anything else, which parseBlock then handles field by field.
func (r *csvReader) fastRecord(data []byte, pos, g int, kinds []Type) int {
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
		var m uint64
		start := p
		for p < n {
			d := data[p] - '0'
			if d > 9 {
				break
			}
			m = m*10 + uint64(d)
			p++
		}
		nd := p - start
		frac := -1
		if p < n && data[p] == '.' {
			p++
			fs := p
			for p < n {
				d := data[p] - '0'
				if d > 9 {
					break
				}
				m = m*10 + uint64(d)
				p++
			}
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
			r.slots[c][g] = math.Float64bits(f)
		} else {
			if frac >= 0 || neg && m == 0 {
				return -1
			}
			v := int64(m)
			if neg {
				v = -v
			}
			r.slots[c][g] = uint64(v)
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
			pos++
		}
	}
	return k
}

// storeNumber stores a number found by the fast scanner; it returns false
// when the general path must handle the field.
func (r *csvReader) storeNumber(b *block, st *blockCol, act action, c, g, row int, num *number) bool {
	slot := r.slots[c]
	switch st.kind {
	case Float:
		f, ok := num.float()
		if !ok {
			return false
		}
		slot[g] = math.Float64bits(f)
		return true
	case Int:
		if v, ok := num.int(); ok {
			slot[g] = uint64(v)
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
		slot[g] = math.Float64bits(f)
		return true
	case 0:
		if v, ok := num.int(); ok {
			st.kind = Int
			slot[g] = uint64(v)
			st.negZero = st.negZero || num.neg && v == 0
			return true
		}
		if num.isInt {
			return false
		}
		if f, ok := num.float(); ok {
			st.kind = Float
			slot[g] = math.Float64bits(f)
			return true
		}
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
	s := r.slots[c][b.rowStart : b.rowStart+rows]
	for j, v := range s {
		s[j] = math.Float64bits(float64(int64(v)))
	}
}

// store parses one field's text into column c at slot row g (block row row).
func (r *csvReader) store(b *block, st *blockCol, act action, c, g, row int, t []byte, quoted bool, start int) error {
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
	slot := r.slots[c]
	if act == actForce {
		if st.kind == String {
			k, err := r.intern(b, st, t, start, quoted)
			slot[g] = uint64(k)
			return err
		}
		v, ok := parseAs(t, st.kind)
		if !ok {
			return r.errAt(b, start, fmt.Errorf("%w: column %q: cannot parse %q as %s", ErrBadValue, r.names[c], t, st.kind))
		}
		slot[g] = v
		return nil
	}
	switch st.kind {
	case 0:
		if v, ok := parseIntText(t); ok {
			st.kind = Int
			slot[g] = uint64(v)
			st.negZero = st.negZero || v == 0 && t[0] == '-'
		} else if f, ok := parseFloatText(t); ok {
			st.kind = Float
			slot[g] = math.Float64bits(f)
		} else if v, ok := parseBoolText(t); ok {
			st.kind = Bool
			if v {
				slot[g] = 1
			}
		} else if v, ok := parseTimeText(t); ok {
			st.kind = Time
			slot[g] = uint64(v)
		} else {
			st.kind = String
			k, err := r.intern(b, st, t, start, quoted)
			slot[g] = uint64(k)
			return err
		}
		return nil
	case Int:
		if v, ok := parseIntText(t); ok {
			slot[g] = uint64(v)
			st.negZero = st.negZero || v == 0 && t[0] == '-'
			return nil
		}
		if f, ok := parseFloatText(t); ok {
			r.promote(b, c, row)
			st.kind = Float
			slot[g] = math.Float64bits(f)
			return nil
		}
	case Float:
		if f, ok := parseFloatText(t); ok {
			slot[g] = math.Float64bits(f)
			return nil
		}
	case Bool:
		if v, ok := parseBoolText(t); ok {
			slot[g] = 0
			if v {
				slot[g] = 1
			}
			return nil
		}
	case Time:
		if v, ok := parseTimeText(t); ok {
			slot[g] = uint64(v)
			return nil
		}
	case String:
		k, err := r.intern(b, st, t, start, quoted)
		slot[g] = uint64(k)
		return err
	}
	// A value that does not fit the column's type so far: the column is
	// String, and the block is read again for it.
	st.kind = String
	st.restart = true
	st.nulls, st.dict, st.index = nil, nil, nil
	if !utf8.Valid(t) {
		return r.errAt(b, start+invalidUTF8At(t)+btoi(quoted), ErrUTF8)
	}
	return nil
}

// intern returns the block-local dictionary code of t.
func (r *csvReader) intern(b *block, st *blockCol, t []byte, start int, quoted bool) (int32, error) {
	if st.index == nil {
		st.index = make(map[string]int32)
	}
	if k, ok := st.index[string(t)]; ok {
		return k, nil
	}
	if !utf8.Valid(t) {
		// Past the opening quote; exact when the field has no doubled quotes.
		return 0, r.errAt(b, start+invalidUTF8At(t)+btoi(quoted), ErrUTF8)
	}
	s := string(t)
	k := int32(len(st.dict))
	st.dict = append(st.dict, s)
	st.index[s] = k
	return k, nil
}

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
			r.parseBlock(b, acts)
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
