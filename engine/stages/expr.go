package stages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

// Expressions (the filter and derive stages) are expr-lang programs
// (https://expr-lang.org) evaluated once per row. Each column is a
// variable holding the row's value: float64 for a float column, int for
// int, bool, string and time.Time. A column whose name is not an
// identifier is read as $env["name"]. expr's builtins are there (lower,
// upper, trim, abs, round, len, date, now, ...), and three for missing
// values:
//
//	isnull(x)        true when x is missing
//	notnull(x)       true when x is not missing
//	coalesce(x, y)   x, or y when x is missing (both of one type)
//
// Missing values follow SQL: an expression that mentions none of isnull,
// notnull, coalesce, ?? or nil is not evaluated on a row where a column it
// reads is missing; the row does not pass a filter and derive gives a
// missing value. An expression that mentions one of them is evaluated on
// every row, with nil for a missing value; if it still fails on a row
// with a missing value (nil > 0), the result is missing.

// nullFuncs are the functions that make an expression see missing values.
var nullFuncs = map[string]bool{"isnull": true, "notnull": true, "coalesce": true}

var exprFuncs = []expr.Option{
	expr.Function("isnull", func(p ...any) (any, error) { return p[0] == nil, nil }, new(func(any) bool)),
	expr.Function("notnull", func(p ...any) (any, error) { return p[0] != nil, nil }, new(func(any) bool)),
	expr.Function("coalesce", func(p ...any) (any, error) {
		for _, v := range p {
			if v != nil {
				return v, nil
			}
		}
		return nil, nil
	},
		new(func(float64, float64) float64),
		new(func(int, int) int),
		new(func(string, string) string),
		new(func(bool, bool) bool),
		new(func(time.Time, time.Time) time.Time),
	),
}

// exprProg is an expression compiled against a table's schema.
type exprProg struct {
	src       string
	opts      []expr.Option // to compile a copy per goroutine (see forWorker)
	prog      *vm.Program
	cols      []string     // the columns it reads, in schema order
	nullAware bool         // evaluated on rows with missing values
	typ       reflect.Type // the result type; nil when known only per row
	// maxRowTime overrides exprMaxRowTime (for a test); 0 keeps it.
	maxRowTime time.Duration
	// maxStageSteps overrides exprMaxStageSteps (for a test); 0 keeps it.
	maxStageSteps int64
	// budget is the one prog charges, loops whether prog has closures;
	// busy says a worker is using prog (the others compile copies).
	budget *textBudget
	loops  bool
	busy   atomic.Bool
}

// exprError is an expression that does not compile or fails on a row,
// with the position in the expression.
type exprError struct {
	msg       string
	src       string
	line, col int    // 1-based; 0 when unknown
	hint      string // a did-you-mean
}

func (e *exprError) Error() string {
	s := e.msg
	if e.line > 0 {
		if strings.Contains(e.src, "\n") || len(e.src) > 60 {
			s += fmt.Sprintf(" at %d:%d of the expression", e.line, e.col)
		} else {
			s += fmt.Sprintf(" at %d:%d of %q", e.line, e.col, e.src)
		}
	}
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

// newExprError converts an expr error, adding a did-you-mean for an
// unknown name that is close to a column's.
func newExprError(err error, src string, names []string) *exprError {
	e := &exprError{msg: err.Error(), src: src}
	var fe *file.Error
	if errors.As(err, &fe) {
		e.msg = fe.Message
		if fe.Snippet != "" { // bound to the source: Line and Column are set
			e.line, e.col = fe.Line, fe.Column+1
		}
	}
	if name, ok := strings.CutPrefix(e.msg, "unknown name "); ok {
		if d := engine.DidYouMean(name, names); d != "" {
			e.hint = fmt.Sprintf("did you mean %q?", d)
		} else if len(names) > 0 {
			e.hint = "columns: " + listNames(names)
		}
	}
	return e
}

// exprValue is the typed zero value a column's variable has at compile time.
func exprZero(t frame.Type) any {
	switch t {
	case frame.Float:
		return 0.0
	case frame.Int:
		return 0
	case frame.Bool:
		return false
	case frame.String:
		return ""
	case frame.Time:
		return time.Time{}
	}
	return nil
}

// parseExpr checks only the syntax, for when the columns are not known.
func parseExpr(src string) error {
	if _, err := parser.Parse(src); err != nil {
		return newExprError(err, src, nil)
	}
	return nil
}

// compileExpr compiles src with the schema's columns as variables. With
// asBool the expression must give a bool.
func compileExpr(src string, s frame.Schema, asBool bool) (*exprProg, error) {
	env := make(map[string]any, len(s))
	for _, f := range s {
		env[f.Name] = exprZero(f.Type)
	}
	opts := append([]expr.Option{expr.Env(env)}, exprFuncs...)
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	budget, ticks := &textBudget{}, &tickPatch{}
	prog, err := expr.Compile(src, append(opts, boundedText(budget, ticks)...)...)
	if err != nil {
		return nil, newExprError(err, src, s.Names())
	}
	p := &exprProg{src: src, opts: opts, prog: prog, budget: budget, loops: ticks.loops}
	v := &refVisitor{used: map[string]bool{}}
	node := prog.Node()
	ast.Walk(&node, v)
	for _, f := range s {
		if v.used[f.Name] {
			p.cols = append(p.cols, f.Name)
		}
	}
	if v.env > v.envNamed {
		p.cols = s.Names() // $env used other than as $env["column"]
	}
	p.nullAware = v.nulls
	if t := node.Type(); t != nil && t.Kind() != reflect.Interface {
		p.typ = t
	}
	return p, nil
}

// refVisitor finds the variables an expression reads and whether it
// handles missing values itself.
type refVisitor struct {
	used     map[string]bool
	env      int // uses of $env
	envNamed int // uses of $env as $env["column"]
	nulls    bool
}

func (v *refVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if x.Value == "$env" {
			v.env++
		} else {
			v.used[x.Value] = true
		}
	case *ast.MemberNode:
		if id, ok := x.Node.(*ast.IdentifierNode); ok && id.Value == "$env" {
			if s, ok := x.Property.(*ast.StringNode); ok {
				v.envNamed++
				v.used[s.Value] = true
			}
		}
	case *ast.NilNode:
		v.nulls = true
	case *ast.BinaryNode:
		if x.Operator == "??" {
			v.nulls = true
		}
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && nullFuncs[id.Value] {
			v.nulls = true
		}
	}
}

// colReader gives a column's values as expression variables.
type colReader struct {
	name  string
	col   *frame.Column
	boxed []any // a String column's dictionary, boxed once
}

func newColReader(c *frame.Column) *colReader {
	r := &colReader{name: c.Name, col: c}
	if c.Type == frame.String {
		r.boxed = make([]any, len(c.Dict))
		for i, s := range c.Dict {
			r.boxed[i] = s
		}
	}
	return r
}

func (r *colReader) value(i int) any {
	c := r.col
	switch c.Type {
	case frame.Float:
		return c.Floats[i]
	case frame.Int:
		return int(c.Ints[i])
	case frame.Bool:
		return c.Bools[i]
	case frame.String:
		return r.boxed[c.Codes[i]]
	case frame.Time:
		return time.Unix(0, c.Times[i]).UTC()
	}
	return nil
}

// evalChunk is how many rows one worker evaluates at a time.
const evalChunk = 1 << 14

// eval runs the program on every row of f, in parallel for large tables,
// and calls put(i, v, ok) for row i with its result v; ok is false when
// the result is missing. put is called concurrently for different rows.
// The error names the first row that failed.
func (p *exprProg) eval(ctx context.Context, f *frame.Frame, put func(i int, v any, ok bool) error) error {
	readers := make([]*colReader, len(p.cols))
	for k, name := range p.cols {
		c, _ := f.ColByName(name)
		if c == nil {
			return fmt.Errorf("no column %q", name)
		}
		readers[k] = newColReader(c)
	}
	n := f.NumRows()
	chunks := (n + evalChunk - 1) / evalChunk
	errs := make([]error, chunks)
	var next atomic.Int64
	steps := &stageSteps{max: exprMaxStageSteps}
	if p.maxStageSteps > 0 {
		steps.max = p.maxStageSteps
	}
	work := func() {
		env := make(map[string]any, len(readers))
		m := vm.VM{MemoryBudget: exprMemoryBudget}
		prog, budget, loops, release, err := p.forWorker()
		if err != nil {
			errs[0] = err
			return
		}
		defer release()
		budget.stage = steps
		for {
			k := int(next.Add(1) - 1)
			if k >= chunks || ctx.Err() != nil {
				return
			}
			lo, hi := k*evalChunk, min((k+1)*evalChunk, n)
			errs[k] = p.evalRange(ctx, &m, prog, budget, loops, env, readers, lo, hi, put)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(work)
		}
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// forWorker gives one goroutine a program whose text operations and
// closures charge a budget of its own: the compiled program itself to
// the first that asks (release hands it back), a copy compiled anew to
// any other at the same time.
func (p *exprProg) forWorker() (prog *vm.Program, b *textBudget, loops bool, release func(), err error) {
	if p.budget != nil && p.busy.CompareAndSwap(false, true) {
		p.budget.maxTime = p.maxRowTime
		return p.prog, p.budget, p.loops, func() { p.busy.Store(false) }, nil
	}
	b = &textBudget{maxTime: p.maxRowTime}
	t := &tickPatch{}
	prog, err = expr.Compile(p.src, append(p.opts, boundedText(b, t)...)...)
	if err != nil {
		return nil, nil, false, nil, newExprError(err, p.src, nil)
	}
	return prog, b, t.loops, func() {}, nil
}

func (p *exprProg) evalRange(ctx context.Context, m *vm.VM, prog *vm.Program, budget *textBudget, loops bool, env map[string]any, readers []*colReader, lo, hi int, put func(int, any, bool) error) error {
	for i := lo; i < hi; i++ {
		missing := false
		for _, r := range readers {
			if r.col.IsNull(i) {
				missing = true
				if !p.nullAware {
					break
				}
				env[r.name] = nil
				continue
			}
			env[r.name] = r.value(i)
		}
		if missing && !p.nullAware {
			if err := put(i, nil, false); err != nil {
				return fmt.Errorf("row %d: %w", i+1, err)
			}
			continue
		}
		budget.reset(ctx, loops)
		v, err := m.Run(prog, env)
		if err == nil {
			err = budget.flush()
			budget.failed = err
		}
		var serr *stageStepsError
		if err != nil && errors.As(budget.failed, &serr) {
			serr.row = i + 1
			return serr
		}
		if err != nil {
			// A broken bound fails the row even where other failures on
			// a row with a missing value give a missing value.
			if missing && budget.failed == nil && !strings.Contains(err.Error(), "memory budget exceeded") {
				v = nil
			} else {
				return fmt.Errorf("row %d: %w", i+1, newExprError(err, p.src, nil))
			}
		}
		if err := put(i, v, v != nil); err != nil {
			return fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	return nil
}

// exprType maps an expression's result type to a column type; known is
// false when the type is decided per row.
func exprType(t reflect.Type) (ft frame.Type, known bool, err error) {
	if t == nil || t.Kind() == reflect.Interface {
		return 0, false, nil
	}
	switch t {
	case reflect.TypeFor[time.Time]():
		return frame.Time, true, nil
	case reflect.TypeFor[time.Duration]():
		return frame.Float, true, nil // seconds
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return frame.Float, true, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return frame.Int, true, nil
	case reflect.Bool:
		return frame.Bool, true, nil
	case reflect.String:
		return frame.String, true, nil
	}
	return 0, false, fmt.Errorf("the expression gives a %s; a column holds numbers, bools, strings or times", t)
}

// valueType is the column type of one result value.
func valueType(v any) (frame.Type, bool) {
	switch v.(type) {
	case float64, float32, time.Duration:
		return frame.Float, true
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return frame.Int, true
	case bool:
		return frame.Bool, true
	case string:
		return frame.String, true
	case time.Time:
		return frame.Time, true
	}
	return 0, false
}

// collector gathers per-row results into a column of one type.
type collector struct {
	typ    frame.Type
	floats []float64
	ints   []int64
	bools  []bool
	strs   []string
	times  []time.Time
	nulls  []bool
}

func newCollector(t frame.Type, n int) *collector {
	c := &collector{typ: t, nulls: make([]bool, n)}
	switch t {
	case frame.Float:
		c.floats = make([]float64, n)
	case frame.Int:
		c.ints = make([]int64, n)
	case frame.Bool:
		c.bools = make([]bool, n)
	case frame.String:
		c.strs = make([]string, n)
	case frame.Time:
		c.times = make([]time.Time, n)
	}
	return c
}

func (c *collector) put(i int, v any, ok bool) error {
	if !ok {
		c.nulls[i] = true
		return nil
	}
	bad := func() error {
		return fmt.Errorf("the expression gave %T %v where %s column needs its type", v, v, typeArticle(c.typ))
	}
	switch c.typ {
	case frame.Float:
		f, ok := toFloat(v)
		if !ok {
			return bad()
		}
		c.floats[i] = f
	case frame.Int:
		n, ok := toInt(v)
		if !ok {
			return bad()
		}
		c.ints[i] = n
	case frame.Bool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		c.bools[i] = b
	case frame.String:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		c.strs[i] = s
	case frame.Time:
		t, ok := v.(time.Time)
		if !ok {
			return bad()
		}
		if y := t.UTC().Year(); y < 1678 || y > 2261 {
			c.nulls[i] = true
			return nil
		}
		c.times[i] = t
	}
	return nil
}

func (c *collector) column(name string) *frame.Column {
	switch c.typ {
	case frame.Float:
		return frame.NewFloat(name, c.floats, c.nulls)
	case frame.Int:
		return frame.NewInt(name, c.ints, c.nulls)
	case frame.Bool:
		return frame.NewBool(name, c.bools, c.nulls)
	case frame.String:
		return frame.NewString(name, c.strs, c.nulls)
	case frame.Time:
	}
	return frame.NewTime(name, c.times, c.nulls)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case time.Duration:
		return x.Seconds(), true
	}
	if n, ok := toInt(v); ok {
		return float64(n), true
	}
	return math.NaN(), false
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// inferType decides the column type of results whose static type was
// unknown: ints and floats mix to float; other mixes are an error.
func inferType(vals []any) (frame.Type, error) {
	var t frame.Type
	first := -1
	for i, v := range vals {
		if v == nil {
			continue
		}
		vt, ok := valueType(v)
		if !ok {
			return 0, fmt.Errorf("row %d: the expression gave %T; a column holds numbers, bools, strings or times", i+1, v)
		}
		switch {
		case t == 0:
			t, first = vt, i
		case t == vt:
		case (t == frame.Int || t == frame.Float) && (vt == frame.Int || vt == frame.Float):
			t = frame.Float
		default:
			return 0, fmt.Errorf("the expression gives %s on row %d and %s on row %d; make it give one type (float(), string(), ...)", typeArticle(t), first+1, typeArticle(vt), i+1)
		}
	}
	if t == 0 {
		t = frame.Float // every value missing
	}
	return t, nil
}
