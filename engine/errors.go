package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel errors. Each located error wraps one of them, so callers can
// test with errors.Is.
var (
	// ErrSyntax reports a pipeline file that is not well-formed YAML.
	ErrSyntax = errors.New("syntax error")
	// ErrInvalid reports a pipeline file that parses but breaks a rule
	// (missing field, wrong type, value out of range, bad id).
	ErrInvalid = errors.New("invalid pipeline")
	// ErrUnknownStage reports a `uses:` naming no stage type in the catalog.
	ErrUnknownStage = errors.New("unknown stage type")
	// ErrUnknownParam reports a `with:` key the stage type does not declare.
	ErrUnknownParam = errors.New("unknown parameter")
	// ErrCycle reports `needs` edges that form a cycle.
	ErrCycle = errors.New("cycle in needs")
	// ErrMissingNeed reports a `needs` entry naming no stage.
	ErrMissingNeed = errors.New("missing need")
	// ErrWiring reports a stage fed the wrong kind or number of inputs.
	ErrWiring = errors.New("wrong input")
	// ErrNoFile reports a path parameter naming a file that does not exist.
	ErrNoFile = errors.New("no such file")
	// ErrNotFound reports a run, stage or model that is not in the store.
	ErrNotFound = errors.New("not found")
	// ErrCancelled reports a run or stage stopped by its context.
	ErrCancelled = errors.New("cancelled")
	// ErrNotRecorded reports a run whose final record could not be
	// written in full (a full disk, a store that failed mid-run).
	ErrNotRecorded = errors.New("failed to record")
)

// Pos is a 1-based line and column in a pipeline file. The zero Pos means
// the position is unknown (a --set override, say).
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// SpecError is one problem found in a pipeline file, located at file:line:col.
// It wraps one of the sentinel errors above.
type SpecError struct {
	File string
	Pos  Pos
	Msg  string
	Err  error
}

// Error formats the problem as "file:line:col: message".
func (e *SpecError) Error() string {
	file := e.File
	if file == "" {
		file = "<pipeline>"
	}
	if e.Pos.Line == 0 {
		return fmt.Sprintf("%s: %s", file, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", file, e.Pos.Line, e.Pos.Col, e.Msg)
}

// Unwrap returns the sentinel the problem belongs to.
func (e *SpecError) Unwrap() error { return e.Err }

// ErrorList is every problem found in one pipeline file, in file order.
// It unwraps to its elements, so errors.Is sees each sentinel.
type ErrorList []*SpecError

// Error prints one problem per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives the problems as errors.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// sorted returns the list in line order, stable for equal positions.
func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return l
}

// StageError is a stage that failed while running.
type StageError struct {
	Stage string
	Err   error
}

// Error formats the error as "stage ID: cause".
func (e *StageError) Error() string { return fmt.Sprintf("stage %s: %v", e.Stage, e.Err) }

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

// ParamError is returned by a stage type's Check to blame one parameter;
// validation places it at that parameter's position in the file.
type ParamError struct {
	Param string
	Msg   string
}

// Error gives the parameter and message.
func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

// DidYouMean returns the candidate closest to s by edit distance
// (ignoring case), or "" when none is close enough to be a likely typo.
// Validation uses it for stage types, parameters, ids and columns.
func DidYouMean(s string, candidates []string) string { return didYouMean(s, candidates) }

func didYouMean(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := max(len([]rune(s))/3, 2)
	if best != "" && (bestD <= limit || strings.HasPrefix(best, s) || strings.HasPrefix(s, best)) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
