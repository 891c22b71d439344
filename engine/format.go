// The pipeline-file writer: StageDraft, the stages an editor holds, and
// FormatSpec and FormatValue, which write them as YAML that ParseSpec and
// ParseValue read back to the same values. The tuning stages' fold records
// are in candidate.go.

package engine

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// StageDraft is a stage as an editor holds it before it is written to a
// pipeline file: the parts of a StageSpec a person sets, without positions.
type StageDraft struct {
	ID       string
	Uses     string
	With     []Setting // parameters in the order they are written
	Needs    []string
	NeedsSet bool // write needs (an empty list means "no inputs"); false: the previous stage
	Retries  int
	Timeout  time.Duration
}

// Setting is one parameter of a StageDraft. Value is a plain value as a
// pipeline file holds it: string, bool, int, int64, float64, nil,
// time.Duration, []string, []any or map[string]any.
type Setting struct {
	Name  string
	Value any
}

// Get returns the value of the named parameter and whether it is set.
func (d *StageDraft) Get(name string) (any, bool) {
	for _, s := range d.With {
		if s.Name == name {
			return s.Value, true
		}
	}
	return nil, false
}

// Set sets the named parameter, keeping its place if it is already set.
func (d *StageDraft) Set(name string, v any) {
	for i := range d.With {
		if d.With[i].Name == name {
			d.With[i].Value = v
			return
		}
	}
	d.With = append(d.With, Setting{Name: name, Value: v})
}

// Unset removes the named parameter, so its default applies.
func (d *StageDraft) Unset(name string) {
	for i := range d.With {
		if d.With[i].Name == name {
			d.With = append(d.With[:i], d.With[i+1:]...)
			return
		}
	}
}

// DraftSpec returns the stages of a parsed spec as drafts, parameters in
// the order the file writes them. Overrides applied to the spec are kept
// as values.
func DraftSpec(s *Spec) []StageDraft {
	out := make([]StageDraft, 0, len(s.Stages))
	for _, st := range s.Stages {
		d := StageDraft{ID: st.ID, Uses: st.Uses, NeedsSet: st.NeedsSet, Retries: st.Retries, Timeout: st.Timeout}
		if st.NeedsSet {
			d.Needs = append([]string{}, st.Needs...)
		}
		names := make([]string, 0, len(st.With))
		for k := range st.With {
			names = append(names, k)
		}
		sort.Slice(names, func(i, j int) bool {
			a, b := st.withKeyPos[names[i]], st.withKeyPos[names[j]]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			if a.Col != b.Col {
				return a.Col < b.Col
			}
			return names[i] < names[j]
		})
		for _, k := range names {
			d.With = append(d.With, Setting{Name: k, Value: st.With[k]})
		}
		out = append(out, d)
	}
	return out
}

// FormatSpec writes a pipeline file holding the given name, description,
// seed and stages. The output is deterministic and parses back with
// ParseSpec to the same values: strings are quoted whenever a plain
// scalar would read differently, parameters are written as one flow map
// per stage in the order given, and nested maps with sorted keys.
func FormatSpec(name, description string, seed uint64, stages []StageDraft) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "name: %s\n", yamlString(name))
	if description != "" {
		fmt.Fprintf(&b, "description: %s\n", yamlString(description))
	}
	fmt.Fprintf(&b, "seed: %d\n", seed)
	b.WriteString("stages:\n")
	for _, st := range stages {
		fmt.Fprintf(&b, "  - id: %s\n", yamlString(st.ID))
		fmt.Fprintf(&b, "    uses: %s\n", yamlString(st.Uses))
		if st.NeedsSet {
			b.WriteString("    needs: ")
			writeList(&b, st.Needs)
			b.WriteByte('\n')
		}
		if len(st.With) > 0 {
			b.WriteString("    with: {")
			for i, s := range st.With {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(yamlString(s.Name))
				b.WriteString(": ")
				writeValue(&b, s.Value)
			}
			b.WriteString("}\n")
		}
		if st.Retries > 0 {
			fmt.Fprintf(&b, "    retries: %d\n", st.Retries)
		}
		if st.Timeout > 0 {
			fmt.Fprintf(&b, "    timeout: %s\n", st.Timeout)
		}
	}
	return b.Bytes()
}

func writeList(b *bytes.Buffer, items []string) {
	b.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(yamlString(s))
	}
	b.WriteByte(']')
}

// FormatValue renders a parameter value as a pipeline file writes it
// (and as ParseValue reads it back): 0.5, "a b", [x, y], {C: 1}.
func FormatValue(v any) string {
	var b bytes.Buffer
	writeValue(&b, v)
	return b.String()
}

// DisplayValue renders a recorded parameter value for people (show,
// compare, the workbench): as FormatValue, except that a whole number is
// written without a fraction. A run record read back from JSON holds every
// number as a float, so max_iter 100 would otherwise read 100.0.
func DisplayValue(v any) string { return FormatValue(wholeToInt(v)) }

func wholeToInt(v any) any {
	switch v := v.(type) {
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v)
		}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = wholeToInt(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = wholeToInt(e)
		}
		return out
	}
	return v
}

func writeValue(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(yamlString(v))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case float64:
		b.WriteString(yamlFloat(v))
	case time.Duration:
		b.WriteString(yamlString(v.String()))
	case []string:
		writeList(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(yamlString(k))
			b.WriteString(": ")
			writeValue(b, v[k])
		}
		b.WriteByte('}')
	default:
		writeOther(b, v)
	}
}

// writeOther handles the remaining numeric kinds and slices or maps of
// other element types through reflection.
func writeOther(b *bytes.Buffer, v any) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(yamlFloat(rv.Float()))
	case reflect.Slice, reflect.Array:
		items := make([]any, rv.Len())
		for i := range items {
			items[i] = rv.Index(i).Interface()
		}
		writeValue(b, items)
	case reflect.Map:
		m := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			m[fmt.Sprint(iter.Key().Interface())] = iter.Value().Interface()
		}
		writeValue(b, m)
	default:
		b.WriteString(yamlString(fmt.Sprint(v)))
	}
}

func yamlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	mant, exp, hasExp := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0" // YAML 1.1 readers want a dot in every float
	}
	if hasExp {
		return mant + "e" + exp
	}
	return mant
}

// plainSafe matches strings that may be written without quotes in both
// block and flow context; ParseValue then confirms each reads back as the
// same string (so true, null, 1e3 and the like are quoted).
var plainSafe = regexp.MustCompile(`^[A-Za-z_/][A-Za-z0-9_./+-]*$`)

// yamlString writes s as a YAML scalar that reads back as the string s.
func yamlString(s string) string {
	if plainSafe.MatchString(s) && len(s) <= 200 {
		if v, err := ParseValue(s); err == nil {
			if got, ok := v.(string); ok && got == s {
				return s
			}
		}
	}
	return quoteYAML(s)
}

// quoteYAML writes s double-quoted, escaping what YAML's double-quoted
// style needs escaped.
func quoteYAML(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 || r == 0xfeff {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
