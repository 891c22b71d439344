package common

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// keymap is one scope's bindings as a key file names them.
type keymap struct {
	names    []string
	bindings map[string]*key.Binding
}

// keymaps are the bindings the footer, the help and the palette are built
// from, by scope ("global", "runs", …).
var keymaps = map[string]*keymap{}

// RegisterKeys makes the key.Binding fields of the struct km points to
// overridable from a key file under scope, each named by its field in
// snake case (RunWith: run_with); fixed names the fields whose keys the
// code reads itself and that a file may not change. It returns km.
func RegisterKeys[T any](scope string, km *T, fixed ...string) *T {
	v := reflect.ValueOf(km).Elem()
	km2 := &keymap{bindings: map[string]*key.Binding{}}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		b, ok := v.Field(i).Addr().Interface().(*key.Binding)
		if !ok || !f.IsExported() {
			continue
		}
		name := snake(f.Name)
		if contains(fixed, f.Name) {
			continue
		}
		km2.names = append(km2.names, name)
		km2.bindings[name] = b
	}
	sort.Strings(km2.names)
	keymaps[scope] = km2
	return km
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// KeyFileError is a key file that cannot be used, at a line and column.
type KeyFileError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *KeyFileError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// LoadKeyFile applies the key file at path over the registered bindings:
//
//	runs:
//	  compare: C            # one key
//	  delete: [D, delete]   # or several
//	global:
//	  palette: ";"
//
// A file that does not exist changes nothing. Nothing is changed unless
// the whole file is good: a scope or binding that does not exist, a key
// list that is empty, or a key another binding of the scope (or a global
// one) already has, is a *KeyFileError.
func LoadKeyFile(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	bad := func(n ast.Node, format string, args ...any) error {
		e := &KeyFileError{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf(format, args...)}
		if n != nil {
			if tk := n.GetToken(); tk != nil && tk.Position != nil {
				e.Line, e.Col = tk.Position.Line, tk.Position.Column
			}
		}
		return e
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var se *yaml.SyntaxError
		if errors.As(err, &se) {
			e := &KeyFileError{File: path, Line: 1, Col: 1, Msg: "yaml: " + se.GetMessage()}
			if tk := se.GetToken(); tk != nil && tk.Position != nil {
				e.Line, e.Col = tk.Position.Line, tk.Position.Column
			}
			return e
		}
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return &KeyFileError{File: path, Line: 1, Col: 1, Msg: "yaml: " + msg}
	}
	type change struct {
		scope, name string
		keys        []string
		at          ast.Node
	}
	var changes []change
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		top, ok := mapping(doc.Body)
		if !ok {
			return bad(doc.Body, "a key file maps scopes (%s) to their bindings", strings.Join(scopes(), ", "))
		}
		for _, sv := range top {
			scope := sv.Key.String()
			km, ok := keymaps[scope]
			if !ok {
				return bad(sv.Key, "no key scope %q; the scopes are %s", scope, strings.Join(scopes(), ", "))
			}
			binds, ok := mapping(sv.Value)
			if !ok {
				return bad(sv.Value, "%s: map binding names to keys", scope)
			}
			for _, bv := range binds {
				name := bv.Key.String()
				if _, ok := km.bindings[name]; !ok {
					return bad(bv.Key, "%s has no binding %q; it has %s", scope, name, strings.Join(km.names, ", "))
				}
				var keys []string
				switch v := bv.Value.(type) {
				case *ast.SequenceNode:
					for _, k := range v.Values {
						keys = append(keys, strings.TrimSpace(scalar(k)))
					}
				default:
					keys = []string{strings.TrimSpace(scalar(bv.Value))}
				}
				for _, k := range keys {
					if k == "" {
						return bad(bv.Value, "%s.%s: a key may not be empty", scope, name)
					}
				}
				if len(keys) == 0 {
					return bad(bv.Value, "%s.%s: give at least one key", scope, name)
				}
				changes = append(changes, change{scope, name, keys, bv.Value})
			}
		}
	}
	// Check every new key against the bindings as they will be.
	after := func(scope, name string) []string {
		for i := len(changes) - 1; i >= 0; i-- {
			if changes[i].scope == scope && changes[i].name == name {
				return changes[i].keys
			}
		}
		return keymaps[scope].bindings[name].Keys()
	}
	for _, c := range changes {
		others := []string{c.scope}
		if c.scope == "global" {
			others = scopes()
		} else if _, ok := keymaps["global"]; ok {
			others = append(others, "global")
		}
		for _, s := range others {
			for _, n := range keymaps[s].names {
				if s == c.scope && n == c.name {
					continue
				}
				for _, k := range after(s, n) {
					if contains(c.keys, k) {
						return bad(c.at, "%s.%s: key %q is already %s.%s", c.scope, c.name, k, s, n)
					}
				}
			}
		}
	}
	for _, c := range changes {
		b := keymaps[c.scope].bindings[c.name]
		b.SetKeys(c.keys...)
		b.SetHelp(strings.Join(c.keys, "/"), b.Help().Desc)
	}
	return nil
}

func mapping(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

func scalar(n ast.Node) string {
	if s, ok := n.(*ast.StringNode); ok {
		return s.Value
	}
	return n.String()
}

func scopes() []string {
	var out []string
	for s := range keymaps {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// SaveKeys returns a function that puts every registered binding back as
// it is now, so a test that loads a key file leaves the next one the
// keys it expects.
func SaveKeys() (restore func()) {
	saved := map[*key.Binding]key.Binding{}
	for _, km := range keymaps {
		for _, b := range km.bindings {
			saved[b] = *b
		}
	}
	return func() {
		for b, v := range saved {
			*b = v
		}
	}
}
