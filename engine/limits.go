package engine

import (
	"bytes"
	"fmt"
)

// Limits on a pipeline file. A pipeline file is small text written by a
// person or a tool; these bounds keep a hostile or broken one from making
// parsing or validation use memory out of proportion to its size. Each is
// reported as a located *SpecError wrapping ErrSyntax or ErrInvalid.
const (
	// MaxSpecBytes is the largest pipeline file (or --set value) parsed.
	MaxSpecBytes = 1 << 20
	// MaxYAMLDepth is the deepest nesting of mappings and lists, checked
	// before the YAML parser runs.
	MaxYAMLDepth = 64
	// MaxYAMLNodes is the most values (scalars, mappings and lists) a file
	// may hold.
	MaxYAMLNodes = 100_000
	// MaxStages is the most stages in one pipeline.
	MaxStages = 1000
	// MaxParams is the most parameters one stage's `with` may set.
	MaxParams = 256
)

// checkYAMLLimits rejects a file over MaxSpecBytes, or nested deeper than
// MaxYAMLDepth, before it reaches the YAML parser (whose memory grows
// steeply with nesting). The depth is estimated from the text: block
// indentation levels, compact "- - x" entries and open flow brackets
// outside quotes, comments and block scalars; it may overcount, never
// undercount, the nesting the parser sees. The number of values is
// estimated the same way (lines, separators and indicators) and held to
// MaxYAMLNodes, since the parser's tokens cost far more than their text.
func checkYAMLLimits(file string, src []byte) error {
	if len(src) > MaxSpecBytes {
		return &SpecError{File: file, Pos: Pos{1, 1}, Msg: fmt.Sprintf("the file is %d bytes; a pipeline file is at most %d", len(src), MaxSpecBytes), Err: ErrSyntax}
	}
	var (
		indents    []int // indentation of the open block levels
		flow       int   // open [ and { brackets
		quote      byte  // the open quote inside a flow collection, or 0
		blockBody  = -1  // indentation of the line that opened a block scalar, while in it
		lineNo     int
		afterBlock bool
		values     int // an upper estimate of the values the parser will make
	)
	tooMany := func(col int) error {
		return &SpecError{File: file, Pos: Pos{Line: lineNo, Col: col}, Msg: fmt.Sprintf("yaml: more than %d values in one file", MaxYAMLNodes), Err: ErrSyntax}
	}
	for len(src) > 0 {
		lineNo++
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		rest := bytes.TrimRight(line[indent:], " \t\r")
		if flow == 0 && quote == 0 {
			if blockBody >= 0 {
				if len(rest) == 0 || indent > blockBody {
					continue // a line of a literal or folded block
				}
				blockBody = -1
			}
			if len(rest) == 0 || rest[0] == '#' {
				continue
			}
			for len(indents) > 0 && indents[len(indents)-1] >= indent {
				indents = indents[:len(indents)-1]
			}
			indents = append(indents, indent)
			if values++; values > MaxYAMLNodes {
				return tooMany(indent + 1)
			}
		}
		depth := len(indents) + flow
		afterBlock = false
		for i := 0; i < len(rest); i++ {
			c := rest[i]
			if quote != 0 {
				switch {
				case c == '\\' && quote == '"':
					i++
				case c == quote:
					quote = 0
				}
				continue
			}
			switch c {
			case '#':
				if i == 0 || rest[i-1] == ' ' || rest[i-1] == '\t' {
					i = len(rest)
					continue
				}
			case '"', '\'':
				if flow > 0 || startsValue(rest, i) {
					quote = c
				}
			case '[', '{':
				if flow > 0 || startsValue(rest, i) {
					flow++
					depth++
					values++
				}
			case ']', '}':
				if flow > 0 {
					flow--
				}
			case ',':
				if flow > 0 {
					values++
				}
			case '-', '?':
				if flow == 0 && (i+1 == len(rest) || rest[i+1] == ' ') && startsValue(rest, i) {
					depth++
					values++
				}
			case ':':
				if i+1 == len(rest) || rest[i+1] == ' ' || rest[i+1] == ',' {
					values++
					if flow == 0 {
						depth++
					}
				}
			case '|', '>':
				if flow == 0 && startsValue(rest, i) {
					afterBlock = true
				}
			}
			if values > MaxYAMLNodes {
				return tooMany(indent + i + 1)
			}
			if depth > MaxYAMLDepth {
				return &SpecError{File: file, Pos: Pos{Line: lineNo, Col: indent + i + 1}, Msg: fmt.Sprintf("yaml: nesting deeper than %d levels", MaxYAMLDepth), Err: ErrSyntax}
			}
		}
		if afterBlock && flow == 0 {
			blockBody = indent
		}
	}
	return nil
}

// startsValue reports whether position i of a line (indentation removed)
// is where a value may begin: the start of the line, or after "- ", "? "
// or ": " (spaces skipped).
func startsValue(rest []byte, i int) bool {
	j := i - 1
	for j >= 0 && (rest[j] == ' ' || rest[j] == '\t') {
		j--
	}
	if j < 0 {
		return true
	}
	return (rest[j] == ':' || rest[j] == '-' || rest[j] == '?') && j+1 < i
}
