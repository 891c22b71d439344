package frame

import (
	"fmt"
)

// Frame is a table of equally long, uniquely named columns. A Frame is
// immutable: every operation returns a new Frame, which may share columns
// with the old one.
type Frame struct {
	cols  []*Column
	nrows int
	index map[string]int
}

// New returns a frame of the given columns. It returns an error if a column
// is malformed (see Column), a name is empty or repeated (wrapping
// ErrDuplicateName), or the columns differ in length (wrapping ErrLength).
// Float columns whose NaN values are not marked missing, and String columns
// with code -1, are replaced by copies with those values marked missing.
func New(cols ...*Column) (*Frame, error) {
	out := make([]*Column, len(cols))
	n := -1
	for i, c := range cols {
		if c == nil {
			return nil, fmt.Errorf("frame: column %d is nil", i)
		}
		if c.Name == "" {
			return nil, fmt.Errorf("frame: column %d has an empty name", i)
		}
		if err := c.check(); err != nil {
			return nil, err
		}
		if n >= 0 && c.Len() != n {
			return nil, fmt.Errorf("frame: column %q has %d rows, column %q has %d: %w", c.Name, c.Len(), cols[0].Name, n, ErrLength)
		}
		n = c.Len()
		out[i] = c.normalized()
	}
	if n < 0 {
		n = 0
	}
	return newFrame(out, n)
}

// newFrame builds a frame from columns known to be well formed and of
// length n; it checks only the names.
func newFrame(cols []*Column, n int) (*Frame, error) {
	f := &Frame{cols: cols, nrows: n, index: make(map[string]int, len(cols))}
	for i, c := range cols {
		if _, dup := f.index[c.Name]; dup {
			return nil, fmt.Errorf("frame: %w %q", ErrDuplicateName, c.Name)
		}
		f.index[c.Name] = i
	}
	return f, nil
}

// mustFrame is newFrame for callers that already guarantee unique names.
func mustFrame(cols []*Column, n int) *Frame {
	f, err := newFrame(cols, n)
	if err != nil {
		panic(err)
	}
	return f
}

// NumRows returns the number of rows.
func (f *Frame) NumRows() int { return f.nrows }

// NumCols returns the number of columns.
func (f *Frame) NumCols() int { return len(f.cols) }

// Columns returns the columns in order. The slice is a copy; the columns
// are shared and must not be modified.
func (f *Frame) Columns() []*Column { return append([]*Column(nil), f.cols...) }

// Col returns column i. It panics if i is out of range.
func (f *Frame) Col(i int) *Column { return f.cols[i] }

// ColByName returns the column named name and its position, or nil and -1.
func (f *Frame) ColByName(name string) (*Column, int) {
	if i, ok := f.index[name]; ok {
		return f.cols[i], i
	}
	return nil, -1
}

// Schema returns the column names and types.
func (f *Frame) Schema() Schema {
	s := make(Schema, len(f.cols))
	for i, c := range f.cols {
		s[i] = Field{Name: c.Name, Type: c.Type}
	}
	return s
}

// Names returns the column names in order.
func (f *Frame) Names() []string {
	out := make([]string, len(f.cols))
	for i, c := range f.cols {
		out[i] = c.Name
	}
	return out
}

// lookup resolves names to column positions; an unknown name is an error
// wrapping ErrNoColumn. Empty names selects all columns.
func (f *Frame) lookup(names []string) ([]int, error) {
	if len(names) == 0 {
		idx := make([]int, len(f.cols))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	idx := make([]int, len(names))
	for i, name := range names {
		j, ok := f.index[name]
		if !ok {
			return nil, fmt.Errorf("frame: %w %q", ErrNoColumn, name)
		}
		idx[i] = j
	}
	return idx, nil
}

// Take returns a frame of the given rows, in the given order; a row may
// appear more than once. String columns get a dictionary of the values
// taken, in order of first appearance. Take panics if a row is out of range.
func (f *Frame) Take(rows []int) *Frame {
	cols := make([]*Column, len(f.cols))
	parallelFor(len(f.cols), len(rows)*len(f.cols) > 1<<16, func(i int) {
		cols[i] = gather(f.cols[i], rows)
	})
	return mustFrame(cols, len(rows))
}

// Slice returns rows [i, j).
func (f *Frame) Slice(i, j int) *Frame {
	if i < 0 || j > f.nrows || i > j {
		panic(fmt.Sprintf("frame: Slice(%d, %d) out of range [0, %d]", i, j, f.nrows))
	}
	rows := make([]int, j-i)
	for k := range rows {
		rows[k] = i + k
	}
	return f.Take(rows)
}

// Select returns a frame of the named columns in the given order. It returns
// an error wrapping ErrNoColumn for an unknown name and ErrDuplicateName for
// a repeated one.
func (f *Frame) Select(names ...string) (*Frame, error) {
	idx, err := f.lookup(names)
	if err != nil {
		return nil, err
	}
	cols := make([]*Column, len(idx))
	for i, j := range idx {
		cols[i] = f.cols[j]
	}
	return newFrame(cols, f.nrows)
}

// Drop returns a frame without the named columns. It returns an error
// wrapping ErrNoColumn for an unknown name.
func (f *Frame) Drop(names ...string) (*Frame, error) {
	idx, err := f.lookup(names)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		idx = nil
	}
	drop := make([]bool, len(f.cols))
	for _, j := range idx {
		drop[j] = true
	}
	var cols []*Column
	for i, c := range f.cols {
		if !drop[i] {
			cols = append(cols, c)
		}
	}
	return newFrame(cols, f.nrows)
}

// Rename returns a frame with columns renamed by the map (old name → new
// name). It returns an error wrapping ErrNoColumn for an unknown old name
// and ErrDuplicateName when two columns would have the same name.
func (f *Frame) Rename(names map[string]string) (*Frame, error) {
	for old, nw := range names {
		if _, ok := f.index[old]; !ok {
			return nil, fmt.Errorf("frame: rename: %w %q", ErrNoColumn, old)
		}
		if nw == "" {
			return nil, fmt.Errorf("frame: rename %q: empty name", old)
		}
	}
	cols := make([]*Column, len(f.cols))
	for i, c := range f.cols {
		if nw, ok := names[c.Name]; ok && nw != c.Name {
			c = c.Renamed(nw)
		}
		cols[i] = c
	}
	return newFrame(cols, f.nrows)
}

// WithColumn returns a frame with c added at the end, or replacing the
// column of the same name in place. It returns an error if c is malformed
// or its length differs from the frame's (wrapping ErrLength). A frame with
// no columns takes c's length.
func (f *Frame) WithColumn(c *Column) (*Frame, error) {
	if c == nil || c.Name == "" {
		return nil, fmt.Errorf("frame: WithColumn: nil column or empty name")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	n := f.nrows
	if len(f.cols) == 0 {
		n = c.Len()
	}
	if c.Len() != n {
		return nil, fmt.Errorf("frame: column %q has %d rows, frame has %d: %w", c.Name, c.Len(), n, ErrLength)
	}
	c = c.normalized()
	cols := append([]*Column(nil), f.cols...)
	if i, ok := f.index[c.Name]; ok {
		cols[i] = c
	} else {
		cols = append(cols, c)
	}
	return newFrame(cols, n)
}

// Head returns the first n rows (all when n < 0 or n > NumRows), each value
// formatted as Column.Str does.
func (f *Frame) Head(n int) [][]string {
	if n < 0 || n > f.nrows {
		n = f.nrows
	}
	out := make([][]string, n)
	for i := range out {
		row := make([]string, len(f.cols))
		for j, c := range f.cols {
			row[j] = c.Str(i)
		}
		out[i] = row
	}
	return out
}

// Row returns row i as values (see Column.Value).
func (f *Frame) Row(i int) []any {
	out := make([]any, len(f.cols))
	for j, c := range f.cols {
		out[j] = c.Value(i)
	}
	return out
}

// String returns a short description: the shape and the schema.
func (f *Frame) String() string {
	return fmt.Sprintf("frame %d×%d [%s]", f.nrows, len(f.cols), f.Schema())
}
