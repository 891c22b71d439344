package common

import (
	"fmt"
	"strings"
)

// SweepAxis is one --sweep STAGE.PARAM=V1,V2,…: a parameter and its values.
type SweepAxis struct {
	Key    string // STAGE.PARAM
	Values []string
}

// ParseSweep reads STAGE.PARAM=V1,V2,…; commas inside [] or {} or quotes
// belong to a value.
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
