package pipelines

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// The composer saves over a file it opened by editing the file's text,
// not by writing the draft out afresh: the lines of what did not change
// stay as they were (comments, key order, quoting, keys the composer does
// not know, such as schedule:), a changed field has its line rewritten
// with its trailing comment kept, and only a stage whose changed field
// spans several lines is written out whole. keepLayout says which stages
// lost their layout that way, so the composer can tell.
//
// The positions come from the parsed spec (where each stage item and
// value is); the lines between come from the file as read.

// draftOf is what the composer edits, as the file held it.
type draftOf struct {
	name, desc string
	seed       uint64
	stages     []engine.StageDraft
}

// keepLayout returns src edited to hold the draft d, and the ids of the
// stages written out whole. It returns ok false when src cannot be
// edited safely (it does not parse, or its stages are not a block list):
// the caller writes the draft afresh and says so.
func keepLayout(src []byte, d draftOf) (out []byte, rewritten []string, ok bool) {
	spec, err := engine.ParseSpec("pipeline.yaml", src)
	if err != nil || spec == nil || len(spec.Stages) == 0 {
		return nil, nil, false
	}
	lines := strings.Split(string(src), "\n")
	orig := engine.DraftSpec(spec)
	// Each stage's block: from the comment lines right above its item to
	// the line before the next block.
	n := len(spec.Stages)
	starts := make([]int, n) // 0-based line of the item
	for i, s := range spec.Stages {
		if s.Pos.Line < 1 || s.Pos.Line > len(lines) {
			return nil, nil, false
		}
		starts[i] = s.Pos.Line - 1
		if !strings.HasPrefix(strings.TrimSpace(lines[starts[i]]), "-") {
			return nil, nil, false // a flow sequence: [ {id: …}, … ]
		}
	}
	itemIndent := indentOf(lines[starts[0]])
	blockStart := make([]int, n)
	for i := range n {
		b := starts[i]
		for b > 0 && isComment(lines[b-1]) && indentOf(lines[b-1]) >= itemIndent && (i == 0 || b-1 > starts[i-1]) {
			b--
		}
		blockStart[i] = b
	}
	// The end of the last block: the first line after it, at the
	// indentation of a top-level key, that is not a comment or blank.
	end := len(lines)
	for l := starts[n-1] + 1; l < len(lines); l++ {
		t := lines[l]
		if strings.TrimSpace(t) != "" && !isComment(t) && indentOf(t) <= itemIndent && !strings.HasPrefix(strings.TrimSpace(t), "-") {
			end = l
			break
		}
	}
	// Trailing blank and comment lines of the last block stay after the
	// list (they belong to what follows, or to the file's end).
	for end > starts[n-1]+1 && (strings.TrimSpace(lines[end-1]) == "" || isComment(lines[end-1])) && indentOf(lines[end-1]) <= itemIndent {
		end--
	}
	blockEnd := make([]int, n)
	for i := range n {
		if i+1 < n {
			blockEnd[i] = blockStart[i+1]
		} else {
			blockEnd[i] = end
		}
	}

	// Match the draft's stages to the file's: by id, then by type in order.
	used := make([]bool, n)
	match := make([]int, len(d.stages))
	for i := range match {
		match[i] = -1
		for j, o := range orig {
			if !used[j] && o.ID == d.stages[i].ID {
				match[i], used[j] = j, true
				break
			}
		}
	}
	for i := range match {
		if match[i] >= 0 {
			continue
		}
		for j, o := range orig {
			if !used[j] && o.Uses == d.stages[i].Uses {
				match[i], used[j] = j, true
				break
			}
		}
	}

	var body []string
	for i, st := range d.stages {
		j := match[i]
		if j < 0 {
			body = append(body, stageText(st, itemIndent)...)
			continue
		}
		block := append([]string{}, lines[blockStart[j]:blockEnd[j]]...)
		edited, ok := editStage(block, starts[j]-blockStart[j], orig[j], st)
		if !ok {
			// Keep the comments above the item; write the stage afresh.
			edited = append(append([]string{}, block[:starts[j]-blockStart[j]]...), stageText(st, itemIndent)...)
			rewritten = append(rewritten, st.ID)
		}
		body = append(body, edited...)
	}
	if len(d.stages) == 0 {
		return nil, nil, false
	}
	head := append([]string{}, lines[:blockStart[0]]...)
	head, ok = editHeader(head, spec, d)
	if !ok {
		return nil, nil, false
	}
	all := append(append(head, body...), lines[end:]...)
	return []byte(strings.Join(all, "\n")), rewritten, true
}

// editHeader changes name:, description: and seed: where they differ.
func editHeader(head []string, spec *engine.Spec, d draftOf) ([]string, bool) {
	type field struct {
		key      string
		old, new string
		had      bool
	}
	fields := []field{
		{"name", spec.Name, engine.FormatValue(d.name), true},
		{"description", spec.Description, engine.FormatValue(d.desc), spec.Description != ""},
		{"seed", fmt.Sprint(spec.Seed), fmt.Sprint(d.seed), true},
	}
	changed := map[string]bool{"name": d.name != spec.Name, "description": d.desc != spec.Description, "seed": d.seed != spec.Seed}
	for _, f := range fields {
		if !changed[f.key] {
			continue
		}
		at := findKey(head, 0, len(head), 0, f.key)
		switch {
		case at >= 0 && f.key == "description" && d.desc == "":
			if continues(head, at, 0) {
				return nil, false
			}
			head = append(head[:at], head[at+1:]...)
		case at >= 0:
			if continues(head, at, 0) {
				return nil, false
			}
			head[at] = setValue(head[at], f.new)
		case f.key == "description":
			n := findKey(head, 0, len(head), 0, "name")
			if n < 0 {
				return nil, false
			}
			head = append(head[:n+1], append([]string{"description: " + f.new}, head[n+1:]...)...)
		case f.key == "seed":
			s := findKey(head, 0, len(head), 0, "stages")
			if s < 0 {
				return nil, false
			}
			head = append(head[:s], append([]string{"seed: " + f.new}, head[s:]...)...)
		default:
			return nil, false
		}
	}
	return head, true
}

// editStage changes the fields of one stage's block that differ between
// was and now. item is the block's line of the `- id:` item. It reports
// false when a changed field spans several lines.
func editStage(block []string, item int, was, now engine.StageDraft) ([]string, bool) {
	if reflect.DeepEqual(was, now) {
		return block, true
	}
	keyIndent := indentOf(block[item]) + 2
	if rest := strings.TrimLeft(block[item], " "); strings.HasPrefix(rest, "-") {
		keyIndent = indentOf(block[item]) + 1 + len(rest[1:]) - len(strings.TrimLeft(rest[1:], " "))
	}
	type field struct {
		key      string
		differs  bool
		value    string
		present  bool // written in now
		afterKey string
	}
	fields := []field{
		{"id", was.ID != now.ID, engine.FormatValue(now.ID), true, ""},
		{"uses", was.Uses != now.Uses, engine.FormatValue(now.Uses), true, "id"},
		{"needs", was.NeedsSet != now.NeedsSet || !reflect.DeepEqual(was.Needs, now.Needs), engine.FormatValue(append([]string{}, now.Needs...)), now.NeedsSet, "uses"},
		{"with", !reflect.DeepEqual(was.With, now.With), withText(now.With), len(now.With) > 0, "needs"},
		{"retries", was.Retries != now.Retries, fmt.Sprint(now.Retries), now.Retries > 0, "with"},
		{"timeout", was.Timeout != now.Timeout, timeoutText(now.Timeout), now.Timeout > 0, "retries"},
	}
	for _, f := range fields {
		if !f.differs {
			continue
		}
		at := findKey(block, item, len(block), keyIndent, f.key)
		if at < 0 && f.key == "id" {
			return nil, false
		}
		switch {
		case at >= 0 && continues(block, at, keyIndent):
			return nil, false
		case at >= 0 && !f.present:
			block = append(block[:at], block[at+1:]...)
		case at >= 0:
			block[at] = setValue(block[at], f.value)
		case f.present:
			// Insert after the last field that precedes it in the file's
			// usual order, or after the item.
			after := item
			for _, k := range []string{"id", "uses", "needs", "with", "retries"} {
				if l := findKey(block, item, len(block), keyIndent, k); l >= 0 && l > after {
					if fieldRank(k) < fieldRank(f.key) {
						after = l
						for after+1 < len(block) && indentOf(block[after+1]) > keyIndent && strings.TrimSpace(block[after+1]) != "" {
							after++
						}
					}
				}
			}
			line := strings.Repeat(" ", keyIndent) + f.key + ": " + f.value
			block = append(block[:after+1], append([]string{line}, block[after+1:]...)...)
		}
	}
	return block, true
}

func fieldRank(k string) int {
	return strings.Index("id uses needs with retries timeout", k)
}

func withText(with []engine.Setting) string {
	parts := make([]string, len(with))
	for i, s := range with {
		parts[i] = engine.FormatValue(s.Name) + ": " + engine.FormatValue(s.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func timeoutText(d time.Duration) string { return d.String() }

// stageText is a stage written afresh, its item at indent.
func stageText(st engine.StageDraft, indent int) []string {
	src := engine.FormatSpec("x", "", 0, []engine.StageDraft{st})
	all := strings.Split(strings.TrimRight(string(src), "\n"), "\n")
	var out []string
	for _, l := range all {
		if !strings.HasPrefix(l, "  ") {
			continue // name:, seed:, stages:
		}
		out = append(out, strings.Repeat(" ", indent)+l[2:])
	}
	return out
}

// findKey returns the line in [from, to) holding `key:` at the given
// indentation (after a "- " on the item's line), or -1.
func findKey(lines []string, from, to, indent int, key string) int {
	for l := from; l < to && l < len(lines); l++ {
		t := lines[l]
		rest := strings.TrimLeft(t, " ")
		col := len(t) - len(rest)
		if strings.HasPrefix(rest, "- ") {
			inner := strings.TrimLeft(rest[1:], " ")
			col += len(rest) - len(inner)
			rest = inner
		}
		if col == indent && (strings.HasPrefix(rest, key+":") || strings.HasPrefix(rest, `"`+key+`":`)) {
			return l
		}
	}
	return -1
}

// continues reports whether the value of the key on line at goes on past
// that line (a block value, or a flow value left open).
func continues(lines []string, at, indent int) bool {
	v, _ := splitComment(lines[at][strings.Index(lines[at], ":")+1:])
	v = strings.TrimSpace(v)
	if v == "" || v == "|" || v == ">" || strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">") {
		return true
	}
	if strings.Count(v, "{") != strings.Count(v, "}") || strings.Count(v, "[") != strings.Count(v, "]") {
		return true
	}
	return at+1 < len(lines) && strings.TrimSpace(lines[at+1]) != "" && !isComment(lines[at+1]) && indentOf(lines[at+1]) > indent &&
		!strings.HasPrefix(strings.TrimSpace(lines[at+1]), "-")
}

// setValue replaces the value of the `key: value  # comment` line,
// keeping the key, its indentation and the comment.
func setValue(line, value string) string {
	i := strings.Index(line, ":")
	_, comment := splitComment(line[i+1:])
	out := line[:i+1] + " " + value
	if comment != "" {
		out += "  " + comment
	}
	return out
}

// splitComment splits a line's rest into its value and a trailing
// comment (from a # after a space, outside quotes).
func splitComment(s string) (value, comment string) {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i], s[i:]
		}
	}
	return s, ""
}

func isComment(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "#") }

func indentOf(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
