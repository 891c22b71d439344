package stages

import (
	"context"
	"fmt"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

func joinStage() *engine.StageType {
	return &engine.StageType{
		Name:  "join",
		Group: "transform",
		Doc:   "join two tables on key columns (needs: [left, right])",
		In:    engine.KindTable, MinIn: 2, MaxIn: 2, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "on", Type: engine.TypeStrings, Required: true, Doc: "the key columns, present in both tables"},
			{Name: "how", Type: engine.TypeEnum, Enum: []string{"inner", "left", "right", "outer"}, Default: "inner", Doc: "which rows without a match to keep: none, the left's, the right's, or both"},
			{Name: "suffixes", Type: engine.TypeStrings, Default: []string{"_x", "_y"}, Doc: "added to the names of non-key columns that both tables have, left then right"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			on, sfx := p.Strings("on"), p.Strings("suffixes")
			var errs []error
			if len(on) == 0 {
				errs = append(errs, paramErr("on", "list at least one key column"))
			}
			if len(sfx) != 2 || sfx[0] == sfx[1] {
				errs = append(errs, paramErr("suffixes", "want two different suffixes, left then right, e.g. [_x, _y]"))
			}
			if len(in) < 2 || len(errs) > 0 {
				return tableShape(nil), errs
			}
			l, r := schemaOf(in[0]), schemaOf(in[1])
			if l == nil || r == nil {
				return tableShape(nil), nil
			}
			for side, s := range []frame.Schema{l, r} {
				for _, k := range on {
					if s.Index(k) < 0 {
						e := noColumn("on", k, s).(*engine.ParamError)
						e.Msg = [...]string{"left", "right"}[side] + " table: " + e.Msg
						errs = append(errs, e)
					}
				}
			}
			if len(errs) > 0 {
				return tableShape(nil), errs
			}
			for _, k := range on {
				lt, rt := l[l.Index(k)].Type, r[r.Index(k)].Type
				if lt != rt {
					errs = append(errs, paramErr("on", "key %s is %s on the left and %s on the right (cast one of them)", k, lt, rt))
				}
			}
			if len(errs) > 0 {
				return tableShape(nil), errs
			}
			ls, rs := joinNames(l, r, on, sfx)
			out := make(frame.Schema, 0, len(l)+len(r))
			for i, f := range l {
				out = append(out, frame.Field{Name: ls[f.Name], Type: l[i].Type})
			}
			for _, f := range r {
				if !contains(on, f.Name) {
					out = append(out, frame.Field{Name: rs[f.Name], Type: f.Type})
				}
			}
			if err := uniqueNames(out); err != nil {
				return tableShape(nil), []error{paramErr("suffixes", "%v", err)}
			}
			return tableShape(out), nil
		},
		Run: runJoin,
	}
}

// joinNames gives the output name of each column of the left and right
// tables: non-key columns that both have get the suffixes.
func joinNames(l, r frame.Schema, on, sfx []string) (map[string]string, map[string]string) {
	ls, rs := map[string]string{}, map[string]string{}
	for _, f := range l {
		ls[f.Name] = f.Name
		if !contains(on, f.Name) && r.Index(f.Name) >= 0 {
			ls[f.Name] = f.Name + sfx[0]
		}
	}
	for _, f := range r {
		rs[f.Name] = f.Name
		if !contains(on, f.Name) && l.Index(f.Name) >= 0 {
			rs[f.Name] = f.Name + sfx[1]
		}
	}
	return ls, rs
}

func uniqueNames(s frame.Schema) error {
	seen := map[string]bool{}
	for _, f := range s {
		if seen[f.Name] {
			return fmt.Errorf("two output columns would be named %q", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

func runJoin(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	left, err := input(sc, 0)
	if err != nil {
		return nil, err
	}
	right, err := input(sc, 1)
	if err != nil {
		return nil, err
	}
	on, sfx, how := sc.Params.Strings("on"), sc.Params.Strings("suffixes"), sc.Params.String("how")
	if len(sfx) != 2 {
		sfx = []string{"_x", "_y"}
	}
	ls, rs := joinNames(left.Schema(), right.Schema(), on, sfx)
	l, err := left.Rename(ls)
	if err != nil {
		return nil, fmt.Errorf("left: %w", err)
	}
	r, err := right.Rename(rs)
	if err != nil {
		return nil, fmt.Errorf("right: %w", err)
	}
	j, err := frame.Join(l, r, on, how)
	if err != nil {
		return nil, err
	}
	// The columns in a fixed order: the left's, then the right's non-keys.
	names := l.Names()
	for _, n := range r.Names() {
		if !contains(on, n) {
			names = append(names, n)
		}
	}
	out, err := j.Select(names...)
	if err != nil {
		return nil, err
	}
	sc.Logf("%s join on %v: %d × %d rows gave %d", how, on, left.NumRows(), right.NumRows(), out.NumRows())
	return tableOutput(out), nil
}

func concatStage() *engine.StageType {
	return &engine.StageType{
		Name:  "concat",
		Group: "transform",
		Doc:   "stack tables, one after another, matching columns by name",
		In:    engine.KindTable, MinIn: 2, MaxIn: -1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "join", Type: engine.TypeEnum, Enum: []string{"outer", "inner"}, Default: "outer", Doc: "keep every column (missing where a table lacks it), or only the columns all tables have"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			schemas := make([]frame.Schema, len(in))
			for i, s := range in {
				if schemas[i] = schemaOf(s); schemas[i] == nil {
					return tableShape(nil), nil
				}
			}
			s, err := concatSchema(schemas, p.String("join") == "inner")
			if err != nil {
				return tableShape(nil), []error{err}
			}
			return tableShape(s), nil
		},
		Run: runConcat,
	}
}

// concatSchema is the columns of stacked tables: by name, in order of
// first appearance; ints and floats in one column give a float column.
func concatSchema(schemas []frame.Schema, inner bool) (frame.Schema, error) {
	var out frame.Schema
	count := map[string]int{}
	for k, s := range schemas {
		for _, f := range s {
			count[f.Name]++
			i := out.Index(f.Name)
			if i < 0 {
				out = append(out, f)
				continue
			}
			t := out[i].Type
			switch {
			case t == f.Type:
			case (t == frame.Int || t == frame.Float) && (f.Type == frame.Int || f.Type == frame.Float):
				out[i].Type = frame.Float
			default:
				return nil, fmt.Errorf("column %s is %s in an earlier input and %s in input %d (cast one of them)", f.Name, t, f.Type, k+1)
			}
		}
	}
	if inner {
		kept := frame.Schema{}
		for _, f := range out {
			if count[f.Name] == len(schemas) {
				kept = append(kept, f)
			}
		}
		out = kept
	}
	if out == nil {
		out = frame.Schema{}
	}
	return out, nil
}

func runConcat(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	frames := make([]*frame.Frame, len(sc.Inputs))
	schemas := make([]frame.Schema, len(sc.Inputs))
	for i := range sc.Inputs {
		f, err := input(sc, i)
		if err != nil {
			return nil, err
		}
		frames[i], schemas[i] = f, f.Schema()
	}
	s, err := concatSchema(schemas, sc.Params.String("join") == "inner")
	if err != nil {
		return nil, err
	}
	// Give every table the same columns in the same order and types.
	total := 0
	for i, f := range frames {
		if frames[i], err = conform(f, s); err != nil {
			return nil, fmt.Errorf("input %d (%s): %w", i+1, sc.Stage.Inputs[i], err)
		}
		total += f.NumRows()
	}
	out, err := frame.Concat(frames...)
	if err != nil {
		return nil, err
	}
	sc.Logf("stacked %d tables: %d rows", len(frames), total)
	return tableOutput(out), nil
}

// conform returns f with exactly the columns of s: missing ones added as
// all missing, ints cast to float where s says float.
func conform(f *frame.Frame, s frame.Schema) (*frame.Frame, error) {
	out := f
	var err error
	for _, field := range s {
		c, _ := out.ColByName(field.Name)
		switch {
		case c == nil:
			b := frame.NewBuilder(field.Name, field.Type, f.NumRows())
			for range f.NumRows() {
				b.AppendNull()
			}
			out, err = out.WithColumn(b.Build())
		case c.Type != field.Type:
			out, err = out.Cast(field.Name, field.Type)
		}
		if err != nil {
			return nil, err
		}
	}
	return out.Select(s.Names()...)
}
