package stages

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

func filterStage() *engine.StageType {
	return &engine.StageType{
		Name:  "filter",
		Group: "transform",
		Doc:   "keep the rows where an expression is true (a missing value it reads drops the row unless it uses isnull/notnull/coalesce)",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "expr", Type: engine.TypeExpr, Required: true, Doc: "a bool expression over the columns, e.g. petal_width > 0 && species != \"setosa\""},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			src := p.String("expr")
			s := inSchema(in)
			if s == nil {
				if err := parseExpr(src); err != nil {
					return engine.Shape{}, []error{paramErr("expr", "%v", err)}
				}
				return passShape(in), nil
			}
			if _, err := compileExpr(src, s, true); err != nil {
				return engine.Shape{}, []error{paramErr("expr", "%v", err)}
			}
			return passShape(in), nil
		},
		Run: runFilter,
	}
}

func runFilter(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	f, err := input(sc, 0)
	if err != nil {
		return nil, err
	}
	p, err := compileExpr(sc.Params.String("expr"), f.Schema(), true)
	if err != nil {
		return nil, fmt.Errorf("expr: %w", err)
	}
	keep := make([]bool, f.NumRows())
	err = p.eval(ctx, f, func(i int, v any, ok bool) error {
		if !ok {
			return nil
		}
		b, isBool := v.(bool)
		if !isBool {
			return fmt.Errorf("expr gave %T %v, want a bool", v, v)
		}
		keep[i] = b
		return nil
	})
	if err != nil {
		return nil, exprRunError(sc, err)
	}
	rows := make([]int, 0, len(keep))
	for i, k := range keep {
		if k {
			rows = append(rows, i)
		}
	}
	out := f
	if len(rows) < f.NumRows() {
		out = f.Take(rows)
	}
	sc.Logf("kept %d of %d rows", out.NumRows(), f.NumRows())
	return tableOutput(out), nil
}

func deriveStage() *engine.StageType {
	return &engine.StageType{
		Name:  "derive",
		Group: "transform",
		Doc:   "add a column, or replace one, computed by an expression over each row",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "name", Type: engine.TypeString, Scalars: true, Required: true, Doc: "the column to add or replace"},
			{Name: "expr", Type: engine.TypeExpr, Required: true, Doc: "the value, e.g. petal_length / petal_width or lower(trim(species)); its type is the column's"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			name, src := p.String("name"), p.String("expr")
			var errs []error
			if name == "" {
				errs = append(errs, paramErr("name", "the column name must not be empty"))
			}
			s := inSchema(in)
			if s == nil {
				if err := parseExpr(src); err != nil {
					errs = append(errs, paramErr("expr", "%v", err))
				}
				return tableShape(nil), errs
			}
			prog, err := compileExpr(src, s, false)
			if err != nil {
				return engine.Shape{}, append(errs, paramErr("expr", "%v", err))
			}
			t, known, err := exprType(prog.typ)
			if err != nil {
				return engine.Shape{}, append(errs, paramErr("expr", "%v", err))
			}
			if len(errs) > 0 || !known {
				// The type shows only per row: the columns are unknown from here.
				return tableShape(nil), errs
			}
			return tableShape(withField(s, frame.Field{Name: name, Type: t})), nil
		},
		Run: runDerive,
	}
}

// withField returns s with f replacing the field of its name, or appended.
func withField(s frame.Schema, f frame.Field) frame.Schema {
	out := append(frame.Schema(nil), s...)
	if i := out.Index(f.Name); i >= 0 {
		out[i] = f
		return out
	}
	return append(out, f)
}

func runDerive(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	f, err := input(sc, 0)
	if err != nil {
		return nil, err
	}
	name := sc.Params.String("name")
	p, err := compileExpr(sc.Params.String("expr"), f.Schema(), false)
	if err != nil {
		return nil, fmt.Errorf("expr: %w", err)
	}
	t, known, err := exprType(p.typ)
	if err != nil {
		return nil, fmt.Errorf("expr: %w", err)
	}
	n := f.NumRows()
	var col *frame.Column
	if known {
		c := newCollector(t, n)
		if err := p.eval(ctx, f, c.put); err != nil {
			return nil, exprRunError(sc, err)
		}
		col = c.column(name)
	} else {
		vals := make([]any, n)
		err := p.eval(ctx, f, func(i int, v any, ok bool) error {
			if ok {
				vals[i] = v
			}
			return nil
		})
		if err != nil {
			return nil, exprRunError(sc, err)
		}
		if t, err = inferType(vals); err != nil {
			return nil, fmt.Errorf("expr: %w", err)
		}
		c := newCollector(t, n)
		for i, v := range vals {
			if err := c.put(i, v, v != nil); err != nil {
				return nil, fmt.Errorf("expr: row %d: %w", i+1, err)
			}
		}
		col = c.column(name)
	}
	out, err := f.WithColumn(col)
	if err != nil {
		return nil, err
	}
	verb := "added"
	if old, _ := f.ColByName(name); old != nil {
		verb = "replaced"
	}
	sc.Logf("%s column %s (%s, %d missing)", verb, name, col.Type, col.NullCount())
	return tableOutput(out), nil
}

// exprRunError wraps an error of evaluating the stage's expr. The bound
// on the steps over the whole table is a property of the expression and
// the data, not of one row: its error also says where the expression is
// written (file:line:col, or the --set that gave it).
func exprRunError(sc *engine.StageContext, err error) error {
	if errors.Is(err, errExprStageSteps) {
		if at := paramWhere(sc, "expr"); at != "" {
			return fmt.Errorf("expr at %s: %w", at, err)
		}
	}
	return fmt.Errorf("expr: %w", err)
}

// paramWhere is where the stage's parameter is written: file:line:col in
// the pipeline file, "--set stage.param" for an override, "" unknown.
func paramWhere(sc *engine.StageContext, param string) string {
	if sc == nil || sc.Stage == nil || sc.Stage.Spec == nil {
		return ""
	}
	pos, ok := sc.Stage.Spec.WithPos[param]
	switch {
	case !ok:
		return ""
	case pos.Line == 0:
		return fmt.Sprintf("--set %s.%s", sc.Stage.Spec.ID, param)
	case sc.Plan == nil || sc.Plan.Spec == nil:
		return fmt.Sprintf("%d:%d", pos.Line, pos.Col)
	}
	return fmt.Sprintf("%s:%d:%d", sc.Plan.Spec.File, pos.Line, pos.Col)
}
