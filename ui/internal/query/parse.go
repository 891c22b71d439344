// Reading a query's text: the lexer, the parser of terms, and since:
// durations.

package query

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sluice-ml/sluice/engine"
)

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
