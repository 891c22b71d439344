package stages

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

// paramErr blames one parameter; validation places it at that parameter.
func paramErr(param, format string, args ...any) error {
	return &engine.ParamError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// shapeSchema is a table's schema as validation carries it in a shape,
// and schemaOf reads it back: the one conversion each way between the
// catalog's frame.Schema and engine.Schema (the column types have the same
// numbers, TestColumnTypesAgree). nil, an unknown schema, stays nil.
func shapeSchema(s frame.Schema) engine.Schema {
	if s == nil {
		return nil
	}
	out := make(engine.Schema, len(s))
	for i, f := range s {
		out[i] = engine.Column{Name: f.Name, Type: engine.ColumnType(f.Type)}
	}
	return out
}

// schemaOf is the schema a shape carries, as the catalog's frame.Schema
// (nil: unknown). See shapeSchema.
func schemaOf(s engine.Shape) frame.Schema {
	if s.Schema == nil {
		return nil
	}
	out := make(frame.Schema, len(s.Schema))
	for i, c := range s.Schema {
		out[i] = frame.Field{Name: c.Name, Type: frame.Type(c.Type)}
	}
	return out
}

// tableShape is the shape of a table with the given columns (nil: unknown).
func tableShape(s frame.Schema) engine.Shape {
	return engine.Shape{Kind: engine.KindTable, Schema: shapeSchema(s)}
}

// inSchema returns the schema of the first input, or nil when there is
// none or it is unknown.
func inSchema(in []engine.Shape) frame.Schema {
	if len(in) == 0 {
		return nil
	}
	return schemaOf(in[0])
}

// passShape is the Check result of a stage that keeps its input's columns.
func passShape(in []engine.Shape) engine.Shape { return tableShape(inSchema(in)) }

// noColumn reports a column name that the schema lacks, with a
// did-you-mean or the list of columns.
func noColumn(param, name string, s frame.Schema) error {
	names := s.Names()
	if d := engine.DidYouMean(name, names); d != "" {
		return paramErr(param, "no column %q (did you mean %q?)", name, d)
	}
	return paramErr(param, "no column %q (the table has %s)", name, listNames(names))
}

// listNames renders column names for a message, eliding long lists.
func listNames(names []string) string {
	if len(names) == 0 {
		return "no columns"
	}
	const most = 12
	if len(names) > most {
		return strings.Join(names[:most], ", ") + fmt.Sprintf(", … (%d columns)", len(names))
	}
	return strings.Join(names, ", ")
}

// checkColumns reports every name the schema lacks and every name listed
// twice. A nil schema (unknown) accepts everything.
func checkColumns(param string, names []string, s frame.Schema) []error {
	if s == nil {
		return nil
	}
	var errs []error
	seen := map[string]bool{}
	idx := schemaIndex(s)
	for _, n := range names {
		if seen[n] {
			errs = append(errs, paramErr(param, "column %q is listed twice", n))
			continue
		}
		seen[n] = true
		if _, ok := idx[n]; !ok {
			errs = append(errs, noColumn(param, n, s))
		}
	}
	return errs
}

// input returns the stage's i-th input table.
func input(sc *engine.StageContext, i int) (*frame.Frame, error) {
	if i >= len(sc.Inputs) || sc.Inputs[i] == nil {
		return nil, fmt.Errorf("input %d is not a table", i+1)
	}
	f, ok := FrameOf(sc.Inputs[i])
	if !ok {
		return nil, fmt.Errorf("input %d is not a table", i+1)
	}
	return f, nil
}

// sortedKeys returns a map's keys in order, so stages act deterministically.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// typeMap reads a parameter mapping column names to type names.
func typeMap(param string, m map[string]any) (map[string]frame.Type, []error) {
	var errs []error
	out := make(map[string]frame.Type, len(m))
	for _, k := range sortedKeys(m) {
		s, ok := m[k].(string)
		if !ok {
			errs = append(errs, paramErr(param, "column %s: want a type name (float, int, bool, string or time), got %v", k, m[k]))
			continue
		}
		t, err := frame.ParseType(s)
		if err != nil {
			msg := fmt.Sprintf("column %s: unknown type %q (want float, int, bool, string or time)", k, s)
			if d := engine.DidYouMean(strings.ToLower(s), typeNames); d != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", d)
			}
			errs = append(errs, paramErr(param, "%s", msg))
			continue
		}
		out[k] = t
	}
	return out, errs
}

var typeNames = []string{"float", "int", "bool", "string", "time"}

// ctxReader fails reads once ctx is done, so a long read stops on cancel.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ctxWriter fails writes once ctx is done and counts the bytes written.
type ctxWriter struct {
	ctx     context.Context
	w       io.Writer
	n, next int64
	onWrite func(n int64) // called every progressStep bytes
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	if c.onWrite != nil && c.n >= c.next {
		c.onWrite(c.n)
		c.next = c.n + progressStep
	}
	return n, err
}

// progressStep is how many bytes pass between progress reports.
const progressStep = 1 << 20

// rowsText formats a table's size for logs: "150 rows × 5 columns".
func rowsText(f *frame.Frame) string {
	return fmt.Sprintf("%d rows × %d columns", f.NumRows(), f.NumCols())
}

// schemaIndex maps each column name of s to its position, for lookups
// that would be quadratic with Schema.Index on wide tables.
func schemaIndex(s frame.Schema) map[string]int {
	idx := make(map[string]int, len(s))
	for i, f := range s {
		if _, dup := idx[f.Name]; !dup {
			idx[f.Name] = i
		}
	}
	return idx
}
