package ml

import "errors"

// Errors for problems in the data. Fit and the other functions that can
// meet them return one of these wrapped with where it was found, so
// callers test with errors.Is.
var (
	// ErrNaN means an input holds NaN or an infinite value where the
	// model needs finite numbers.
	ErrNaN = errors.New("ml: NaN or infinite value")

	// ErrOneClass means a classifier was given targets with fewer than
	// two distinct classes.
	ErrOneClass = errors.New("ml: fewer than two classes")

	// ErrSingular means a linear system had no unique solution that the
	// model could use.
	ErrSingular = errors.New("ml: singular system")

	// ErrEmpty means there were no rows (or no usable values) to fit on.
	ErrEmpty = errors.New("ml: no data")

	// ErrTooFewSamples means a split asked for more folds or held-out
	// rows than the data (or a class in it) has.
	ErrTooFewSamples = errors.New("ml: too few samples")
)
