package frame

import (
	"errors"
	"strconv"
)

// Errors wrapped by ParseError and returned (wrapped) by the frame operations.
var (
	// ErrFieldCount: a CSV record has more or fewer fields than the header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrQuote: a quoted field is not terminated, a quote appears inside an
	// unquoted field, or a character follows a closing quote.
	ErrQuote = errors.New("bad quoting")
	// ErrBadValue: a value does not parse as its column's type.
	ErrBadValue = errors.New("bad value")
	// ErrUTF8: the input is not valid UTF-8.
	ErrUTF8 = errors.New("invalid UTF-8")
	// ErrNoHeader: a CSV input has no header row.
	ErrNoHeader = errors.New("missing header row")
	// ErrDuplicateName: two columns have the same name.
	ErrDuplicateName = errors.New("duplicate column name")
	// ErrJSON: a JSONL line is not a JSON object.
	ErrJSON = errors.New("bad JSON")
	// ErrNoColumn: a named column does not exist.
	ErrNoColumn = errors.New("no such column")
	// ErrLength: columns of different lengths were combined.
	ErrLength = errors.New("column lengths differ")
	// ErrType: a column has a type the operation cannot use.
	ErrType = errors.New("incompatible column type")
)

// ParseError is a problem at a place in an input file. Line and Col are
// 1-based; Col counts characters (runes), not bytes, from the start of the
// line and points where the problem starts: the first character of the bad
// field, the opening quote of an unterminated field, the stray quote, or,
// for a record with too few fields, just past its last character.
type ParseError struct {
	File string // the input's name (ReadOptions.Name); may be empty
	Line int    // 1-based line number
	Col  int    // 1-based character column in the line
	Err  error  // wraps one of the Err sentinels
}

// Error returns "file:line:col: message", or "line:col: message" when File
// is empty.
func (e *ParseError) Error() string {
	s := strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Err.Error()
	if e.File != "" {
		return e.File + ":" + s
	}
	return s
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }
