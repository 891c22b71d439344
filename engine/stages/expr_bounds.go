package stages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// Bounds on evaluating a filter or derive expression. expr's own memory
// budget counts the elements of the lists it builds, not the bytes of the
// text: repeat("x", 999999) in a loop, or a string doubled by let, could
// take gigabytes before it applied. The text-making operations (+ on
// strings, repeat, replace, join) are replaced by versions that count the
// bytes they make against a budget per row.
//
// Nor does expr bound the time an expression takes: without loops a
// program runs each of its (at most exprMaxNodes) nodes once per row, but
// the body of map, filter, all, count, reduce and the other builtins that
// take a closure runs once per element, and nesting them over one list
// (let l = 1..1000; count(l, count(l, count(l, true) > 0) > 0)) multiplies
// the elements without allocating any. Each closure body is therefore
// patched to call a tick first, which counts steps against a budget per
// row, and every exprCheckEvery steps checks the row's time and the
// stage's context, so a cancelled run stops within a row.
const (
	// exprMaxText is the most bytes of text an expression may make while
	// it evaluates one row.
	exprMaxText = 16 << 20
	// exprMemoryBudget is expr's budget of list elements per row (its
	// default is 1,000,000).
	exprMemoryBudget = 100_000
	// exprMaxNodes is the largest expression, in syntax nodes.
	exprMaxNodes = 10_000
	// exprMaxSteps is the most closure steps (runs of the body of map,
	// filter, all, … for one element) an expression may take for one row.
	exprMaxSteps = 1_000_000
	// exprMaxStageSteps is the most closure steps one expression may
	// take over all the rows of its stage's table: the per-row bound
	// alone lets a table of a million rows take 10^12 steps (hours).
	// 10^9 steps is a minute or two of evaluation.
	exprMaxStageSteps = 1_000_000_000
	// exprMaxRowTime is the most time an expression with closures may
	// spend on one row: a step can be expensive (upper of a 16 MiB text),
	// so the step count alone does not bound it.
	exprMaxRowTime = 10 * time.Second
	// exprCheckEvery is how many steps pass between checks of the time
	// and of cancellation.
	exprCheckEvery = 1 << 10
	// exprTick names the function the patch calls; it cannot be written
	// in an expression, so it takes no name from the user.
	exprTick = "$ tick"
)

var (
	// errExprTooLarge reports an expression that makes too much text.
	errExprTooLarge = errors.New("the expression makes more than 16 MiB of text for one row")
	// errExprTooManySteps reports an expression whose loops take too many steps.
	errExprTooManySteps = fmt.Errorf("the expression takes more than %d steps for one row (runs of the body of map, filter, all, count, reduce, …): loop over fewer elements", exprMaxSteps)
	// errExprStageSteps reports an expression whose loops take too many
	// steps over the whole table; stageStepsError says how many.
	errExprStageSteps = errors.New("too many steps over the table")
)

// stageSteps counts the closure steps of one expression over all the
// rows of its stage, shared by the goroutines that evaluate it.
type stageSteps struct {
	n   atomic.Int64
	max int64 // exprMaxStageSteps, or less in a test
}

// add counts n more steps and reports the bound when they pass it.
func (s *stageSteps) add(n int) error {
	if s == nil || n == 0 {
		return nil
	}
	if s.n.Add(int64(n)) > s.max {
		return &stageStepsError{max: s.max}
	}
	return nil
}

// stageStepsError is the per-stage step bound, broken.
type stageStepsError struct {
	max int64
	row int // the row being evaluated when the count passed max, 1-based
}

func (e *stageStepsError) Error() string {
	return fmt.Sprintf("the expression takes more than %d steps over the table's rows (runs of the body of map, filter, all, count, reduce, …; at most %d a row), passed at row %d: loop over fewer elements, or filter the rows first", e.max, exprMaxSteps, e.row)
}

func (e *stageStepsError) Unwrap() error { return errExprStageSteps }

// textBudget is what one row's evaluation may still spend: bytes of text
// made, closure steps and time. A budget belongs to one program copy
// used by one goroutine; reset starts each row.
type textBudget struct {
	used    int // bytes of text made
	steps   int
	counted int         // of steps, those already added to stage
	stage   *stageSteps // the stage's count; nil: none kept
	ctx     context.Context
	start   time.Time     // the row's start, taken when the program loops
	maxTime time.Duration // exprMaxRowTime, or less in a test
	// failed is the bound the row broke, if any: such a row fails even
	// where a failing row with a missing value would give a missing value.
	failed error
}

// reset starts a row. loops says whether the program has closures (and
// so ticks): only then is the time taken.
func (b *textBudget) reset(ctx context.Context, loops bool) {
	b.used, b.steps, b.counted, b.ctx, b.failed = 0, 0, 0, ctx, nil
	if loops {
		b.start = time.Now()
	}
}

func (b *textBudget) take(n int) error {
	if n < 0 || n > exprMaxText-b.used {
		b.failed = errExprTooLarge
		return errExprTooLarge
	}
	b.used += n
	return nil
}

// tick counts one closure step.
func (b *textBudget) tick() error {
	err := b.step()
	if err != nil {
		b.failed = err
	}
	return err
}

func (b *textBudget) step() error {
	b.steps++
	if b.steps > exprMaxSteps {
		return errExprTooManySteps
	}
	if b.steps%exprCheckEvery != 0 {
		return nil
	}
	if err := b.flush(); err != nil {
		return err
	}
	if b.ctx != nil {
		if err := b.ctx.Err(); err != nil {
			return err
		}
	}
	limit := b.maxTime
	if limit <= 0 {
		limit = exprMaxRowTime
	}
	if took := time.Since(b.start); took > limit {
		return fmt.Errorf("the expression took more than %s on one row (%d steps so far): make its loops cheaper", limit, b.steps)
	}
	return nil
}

// flush adds the row's steps not yet counted to the stage's count, and
// reports the stage's bound when they pass it.
func (b *textBudget) flush() error {
	n := b.steps - b.counted
	b.counted = b.steps
	return b.stage.add(n)
}

// tickPatch makes every closure body call the tick first: body becomes
// the sequence ($tick(); body), which has body's type.
type tickPatch struct{ loops bool }

func (t *tickPatch) Visit(n *ast.Node) {
	if p, ok := (*n).(*ast.PredicateNode); ok {
		call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: exprTick}}
		p.Node = &ast.SequenceNode{Nodes: []ast.Node{call, p.Node}}
		t.loops = true
	}
}

// boundedText returns the options that replace expr's text-making
// operations with ones that charge b, and patch closures to tick it; t
// says, once compiled, whether there were closures.
func boundedText(b *textBudget, t *tickPatch) []expr.Option {
	return []expr.Option{
		expr.Patch(t),
		expr.Function(exprTick, func(...any) (any, error) { return true, b.tick() }, new(func() bool)),
		expr.DisableBuiltin("repeat"),
		expr.DisableBuiltin("replace"),
		expr.DisableBuiltin("join"),
		expr.MaxNodes(exprMaxNodes),
		expr.Function("concat", func(p ...any) (any, error) {
			a, c := p[0].(string), p[1].(string)
			if err := b.take(len(a) + len(c)); err != nil {
				return nil, err
			}
			return a + c, nil
		}, new(func(string, string) string)),
		expr.Operator("+", "concat"),
		expr.Function("repeat", func(p ...any) (any, error) {
			s, n := p[0].(string), p[1].(int)
			if n < 0 {
				return nil, fmt.Errorf("repeat: negative count %d", n)
			}
			if len(s) > 0 && n > exprMaxText/len(s) {
				return nil, errExprTooLarge
			}
			if err := b.take(len(s) * n); err != nil {
				return nil, err
			}
			return strings.Repeat(s, n), nil
		}, new(func(string, int) string)),
		expr.Function("replace", func(p ...any) (any, error) {
			s, old, repl := p[0].(string), p[1].(string), p[2].(string)
			n := strings.Count(s, old)
			if old == "" {
				n = len(s) + 1
			}
			if len(repl) > len(old) && n > 0 && len(repl)-len(old) > (exprMaxText-len(s))/n {
				return nil, errExprTooLarge
			}
			if err := b.take(len(s) + n*(len(repl)-len(old))); err != nil {
				return nil, err
			}
			return strings.ReplaceAll(s, old, repl), nil
		}, new(func(string, string, string) string)),
		expr.Function("join", func(p ...any) (any, error) {
			list, ok := p[0].([]any)
			if !ok {
				return nil, fmt.Errorf("join wants a list of strings, got %T", p[0])
			}
			sep := ""
			if len(p) > 1 {
				sep, _ = p[1].(string)
			}
			parts := make([]string, len(list))
			size := 0
			for i, v := range list {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("join wants a list of strings, element %d is %T", i, v)
				}
				parts[i] = s
				size += len(s) + len(sep)
				if size > exprMaxText {
					return nil, errExprTooLarge
				}
			}
			if err := b.take(size); err != nil {
				return nil, err
			}
			return strings.Join(parts, sep), nil
		}, new(func([]any) string), new(func([]any, string) string)),
	}
}
