package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind is the kind of data that flows along an edge of the DAG.
type Kind uint8

// Kinds of data. The numbers are persisted; do not renumber.
const (
	KindNone   Kind = 0 // a stage that gives nothing downstream
	KindTable  Kind = 1 // a table (the catalog's frame.Frame)
	KindSplit  Kind = 2 // train and test tables, target, the fitted preprocessing chain
	KindModel  Kind = 3 // a fitted model with its chain, schema and test set
	KindReport Kind = 4 // metrics and curves computed on held-out data
)

var kindNames = [...]string{"none", "table", "split", "model", "report"}

// String names the kind as the catalog does.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// MarshalJSON writes the kind's name ("table", "model", …).
func (k Kind) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// UnmarshalJSON reads a kind's name, or its number as records written
// before kinds were named hold it.
func (k *Kind) UnmarshalJSON(b []byte) error {
	var n uint8
	if err := json.Unmarshal(b, &n); err == nil {
		if int(n) >= len(kindNames) {
			return fmt.Errorf("kind: unknown kind %d", n)
		}
		*k = Kind(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("kind: want a name or a number, got %s", b)
	}
	for i, name := range kindNames {
		if name == s {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("kind: unknown kind %q", s)
}

// ParamType is the type of a stage parameter's value.
type ParamType uint8

// Parameter types.
const (
	TypeString   ParamType = iota + 1 // any string
	TypeInt                           // an integer
	TypeFloat                         // a number
	TypeBool                          // true or false
	TypeDuration                      // "30s", "2m"
	TypeEnum                          // one of Param.Enum
	TypeStrings                       // a list of strings (a single string is a list of one)
	TypeMap                           // a mapping of names to values
	TypePath                          // a file path, relative to the pipeline file
	TypeExpr                          // an expression (expr-lang syntax)
	TypeAny                           // any YAML value; the stage's Check validates it
)

var paramTypeNames = map[ParamType]string{
	TypeString: "string", TypeInt: "int", TypeFloat: "float", TypeBool: "bool",
	TypeDuration: "duration", TypeEnum: "enum", TypeStrings: "list", TypeMap: "map",
	TypePath: "path", TypeExpr: "expr", TypeAny: "any",
}

// String names the type as `sluice stages` shows it.
func (t ParamType) String() string {
	if s, ok := paramTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type(%d)", t)
}

// Param declares one parameter of a stage type. The one declaration drives
// validation, `sluice stages`, the workbench's forms and the README catalog.
type Param struct {
	Name     string
	Type     ParamType
	Default  any      // nil: no default (Required, or optional and absent)
	Required bool     // the file must set it
	Min, Max *float64 // inclusive bounds for int and float
	Enum     []string // allowed values for TypeEnum
	Null     any      // the value a YAML null stands for (nil: null is not allowed)
	Scalars  bool     // TypeString: a number or bool is taken as its text (a column named 2024, max_features 0.5)
	Doc      string   // one line
	Input    bool     // TypePath: a file the stage reads; must exist before the run
	Output   bool     // TypePath: a file the stage writes
	Glob     bool     // TypePath Input: may also be a glob pattern or a folder (see ExpandInput)
}

// Range returns a pointer to v, for Param.Min and Param.Max.
func Range(v float64) *float64 { return &v }

// RunFunc does a stage's work. It returns the stage's output, or an error
// that fails this attempt (the executor retries as the stage says).
type RunFunc func(ctx context.Context, sc *StageContext) (*Output, error)

// CheckFunc validates a stage's parameters against what flows into it at
// validation time, and says what flows out. It may return several errors;
// a *ParamError is placed at that parameter in the file.
type CheckFunc func(params Params, in []Shape, env CheckEnv) (Shape, []error)

// CheckEnv is what a CheckFunc may read besides the parameters and the
// shapes flowing in: the pipeline's own setting, given explicitly.
type CheckEnv struct {
	// Dir is the pipeline file's folder: relative paths in the
	// parameters resolve against it (engine.ResolvePath), as at run time
	// against StageContext.Plan.Spec.Dir.
	Dir string
}

// Shape is what validation knows of a value flowing along an edge before
// anything runs: its kind and, when known, its columns.
type Shape struct {
	Kind   Kind
	Schema Schema // table columns, or a split's feature columns (nil: unknown)
	Target string // split and model: the target column
	Task   string // split and model: "classification", "regression" or "" (unknown)
}

// StageType is one entry of the catalog.
type StageType struct {
	Name   string
	Group  string // extract, transform, load, split, preprocess, train, tune, evaluate, export
	Doc    string // one line
	In     Kind   // the kind of every input (KindNone: takes no input)
	MinIn  int    // fewest inputs
	MaxIn  int    // most inputs; -1 for any number
	Out    Kind
	Params []Param
	// Metrics declares every metric the stage reports, with which way it
	// improves (Compare marks the best run by it).
	Metrics []Metric
	Check   CheckFunc // optional
	Run     RunFunc   // nil for a FanOut stage: FanOut.Run
	// FanOut, when not nil, is how the stage's work splits into units
	// that may run anywhere (see FanOut); the local executor runs it with
	// FanOut.Run. nil for ordinary stages.
	FanOut *FanOut
	// Cache says whether an earlier result of this stage may stand in
	// for running it (the zero value: it may, when its fingerprint
	// matches).
	Cache CachePolicy
	// Reads lists the files the stage reads, as written in its
	// parameters, relative to dir unless absolute; their bytes are part
	// of its fingerprint. nil: its Input path parameters.
	Reads func(p Params, dir string) ([]string, error)
}

// CachePolicy is what a stage type declares about reusing its results.
type CachePolicy uint8

// Cache policies.
const (
	// CacheReuse: the output is a function of the fingerprint alone (type,
	// parameters, inputs, files read, seed, version); a stored result with
	// the same fingerprint is reused.
	CacheReuse CachePolicy = iota
	// CacheVerifyWrites: the stage also writes files (its Output path
	// parameters). A stored result is reused only while every file it
	// wrote is still there with the bytes it wrote.
	CacheVerifyWrites
	// CacheNever: the stage has effects or reads things no fingerprint
	// covers (a command, a database). It always runs, and so do its
	// dependents.
	CacheNever
)

// String names the policy as `sluice stages` shows it.
func (c CachePolicy) String() string {
	switch c {
	case CacheReuse:
		return "reuse"
	case CacheVerifyWrites:
		return "reuse while its files are unchanged"
	case CacheNever:
		return "always runs"
	}
	return fmt.Sprintf("cache(%d)", c)
}

// Param returns the declaration of the named parameter.
func (t *StageType) Param(name string) (*Param, bool) {
	for i := range t.Params {
		if t.Params[i].Name == name {
			return &t.Params[i], true
		}
	}
	return nil, false
}

// Registry is the stage catalog. It is built once at start-up and read
// concurrently afterwards.
type Registry struct {
	types  map[string]*StageType
	order  []string
	decode DecodeFunc
}

// SetDecoder sets how values of this catalog are read back from their
// artifacts (the inverse of Value.Encode). Plans validated against the
// registry carry it, so an executor can load stored outputs. Call it at
// start-up, before the registry is shared.
func (r *Registry) SetDecoder(fn DecodeFunc) { r.decode = fn }

// NewRegistry returns a registry holding types. It panics on a duplicate
// name or a declaration that breaks its own rules (a programming error).
func NewRegistry(types ...*StageType) *Registry {
	r := &Registry{types: map[string]*StageType{}}
	for _, t := range types {
		r.Add(t)
	}
	return r
}

// Add registers t. It panics on a duplicate or malformed declaration.
func (r *Registry) Add(t *StageType) {
	if t.FanOut != nil {
		if t.FanOut.Units == nil || t.FanOut.RunUnit == nil || t.FanOut.Reduce == nil {
			panic("engine: stage type " + t.Name + " has a FanOut without Units, RunUnit or Reduce")
		}
		if t.Run == nil {
			t.Run = t.FanOut.Run
		}
	}
	if t.Name == "" || t.Run == nil {
		panic("engine: stage type needs a name and a Run func")
	}
	if _, dup := r.types[t.Name]; dup {
		panic("engine: duplicate stage type " + t.Name)
	}
	writes, hasAllow := false, false
	for _, p := range t.Params {
		writes = writes || (p.Type == TypePath && p.Output)
		hasAllow = hasAllow || p.Name == AllowOutsideParam
	}
	if writes && !hasAllow {
		// Every writer takes the write policy's escape hatch (OutputPath).
		t.Params = append(t.Params, Param{Name: AllowOutsideParam, Type: TypeBool, Default: false,
			Doc: "allow an output path outside the pipeline's folder (symbolic links followed)"})
	}
	for _, p := range t.Params {
		if p.Type == TypeEnum && len(p.Enum) == 0 {
			panic("engine: enum parameter without values: " + t.Name + "." + p.Name)
		}
		if p.Default != nil {
			if _, err := coerce(&p, p.Default); err != nil {
				panic(fmt.Sprintf("engine: bad default for %s.%s: %v", t.Name, p.Name, err))
			}
		}
	}
	seen := map[string]bool{}
	for _, m := range t.Metrics {
		if m.Name == "" || seen[m.Name] || m.Better > Unranked {
			panic(fmt.Sprintf("engine: bad or duplicate metric declaration %s.%q", t.Name, m.Name))
		}
		seen[m.Name] = true
	}
	r.types[t.Name] = t
	r.order = append(r.order, t.Name)
}

// Lookup returns the named stage type.
func (r *Registry) Lookup(name string) (*StageType, bool) {
	t, ok := r.types[name]
	return t, ok
}

// Types returns every stage type, grouped in catalog order and by name
// within a group.
func (r *Registry) Types() []*StageType {
	out := make([]*StageType, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.types[n])
	}
	rank := map[string]int{}
	for i, g := range Groups {
		rank[g] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		gi, gj := rank[out[i].Group], rank[out[j].Group]
		if gi != gj {
			return gi < gj
		}
		return false
	})
	return out
}

// Names returns the names of every stage type, sorted.
func (r *Registry) Names() []string {
	out := append([]string(nil), r.order...)
	sort.Strings(out)
	return out
}

// Groups lists the catalog's groups in pipeline order.
var Groups = []string{"extract", "transform", "load", "split", "preprocess", "train", "tune", "evaluate", "export"}

// Params are a stage's parameters after defaults and overrides, each of the
// Go type its declaration implies: string (string, enum, path, expr), int,
// float64, bool, time.Duration, []string, map[string]any, or any.
type Params map[string]any

// String returns a string parameter, or "".
func (p Params) String(name string) string { s, _ := p[name].(string); return s }

// Int returns an int parameter, or 0.
func (p Params) Int(name string) int { v, _ := p[name].(int); return v }

// Float returns a float parameter, or 0.
func (p Params) Float(name string) float64 { v, _ := p[name].(float64); return v }

// Bool returns a bool parameter, or false.
func (p Params) Bool(name string) bool { v, _ := p[name].(bool); return v }

// Duration returns a duration parameter, or 0.
func (p Params) Duration(name string) time.Duration { v, _ := p[name].(time.Duration); return v }

// Strings returns a list parameter, or nil.
func (p Params) Strings(name string) []string { v, _ := p[name].([]string); return v }

// Map returns a map parameter, or nil.
func (p Params) Map(name string) map[string]any { v, _ := p[name].(map[string]any); return v }

// Has reports whether the parameter is set (given or defaulted).
func (p Params) Has(name string) bool { _, ok := p[name]; return ok }

// coerce converts a YAML value to the Go type of the parameter, checking
// enum membership and range.
func coerce(p *Param, v any) (any, error) {
	bad := func() (any, error) {
		return nil, fmt.Errorf("%s wants %s, got %s", p.Name, wantText(p), describeValue(v))
	}
	if v == nil && p.Null != nil {
		v = p.Null
	}
	var out any
	switch p.Type {
	case TypeString, TypePath, TypeExpr:
		switch s := v.(type) {
		case string:
			out = s
		case int64, float64, bool:
			if p.Type == TypeString && p.Scalars {
				out = fmt.Sprint(s)
			} else {
				return bad()
			}
		default:
			return bad()
		}
		if p.Type != TypeString && out.(string) == "" {
			return nil, fmt.Errorf("%s must not be empty", p.Name)
		}
	case TypeEnum:
		s, ok := v.(string)
		if !ok {
			if b, isBool := v.(bool); isBool {
				s = fmt.Sprint(b)
			} else {
				return bad()
			}
		}
		found := false
		for _, e := range p.Enum {
			if e == s {
				found = true
			}
		}
		if !found {
			msg := fmt.Sprintf("%s must be one of %s, got %q", p.Name, strings.Join(p.Enum, ", "), s)
			if d := didYouMean(s, p.Enum); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			}
			return nil, fmt.Errorf("%s", msg)
		}
		out = s
	case TypeInt:
		switch n := v.(type) {
		case int64:
			out = int(n)
		case int:
			out = n
		case float64:
			if n != float64(int64(n)) {
				return bad()
			}
			out = int(n)
		default:
			return bad()
		}
	case TypeFloat:
		switch n := v.(type) {
		case int64:
			out = float64(n)
		case int:
			out = float64(n)
		case float64:
			out = n
		default:
			return bad()
		}
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		out = b
	case TypeDuration:
		switch d := v.(type) {
		case string:
			dur, err := time.ParseDuration(d)
			if err != nil || dur < 0 {
				return nil, fmt.Errorf("%s wants a duration like 30s or 2m, got %q", p.Name, d)
			}
			out = dur
		case time.Duration:
			out = d
		default:
			return bad()
		}
	case TypeStrings:
		switch s := v.(type) {
		case string:
			out = []string{s}
		case []string:
			out = s
		case []any:
			l := make([]string, len(s))
			for i, e := range s {
				switch e := e.(type) {
				case string:
					l[i] = e
				case int64, float64, bool:
					l[i] = fmt.Sprint(e)
				default:
					return nil, fmt.Errorf("%s wants a list of strings, item %d is %s", p.Name, i+1, describeValue(e))
				}
			}
			out = l
		default:
			return bad()
		}
	case TypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		out = m
	case TypeAny:
		out = v
	default:
		return nil, fmt.Errorf("%s has an undeclared type", p.Name)
	}
	if p.Min != nil || p.Max != nil {
		var f float64
		switch n := out.(type) {
		case int:
			f = float64(n)
		case float64:
			f = n
		}
		if p.Min != nil && f < *p.Min || p.Max != nil && f > *p.Max {
			return nil, fmt.Errorf("%s must be %s, got %v", p.Name, rangeText(p), out)
		}
	}
	return out, nil
}

func wantText(p *Param) string {
	switch p.Type {
	case TypeString:
		return "a string"
	case TypePath:
		return "a file path"
	case TypeExpr:
		return "an expression"
	case TypeEnum:
		return "one of " + strings.Join(p.Enum, ", ")
	case TypeInt:
		return "an integer"
	case TypeFloat:
		return "a number"
	case TypeBool:
		return "true or false"
	case TypeDuration:
		return "a duration like 30s"
	case TypeStrings:
		return "a list of strings"
	case TypeMap:
		return "a mapping"
	}
	return "a value"
}

// rangeText renders a parameter's bounds: "≥ 0", "in [0, 1]".
func rangeText(p *Param) string {
	f := func(v float64) string { return fmt.Sprintf("%g", v) }
	switch {
	case p.Min != nil && p.Max != nil:
		return fmt.Sprintf("in [%s, %s]", f(*p.Min), f(*p.Max))
	case p.Min != nil:
		return "≥ " + f(*p.Min)
	case p.Max != nil:
		return "≤ " + f(*p.Max)
	}
	return ""
}

// RangeText renders the parameter's bounds for docs ("" when unbounded).
func (p *Param) RangeText() string { return rangeText(p) }

// Coerce converts v to the parameter's Go type, checking type, enum and
// range, as validation does. The workbench's forms use it for live checks.
func (p *Param) Coerce(v any) (any, error) { return coerce(p, v) }
