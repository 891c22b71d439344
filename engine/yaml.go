package engine

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// nodeKind is the shape of a YAML value.
type nodeKind uint8

const (
	nodeNull nodeKind = iota
	nodeScalar
	nodeMap
	nodeSeq
)

// node is a YAML value with the position of every part, decoupled from the
// parser's AST so the rest of the package never sees it.
type node struct {
	kind   nodeKind
	pos    Pos
	value  any // nodeScalar: string, int64, float64 or bool
	keys   []string
	keyPos []Pos
	vals   []*node
	items  []*node
}

// get returns the value under key in a map node and the key's position.
func (n *node) get(key string) (*node, Pos, bool) {
	if n == nil || n.kind != nodeMap {
		return nil, Pos{}, false
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i], n.keyPos[i], true
		}
	}
	return nil, Pos{}, false
}

// plain converts the node to plain Go values: map[string]any, []any,
// string, int64, float64, bool or nil.
func (n *node) plain() any {
	if n == nil {
		return nil
	}
	switch n.kind {
	case nodeScalar:
		return n.value
	case nodeMap:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k] = n.vals[i].plain()
		}
		return m
	case nodeSeq:
		s := make([]any, len(n.items))
		for i, it := range n.items {
			s[i] = it.plain()
		}
		return s
	}
	return nil
}

// describe names the node's type for messages ("a number", "a list").
func (n *node) describe() string {
	if n == nil {
		return "nothing"
	}
	switch n.kind {
	case nodeMap:
		return "a mapping"
	case nodeSeq:
		return "a list"
	case nodeNull:
		return "null"
	}
	return describeValue(n.value)
}

func describeValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case int64, int:
		return fmt.Sprintf("the integer %v", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}

func posOf(tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{}
	}
	return Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// parseYAML parses one YAML document into a node tree. A syntax error is
// returned as a *SpecError located where the parser stopped.
//
// The parser is a library fed untrusted bytes: the input is first checked
// against the size and nesting limits (checkYAMLLimits), and a panic inside
// the parser is turned into a syntax error at line 1 rather than a crash.
func parseYAML(file string, src []byte) (n *node, err error) {
	if err := checkYAMLLimits(file, src); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = nil, &SpecError{File: file, Pos: Pos{1, 1}, Msg: fmt.Sprintf("yaml: the parser failed on this file (%v)", r), Err: ErrSyntax}
		}
	}()
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, yamlError(file, err)
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return &node{kind: nodeNull, pos: Pos{1, 1}}, nil
	}
	if len(docs) > 1 {
		return nil, &SpecError{File: file, Pos: posOf(docs[1].Body.GetToken()), Msg: "a pipeline file holds one YAML document", Err: ErrSyntax}
	}
	c := &converter{file: file}
	return c.convert(docs[0].Body, 0)
}

func yamlError(file string, err error) error {
	var se *yaml.SyntaxError
	if errors.As(err, &se) {
		return &SpecError{File: file, Pos: posOf(se.GetToken()), Msg: "yaml: " + se.GetMessage(), Err: ErrSyntax}
	}
	msg := err.Error()
	// Keep only the first line: the parser may append a source excerpt.
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return &SpecError{File: file, Pos: Pos{}, Msg: "yaml: " + msg, Err: ErrSyntax}
}

// converter turns the parser's AST into nodes, counting them against
// MaxYAMLNodes.
type converter struct {
	file  string
	nodes int
}

func (c *converter) convert(n ast.Node, depth int) (*node, error) {
	file := c.file
	if n == nil {
		return &node{kind: nodeNull}, nil
	}
	if depth > MaxYAMLDepth {
		return nil, &SpecError{File: file, Pos: posOf(n.GetToken()), Msg: "yaml: nesting too deep", Err: ErrSyntax}
	}
	if c.nodes++; c.nodes > MaxYAMLNodes {
		return nil, &SpecError{File: file, Pos: posOf(n.GetToken()), Msg: fmt.Sprintf("yaml: more than %d values in one file", MaxYAMLNodes), Err: ErrSyntax}
	}
	pos := posOf(n.GetToken())
	switch n := n.(type) {
	case *ast.NullNode:
		return &node{kind: nodeNull, pos: pos}, nil
	case *ast.StringNode:
		return &node{kind: nodeScalar, pos: pos, value: n.Value}, nil
	case *ast.LiteralNode:
		return &node{kind: nodeScalar, pos: pos, value: n.Value.Value}, nil
	case *ast.IntegerNode:
		switch v := n.Value.(type) {
		case int64:
			return &node{kind: nodeScalar, pos: pos, value: v}, nil
		case uint64:
			if v > math.MaxInt64 {
				return &node{kind: nodeScalar, pos: pos, value: float64(v)}, nil
			}
			return &node{kind: nodeScalar, pos: pos, value: int64(v)}, nil
		}
		return &node{kind: nodeScalar, pos: pos, value: fmt.Sprint(n.Value)}, nil
	case *ast.FloatNode:
		return &node{kind: nodeScalar, pos: pos, value: n.Value}, nil
	case *ast.InfinityNode:
		return &node{kind: nodeScalar, pos: pos, value: n.Value}, nil
	case *ast.NanNode:
		return &node{kind: nodeScalar, pos: pos, value: math.NaN()}, nil
	case *ast.BoolNode:
		return &node{kind: nodeScalar, pos: pos, value: n.Value}, nil
	case *ast.TagNode:
		return c.convert(n.Value, depth+1)
	case *ast.AnchorNode:
		return c.convert(n.Value, depth+1)
	case *ast.AliasNode:
		return nil, &SpecError{File: file, Pos: pos, Msg: "yaml: aliases are not supported in pipeline files", Err: ErrSyntax}
	case *ast.MappingValueNode:
		return c.convertMap([]*ast.MappingValueNode{n}, pos, depth)
	case *ast.MappingNode:
		return c.convertMap(n.Values, pos, depth)
	case *ast.SequenceNode:
		out := &node{kind: nodeSeq, pos: pos}
		for _, v := range n.Values {
			item, err := c.convert(v, depth+1)
			if err != nil {
				return nil, err
			}
			out.items = append(out.items, item)
		}
		return out, nil
	}
	return nil, &SpecError{File: file, Pos: pos, Msg: fmt.Sprintf("yaml: unsupported %s", n.Type()), Err: ErrSyntax}
}

func (c *converter) convertMap(vals []*ast.MappingValueNode, pos Pos, depth int) (*node, error) {
	file := c.file
	out := &node{kind: nodeMap, pos: pos}
	if len(vals) > 0 {
		out.pos = posOf(vals[0].Key.GetToken())
	}
	seen := map[string]bool{}
	for _, mv := range vals {
		if mv == nil || mv.Key == nil {
			return nil, &SpecError{File: file, Pos: pos, Msg: "yaml: a mapping entry without a key", Err: ErrSyntax}
		}
		kp := posOf(mv.Key.GetToken())
		var key string
		if s, ok := mv.Key.(ast.ScalarNode); ok {
			key = fmt.Sprint(s.GetValue())
		} else {
			return nil, &SpecError{File: file, Pos: kp, Msg: "yaml: mapping keys must be plain values", Err: ErrSyntax}
		}
		if seen[key] {
			return nil, &SpecError{File: file, Pos: kp, Msg: fmt.Sprintf("duplicate key %q", key), Err: ErrSyntax}
		}
		seen[key] = true
		v, err := c.convert(mv.Value, depth+1)
		if err != nil {
			return nil, err
		}
		if v.kind == nodeNull && v.pos.Line == 0 {
			v.pos = kp
		}
		out.keys = append(out.keys, key)
		out.keyPos = append(out.keyPos, kp)
		out.vals = append(out.vals, v)
	}
	return out, nil
}

// ParseValue parses a scalar or flow value written on the command line
// (`--set model.C=0.5`, `--set model.grid={C: [1, 10]}`) the way the same
// text would parse in a pipeline file.
func ParseValue(text string) (any, error) {
	n, err := parseYAML("--set", []byte("v: "+text))
	if err != nil {
		return nil, err
	}
	v, _, _ := n.get("v")
	return v.plain(), nil
}
