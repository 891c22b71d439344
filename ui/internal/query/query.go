// A query and its matching: Query, Parse and Match, and how each term
// compares a subject's fields, metrics and parameters. The lexer and
// parser are in parse.go; the subjects (Item, Run) in subject.go.

package query

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// Fields are the KEY:VALUE keys a query may use, besides since.
var Fields = []string{"status", "tag", "pipeline", "sweep", "uses", "kind", "group"}

// Subject is one item of a list, as a query sees it.
type Subject interface {
	// Text is what free text is looked for in, in lower case.
	Text() string
	// Metric returns a metric's value.
	Metric(name string) (float64, bool)
	// Param returns a stage's parameter.
	Param(stage, name string) (any, bool)
	// Field returns the values of a KEY:VALUE field (several for tags).
	Field(key string) []string
	// Time is when the item started (zero: never), for since:.
	Time() time.Time
}

// Error is a query that does not parse: Col is the 1-based column (in
// runes) where the problem is.
type Error struct {
	Col int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("col %d: %s", e.Col, e.Msg) }

// Query is a parsed query: alternatives (or) of terms that must all
// match.
type Query struct {
	src  string
	alts [][]term
}

// String returns the query as written.
func (q *Query) String() string { return q.src }

// Empty reports whether the query selects everything.
func (q *Query) Empty() bool { return q == nil || len(q.alts) == 0 }

type kind int

const (
	kText kind = iota
	kMetric
	kParam
	kField
	kSince
)

type term struct {
	kind   kind
	neg    bool
	text   string // free text (lower case), field key, metric name, param stage
	name   string // param name
	op     string // < <= > >= = !=
	value  string // field glob (lower case) or param value
	num    float64
	isNum  bool
	cutoff time.Time
	// literal: the field value has no glob characters, so it is compared
	// without path.Match.
	literal bool
}

// singleFielder is a Subject that can give a single-valued field without
// building a slice (Run does): the fast path for long lists.
type singleFielder interface {
	FieldValue(key string) (string, bool)
}

// Parse parses a query, with since: counted back from now.
func Parse(s string) (*Query, error) { return ParseAt(s, time.Now()) }

// ParseAt parses a query, with since: counted back from now. An empty
// query (only spaces) selects everything.
func ParseAt(s string, now time.Time) (*Query, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	q := &Query{src: s}
	var cur []term
	p := &parser{toks: toks, now: now}
	for !p.done() {
		t := p.peek()
		if t.typ == tWord && strings.EqualFold(t.text, "or") {
			p.next()
			if len(cur) == 0 {
				return nil, &Error{t.col, "or needs a condition on each side"}
			}
			if p.done() {
				return nil, &Error{t.col, "or needs a condition on each side"}
			}
			q.alts = append(q.alts, cur)
			cur = nil
			continue
		}
		tm, err := p.term()
		if err != nil {
			return nil, err
		}
		cur = append(cur, tm)
	}
	if len(cur) > 0 {
		q.alts = append(q.alts, cur)
	}
	return q, nil
}

// Match reports whether s satisfies the query.
func (q *Query) Match(s Subject) bool {
	if q.Empty() {
		return true
	}
	for _, alt := range q.alts {
		ok := true
		for i := range alt {
			if alt[i].match(s) == alt[i].neg {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (t *term) match(s Subject) bool {
	switch t.kind {
	case kText:
		return strings.Contains(s.Text(), t.text)
	case kMetric:
		v, ok := s.Metric(t.text)
		return ok && compareNum(v, t.op, t.num)
	case kParam:
		v, ok := s.Param(t.text, t.name)
		return ok && t.compareParam(v)
	case kField:
		if sf, ok := s.(singleFielder); ok {
			if v, ok := sf.FieldValue(t.text); ok {
				if t.literal {
					return strings.EqualFold(v, t.value)
				}
				m, _ := path.Match(t.value, strings.ToLower(v))
				return m
			}
		}
		for _, v := range s.Field(t.text) {
			if t.literal {
				if strings.EqualFold(v, t.value) {
					return true
				}
				continue
			}
			if ok, _ := path.Match(t.value, strings.ToLower(v)); ok {
				return true
			}
		}
		return false
	case kSince:
		at := s.Time()
		return !at.IsZero() && !at.Before(t.cutoff)
	}
	return false
}

func compareNum(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "=":
		// Numbers shown with four decimals compare equal to what is shown.
		return a == b || math.Abs(a-b) <= 5e-5*max(1, math.Abs(b))
	case "!=":
		return !compareNum(a, "=", b)
	}
	return false
}

func (t *term) compareParam(v any) bool {
	if t.isNum {
		if f, ok := toFloat(v); ok {
			return compareNum(f, t.op, t.num)
		}
	}
	got := strings.ToLower(engine.FormatValue(v))
	want := strings.ToLower(t.value)
	switch t.op {
	case "=":
		return got == want
	case "!=":
		return got != want
	case "<":
		return got < want
	case "<=":
		return got <= want
	case ">":
		return got > want
	case ">=":
		return got >= want
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}
