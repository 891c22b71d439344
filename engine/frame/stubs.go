package frame

import (
	"errors"
	"hash"
	"io"
)

var errTODO = errors.New("frame: not implemented yet")

// SortKey names a sort column and its direction.
type SortKey struct {
	Column string
	Desc   bool
}

// SortBy returns the rows sorted by the keys (stable; missing values last).
func (f *Frame) SortBy(keys []SortKey) (*Frame, error) { return nil, errTODO }

// Dedupe returns the frame without repeated rows (keep first).
func (f *Frame) Dedupe(subset []string) (*Frame, error) { return nil, errTODO }

// DropNA drops rows with missing values.
func (f *Frame) DropNA(subset []string, how string) (*Frame, error) { return nil, errTODO }

// Cast converts a column to type t.
func (f *Frame) Cast(name string, t Type) (*Frame, error) { return nil, errTODO }

// Concat stacks frames.
func Concat(frames ...*Frame) (*Frame, error) { return nil, errTODO }

// Join joins two frames on key columns.
func Join(left, right *Frame, on []string, how string) (*Frame, error) { return nil, errTODO }

// ColumnSummary describes one column.
type ColumnSummary struct {
	Name    string
	Type    Type
	Count   int
	Missing int
	Mean    float64
	Std     float64
	Min     float64
	Max     float64
	Unique  int
	Top     []ValueCount
}

// ValueCount is a value and how often it occurs.
type ValueCount struct {
	Value string
	Count int
}

// Describe summarises each column.
func (f *Frame) Describe() []ColumnSummary { return nil }

// Hash feeds a deterministic encoding of the frame's content to h.
func (f *Frame) Hash(h hash.Hash) {}

// ReadJSONL reads JSON objects, one per line.
func ReadJSONL(r io.Reader, opts ReadOptions) (*Frame, error) { return nil, errTODO }

// ReadJSONLFile reads a JSONL file.
func ReadJSONLFile(path string, opts ReadOptions) (*Frame, error) { return nil, errTODO }

// WriteJSONL writes f as JSON objects, one per line.
func WriteJSONL(w io.Writer, f *Frame) error { return errTODO }

// WriteFileAtomic writes a file atomically.
func WriteFileAtomic(path string, write func(io.Writer) error) error { return errTODO }
