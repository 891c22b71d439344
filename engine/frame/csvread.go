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
	index   dictIndex
	// The block's rows of the column's storage (colData) for kind's
	// width: nil when the column's storage has another width, and then
	// nothing is stored (the column is parsed again once its type is
	// known).
	w8 []uint64
	w4 []int32
	w1 []bool
}

func (st *blockCol) set8(row int, v uint64) {
	if st.w8 != nil {
		st.w8[row] = v
	}
}

func (st *blockCol) set4(row int, k int32) {
	if st.w4 != nil {
		st.w4[row] = k
	}
}

func (st *blockCol) set1(row int, v bool) {
	if st.w1 != nil {
		st.w1[row] = v
	}
}

// colData is one column's values in the upper-bound row layout (see
// block.rowStart), stored as the column will hold them: w8 for Int, Float
// and Time, w4 for String codes (block-local until the column is built),
// w1 for Bool. Exactly one is allocated, for the first kind a block finds
// in the column (or the Schema's type); when the column's type turns out
// to need another width, finish allocates that one and parses the column
// again.
type colData struct {
	w8 []uint64
	w4 []int32
	w1 []bool
}

// width is the bytes per row the storage of type t takes.
func width(t Type) int {
	switch t {
	case Bool:
		return 1
	case String:
		return 4
	case Float, Int, Time:
		return 8
	}
	return 8
}

// width is the bytes per row of d's storage, 0 when none is allocated.
func (d *colData) width() int {
	switch {
	case d.w8 != nil:
		return 8
	case d.w4 != nil:
		return 4
	case d.w1 != nil:
		return 1
	}
	return 0
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
	data      []colData  // per column
	dataMu    sync.Mutex // guards allocating data
	nrows     int        // rows of data (upper bound)
	src       *source
}

// attach points b's state of column c at the column's storage for the
// kind it has just found (or was given), allocating the storage when no
// block has yet.
func (r *csvReader) attach(b *block, c int) {
	st := &b.cols[c]
	st.w8, st.w4, st.w1 = nil, nil, nil
	w := width(st.kind)
	r.dataMu.Lock()
	d := &r.data[c]
	if d.width() == 0 {
		d.alloc(w, r.nrows)
	}
	lo, hi := b.rowStart, b.rowStart+b.maxRows
	switch {
	case w == 8 && d.w8 != nil:
		st.w8 = d.w8[lo:hi:hi]
	case w == 4 && d.w4 != nil:
		st.w4 = d.w4[lo:hi:hi]
	case w == 1 && d.w1 != nil:
		st.w1 = d.w1[lo:hi:hi]
	}
	r.dataMu.Unlock()
}

// alloc gives d zeroed storage of w bytes per row for n rows.
func (d *colData) alloc(w, n int) {
	switch w {
	case 8:
		d.w8 = make([]uint64, n)
		hugePages(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d.w8))), 8*n))
	case 4:
		d.w4 = make([]int32, n)
		hugePages(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d.w4))), 4*n))
	default:
		d.w1 = make([]bool, n)
		hugePages(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(d.w1))), n))
	}
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
//
// A regular file (an *os.File) is mapped into memory on Linux and parsed
// in place; a file that shrinks while it is read gives ErrFileChanged.
func ReadCSV(in io.Reader, opts ReadOptions) (*Frame, error) {
	if f, ok := in.(*os.File); ok {
		if m := openMapped(f); m != nil {
			defer m.unmap() //nolint:errcheck // a read-only mapping: nothing is lost if unmapping fails
			var fr *Frame
			err := m.withFaults(opts.Name, func() error {
				var err error
				fr, err = readCSV(m, opts)
				return err
			})
			return fr, err
		}
	}
	return readCSV(in, opts)
}

func readCSV(in io.Reader, opts ReadOptions) (*Frame, error) {
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
	r.nrows = nrows
	r.data = make([]colData, r.ncol)
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
			if t != 0 {
				b.cols[c].kind = t
				r.attach(b, c)
			}
		}
		if err := r.src.load(b); err != nil {
			b.err = fmt.Errorf("frame: read %s: %w", nameOr(r.name), err)
		} else if err := r.guard(func() { r.parseBlock(b, acts) }); err != nil {
			b.err = err
		} else {
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

// guard runs fn, which reads blocks' data, with a fault on a mapped
// file's page turned into ErrFileChanged (see mappedFile).
func (r *csvReader) guard(fn func()) error {
	m, ok := r.src.ra.(*mappedFile)
	if !ok {
		fn()
		return nil
	}
	return m.withFaults(r.name, func() error { fn(); return nil })
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
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
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
