package engine

import (
	"fmt"
	"strings"
)

// This file is the one reading of `--set STAGE.PARAM=VALUE` and of
// `--sweep STAGE.PARAM=V1,V2,…` that the command line and the workbench
// share: the command line gets one assignment per flag, the workbench one
// line of them separated by spaces (SplitSets).

// ParseOverrides parses each of sets with ParseOverride, stopping at the
// first that does not parse.
func ParseOverrides(sets []string) ([]Override, error) {
	var out []Override
	for _, s := range sets {
		o, err := ParseOverride(s)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// SplitSets splits a line of assignments separated by spaces, as a person
// types several --set (or --sweep) arguments on one line. A space inside
// brackets, braces or quotes belongs to its value, so
// `model.C=[0.1, 1] split.test_size=0.3` is two assignments. It returns an
// error for an unclosed bracket, brace or quote.
func SplitSets(text string) ([]string, error) {
	var out []string
	depth, quote, start := 0, byte(0), -1
	for i := 0; i <= len(text); i++ {
		if i == len(text) || (quote == 0 && depth == 0 && (text[i] == ' ' || text[i] == '\t')) {
			if start >= 0 {
				out = append(out, text[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
		switch c := text[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case (c == ']' || c == '}') && depth > 0:
			depth--
		}
	}
	switch {
	case quote != 0:
		return nil, fmt.Errorf("%s: unclosed quote %c", strings.TrimSpace(text), quote)
	case depth > 0:
		return nil, fmt.Errorf("%s: unclosed bracket or brace", strings.TrimSpace(text))
	}
	return out, nil
}

// CheckOverride checks an override against the plan it would change: the
// stage exists, it has the parameter, and the value is of the parameter's
// type and in its range. The plan is not changed.
func (p *Plan) CheckOverride(o Override) error {
	ps, ok := p.Stage(o.Stage)
	if !ok {
		return fmt.Errorf("%s: no stage %q", o.Text, o.Stage)
	}
	par, ok := ps.Type.Param(o.Param)
	if !ok {
		return fmt.Errorf("%s: %s has no parameter %q", o.Text, ps.Type.Name, o.Param)
	}
	if _, err := par.Coerce(o.Value); err != nil {
		return fmt.Errorf("%s: %v", o.Text, err)
	}
	return nil
}

// SweepAxis is one `--sweep STAGE.PARAM=V1,V2,…` argument: the values one
// parameter takes across a sweep, each as a --set would write it.
type SweepAxis struct {
	Key    string // STAGE.PARAM
	Values []string
}

// ParseSweep reads STAGE.PARAM=V1,V2,…; commas inside brackets, braces or
// quotes belong to a value.
func ParseSweep(s string) (SweepAxis, error) {
	key, list, ok := strings.Cut(s, "=")
	if !ok || !strings.Contains(key, ".") || strings.TrimSpace(list) == "" {
		return SweepAxis{}, fmt.Errorf("--sweep %q: want STAGE.PARAM=V1,V2,…", s)
	}
	var vals []string
	depth, quote, start := 0, byte(0), 0
	for i := 0; i <= len(list); i++ {
		if i < len(list) {
			c := list[i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
				continue
			case c == '"' || c == '\'':
				quote = c
				continue
			case c == '[' || c == '{':
				depth++
				continue
			case c == ']' || c == '}':
				depth--
				continue
			case c != ',' || depth > 0:
				continue
			}
		}
		v := strings.TrimSpace(list[start:i])
		if v == "" {
			return SweepAxis{}, fmt.Errorf("--sweep %q: an empty value", s)
		}
		vals = append(vals, v)
		start = i + 1
	}
	return SweepAxis{Key: strings.TrimSpace(key), Values: vals}, nil
}

// CrossProduct lists every combination of the axes' values as --set
// assignments, the first axis varying slowest.
func CrossProduct(axes []SweepAxis) [][]string {
	out := [][]string{{}}
	for _, a := range axes {
		var next [][]string
		for _, prefix := range out {
			for _, v := range a.Values {
				next = append(next, append(append([]string{}, prefix...), a.Key+"="+v))
			}
		}
		out = next
	}
	return out
}
