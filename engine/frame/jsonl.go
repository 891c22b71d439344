// Reading JSON Lines: ReadJSONL parses blocks of lines in parallel
// (jsonl_parse.go) and builds typed columns from them. Writing is in
// jsonl_write.go.

package frame

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
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
	defer f.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
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
