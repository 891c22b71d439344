package stages

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
)

// Bounds on evaluating a filter or derive expression. expr's own memory
// budget counts the elements of the lists it builds, not the bytes of the
// text: repeat("x", 999999) in a loop, or a string doubled by let, could
// take gigabytes before it applied. The text-making operations (+ on
// strings, repeat, replace, join) are replaced by versions that count the
// bytes they make against a budget per row.
const (
	// exprMaxText is the most bytes of text an expression may make while
	// it evaluates one row.
	exprMaxText = 16 << 20
	// exprMemoryBudget is expr's budget of list elements per row (its
	// default is 1,000,000).
	exprMemoryBudget = 100_000
	// exprMaxNodes is the largest expression, in syntax nodes.
	exprMaxNodes = 10_000
)

// errExprTooLarge reports an expression that makes too much text.
var errExprTooLarge = errors.New("the expression makes more than 16 MiB of text for one row")

// textBudget counts the bytes of text made while evaluating one row. A
// budget belongs to one program copy used by one goroutine.
type textBudget struct{ used int }

func (b *textBudget) take(n int) error {
	if n < 0 || n > exprMaxText-b.used {
		return errExprTooLarge
	}
	b.used += n
	return nil
}

// boundedText returns the options that replace expr's text-making
// operations with ones that charge b.
func boundedText(b *textBudget) []expr.Option {
	return []expr.Option{
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
