package query

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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

// The lexer.

type tokType int

const (
	tWord tokType = iota
	tString
	tOp
)

type token struct {
	typ  tokType
	text string
	col  int
	// glued reports that the token follows the previous one without a
	// space between them.
	glued bool
}

func isOpRune(r rune) bool { return r == '<' || r == '>' || r == '=' || r == '!' || r == ':' }

func lex(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	space := true
	for i := 0; i < len(rs); {
		r := rs[i]
		col := i + 1
		switch {
		case unicode.IsSpace(r):
			i++
			space = true
			continue
		case r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			if j == len(rs) {
				return nil, &Error{col, "a quote is not closed"}
			}
			out = append(out, token{typ: tString, text: string(rs[i+1 : j]), col: col, glued: !space})
			i = j + 1
		case isOpRune(r):
			j := i + 1
			if j < len(rs) && rs[j] == '=' && r != ':' {
				j++
			}
			op := string(rs[i:j])
			switch op {
			case "==":
				op = "="
			case "!":
				return nil, &Error{col, `"!" must be followed by "=" (use -WORD to negate)`}
			}
			out = append(out, token{typ: tOp, text: op, col: col, glued: !space})
			i = j
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !isOpRune(rs[j]) && rs[j] != '"' {
				j++
			}
			out = append(out, token{typ: tWord, text: string(rs[i:j]), col: col, glued: !space})
			i = j
		}
		space = false
	}
	return out, nil
}

// The parser.

type parser struct {
	toks []token
	i    int
	now  time.Time
}

func (p *parser) done() bool  { return p.i >= len(p.toks) }
func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }
func (p *parser) endCol() int {
	if len(p.toks) == 0 {
		return 1
	}
	t := p.toks[len(p.toks)-1]
	return t.col + utf8.RuneCountInString(t.text)
}

func (p *parser) term() (term, error) {
	t := p.next()
	neg := false
	if t.typ == tWord && strings.HasPrefix(t.text, "-") && len(t.text) > 1 && !isNumberStart(t.text[1:]) {
		neg = true
		t.text = t.text[1:]
		t.col++
	} else if t.typ == tWord && t.text == "-" && !p.done() && p.peek().glued {
		neg = true
		t = p.next()
	}
	switch t.typ {
	case tString:
		return term{kind: kText, neg: neg, text: strings.ToLower(t.text)}, nil
	case tOp:
		return term{}, &Error{t.col, fmt.Sprintf("%q needs a name before it (metric.NAME%s NUMBER, or KEY:VALUE)", t.text, t.text)}
	}
	if p.done() || p.peek().typ != tOp {
		return term{kind: kText, neg: neg, text: strings.ToLower(t.text)}, nil
	}
	op := p.next()
	if op.text == ":" {
		tm, err := p.field(t, op)
		tm.neg = neg
		return tm, err
	}
	tm, err := p.compare(t, op)
	tm.neg = neg
	return tm, err
}

func isNumberStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsDigit(r) || r == '.'
}

// value reads the operand after op.
func (p *parser) value(op token, what string) (token, error) {
	if p.done() {
		return token{}, &Error{p.endCol(), fmt.Sprintf("expected %s after %q", what, op.text)}
	}
	v := p.next()
	if v.typ == tOp {
		return token{}, &Error{v.col, fmt.Sprintf("expected %s after %q, got %q", what, op.text, v.text)}
	}
	return v, nil
}

func (p *parser) field(key, op token) (term, error) {
	k := strings.ToLower(key.text)
	if k == "since" {
		v, err := p.value(op, "an age (7d, 12h, 30m, 2w) or a date (2026-01-31)")
		if err != nil {
			return term{}, err
		}
		cut, err := cutoff(v.text, p.now)
		if err != nil {
			return term{}, &Error{v.col, err.Error()}
		}
		return term{kind: kSince, cutoff: cut}, nil
	}
	known := false
	for _, f := range Fields {
		known = known || f == k
	}
	if !known {
		msg := fmt.Sprintf("unknown field %q", key.text)
		if s := engine.DidYouMean(k, append(append([]string{}, Fields...), "since")); s != "" {
			msg += "; did you mean " + s + ":?"
		} else {
			msg += " (fields: " + strings.Join(Fields, ", ") + ", since)"
		}
		return term{}, &Error{key.col, msg}
	}
	v, err := p.value(op, "a value")
	if err != nil {
		return term{}, err
	}
	glob := strings.ToLower(v.text)
	if _, err := path.Match(glob, ""); err != nil {
		return term{}, &Error{v.col, fmt.Sprintf("bad pattern %q", v.text)}
	}
	return term{kind: kField, text: k, value: glob, literal: !strings.ContainsAny(glob, `*?[\`)}, nil
}

func (p *parser) compare(name, op token) (term, error) {
	n := name.text
	lower := strings.ToLower(n)
	switch {
	case strings.HasPrefix(lower, "param."):
		parts := strings.SplitN(n[len("param."):], ".", 2)
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return term{}, &Error{name.col, fmt.Sprintf("%q: want param.STAGE.NAME", n)}
		}
		v, err := p.value(op, "a value")
		if err != nil {
			return term{}, err
		}
		// Stage ids are lower case (the spec's rule), so the stage is
		// looked up exactly.
		tm := term{kind: kParam, text: strings.ToLower(parts[0]), name: parts[1], op: op.text, value: v.text}
		if f, err := strconv.ParseFloat(v.text, 64); err == nil && v.typ == tWord {
			tm.num, tm.isNum = f, true
		}
		return tm, nil
	case strings.HasPrefix(lower, "metric."):
		n = n[len("metric."):]
		if n == "" {
			return term{}, &Error{name.col, "metric. needs a name: metric.NAME"}
		}
	default:
		for _, f := range append(append([]string{}, Fields...), "since") {
			if lower == f {
				return term{}, &Error{op.col, fmt.Sprintf("%s takes a value after a colon: %s:VALUE", f, f)}
			}
		}
	}
	v, err := p.value(op, "a number")
	if err != nil {
		return term{}, err
	}
	f, err := strconv.ParseFloat(v.text, 64)
	if err != nil || v.typ != tWord {
		return term{}, &Error{v.col, fmt.Sprintf("expected a number after %q, got %q", op.text, v.text)}
	}
	return term{kind: kMetric, text: n, op: op.text, num: f}, nil
}

// cutoff reads an age (7d, 12h, 30m, 2w, 90s) or a date.
func cutoff(s string, now time.Time) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	if len(s) < 2 {
		return time.Time{}, fmt.Errorf("%q is not an age (7d, 12h, 30m, 2w) or a date (2026-01-31)", s)
	}
	n, err := strconv.ParseFloat(s[:len(s)-1], 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("%q is not an age (7d, 12h, 30m, 2w) or a date (2026-01-31)", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return time.Time{}, fmt.Errorf("%q: the unit is one of s, m, h, d, w", s)
	}
	return now.Add(-time.Duration(n * float64(unit))), nil
}

// Item is a ready-made Subject built from plain values.
type Item struct {
	Search  string // free text, lower case
	Metrics map[string]float64
	Params  map[string]map[string]any
	Fields  map[string][]string
	Started time.Time
}

// Text returns the search text.
func (it *Item) Text() string { return it.Search }

// Metric looks a metric up by name, exactly, then ignoring case.
func (it *Item) Metric(name string) (float64, bool) { return lookup(it.Metrics, name) }

// Param looks a stage's parameter up.
func (it *Item) Param(stage, name string) (any, bool) {
	ps, ok := lookup(it.Params, stage)
	if !ok {
		return nil, false
	}
	return lookup(ps, name)
}

// Field returns a field's values.
func (it *Item) Field(key string) []string { return it.Fields[key] }

// Time returns when the item started.
func (it *Item) Time() time.Time { return it.Started }

func lookup[V any](m map[string]V, name string) (V, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Run is a run summary as a Subject.
type Run struct {
	S      *engine.RunSummary
	Search string // RunText(S)
}

// NewRun returns the subject of a run summary, its search text computed
// once.
func NewRun(s *engine.RunSummary) *Run { return &Run{S: s, Search: RunText(s)} }

// RunText is the free text of a run: its number (#12 and 12), pipeline,
// status, file, metrics, tags and note, in lower case.
func RunText(s *engine.RunSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %d %s %s %s", s.ID, s.ID, s.Pipeline, s.Status, s.File)
	if s.Sweep != "" {
		b.WriteString(" sweep " + s.Sweep)
	}
	for _, k := range sortedKeys(s.Metrics) {
		fmt.Fprintf(&b, " %s %.4f", k, s.Metrics[k])
	}
	for _, t := range s.Tags {
		b.WriteString(" " + t)
	}
	if s.Note != "" {
		b.WriteString(" " + s.Note)
	}
	return strings.ToLower(b.String())
}

// Text returns the run's search text.
func (r *Run) Text() string { return r.Search }

// Metric returns one of the run's headline metrics.
func (r *Run) Metric(name string) (float64, bool) { return lookup(r.S.Metrics, name) }

// Param returns a stage's parameter as the run used it.
func (r *Run) Param(stage, name string) (any, bool) {
	ps, ok := r.S.Params[stage]
	if !ok {
		return nil, false
	}
	return lookup(ps, name)
}

// Field returns status, pipeline and tag.
func (r *Run) Field(key string) []string {
	switch key {
	case "status":
		return []string{r.S.Status.String()}
	case "pipeline":
		return []string{r.S.Pipeline}
	case "tag":
		return r.S.Tags
	case "sweep":
		if r.S.Sweep != "" {
			return []string{r.S.Sweep}
		}
	}
	return nil
}

// FieldValue gives status, pipeline and sweep without a slice; tag has
// several values and goes through Field.
func (r *Run) FieldValue(key string) (string, bool) {
	switch key {
	case "status":
		return r.S.Status.String(), true
	case "pipeline":
		return r.S.Pipeline, true
	case "sweep":
		return r.S.Sweep, true
	}
	return "", false
}

// Time is when the run started.
func (r *Run) Time() time.Time { return r.S.Started }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
