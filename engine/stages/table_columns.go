package stages

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

func selectStage() *engine.StageType {
	return &engine.StageType{
		Name:  "select",
		Group: "transform",
		Doc:   "keep the listed columns, in the order listed",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "columns", Type: engine.TypeStrings, Required: true, Doc: "the columns to keep"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			cols := p.Strings("columns")
			if len(cols) == 0 {
				return engine.Shape{}, []error{paramErr("columns", "list at least one column")}
			}
			s := inSchema(in)
			if errs := checkColumns("columns", cols, s); len(errs) > 0 || s == nil {
				return tableShape(nil), errs
			}
			out := make(frame.Schema, len(cols))
			for i, c := range cols {
				out[i] = s[s.Index(c)]
			}
			return tableShape(out), nil
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			out, err := f.Select(sc.Params.Strings("columns")...)
			if err != nil {
				return nil, fmt.Errorf("columns: %w", err)
			}
			return tableOutput(out), nil
		},
	}
}

func dropStage() *engine.StageType {
	return &engine.StageType{
		Name:  "drop",
		Group: "transform",
		Doc:   "remove the listed columns",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "columns", Type: engine.TypeStrings, Required: true, Doc: "the columns to remove"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			cols := p.Strings("columns")
			s := inSchema(in)
			if errs := checkColumns("columns", cols, s); len(errs) > 0 || s == nil {
				return tableShape(nil), errs
			}
			var out frame.Schema
			for _, f := range s {
				if !contains(cols, f.Name) {
					out = append(out, f)
				}
			}
			if out == nil {
				out = frame.Schema{}
			}
			return tableShape(out), nil
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			cols := sc.Params.Strings("columns")
			if len(cols) == 0 {
				return tableOutput(f), nil
			}
			out, err := f.Drop(cols...)
			if err != nil {
				return nil, fmt.Errorf("columns: %w", err)
			}
			return tableOutput(out), nil
		},
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func renameStage() *engine.StageType {
	return &engine.StageType{
		Name:  "rename",
		Group: "transform",
		Doc:   "rename columns",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "columns", Type: engine.TypeMap, Required: true, Doc: "old name → new name, e.g. {sepal_len: sepal_length}"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			names, errs := renames(p.Map("columns"))
			s := inSchema(in)
			if s == nil || len(errs) > 0 {
				return tableShape(nil), errs
			}
			out := make(frame.Schema, len(s))
			for _, old := range sortedKeys(names) {
				if s.Index(old) < 0 {
					errs = append(errs, noColumn("columns", old, s))
				}
			}
			seen := map[string]string{}
			for i, f := range s {
				out[i] = f
				if nw, ok := names[f.Name]; ok {
					out[i].Name = nw
				}
				if prev, dup := seen[out[i].Name]; dup {
					errs = append(errs, paramErr("columns", "two columns would be named %q (%s and %s)", out[i].Name, prev, f.Name))
				}
				seen[out[i].Name] = f.Name
			}
			if len(errs) > 0 {
				return tableShape(nil), errs
			}
			return tableShape(out), nil
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			names, errs := renames(sc.Params.Map("columns"))
			if len(errs) > 0 {
				return nil, errs[0]
			}
			out, err := f.Rename(names)
			if err != nil {
				return nil, fmt.Errorf("columns: %w", err)
			}
			return tableOutput(out), nil
		},
	}
}

// renames reads the rename mapping; every new name must be a non-empty string.
func renames(m map[string]any) (map[string]string, []error) {
	out := make(map[string]string, len(m))
	var errs []error
	for _, old := range sortedKeys(m) {
		nw, ok := m[old].(string)
		if !ok || strings.TrimSpace(nw) == "" {
			errs = append(errs, paramErr("columns", "%s: want a new column name, got %v", old, m[old]))
			continue
		}
		out[old] = nw
	}
	if len(m) == 0 {
		errs = append(errs, paramErr("columns", "give at least one old: new pair"))
	}
	return out, errs
}

func castStage() *engine.StageType {
	return &engine.StageType{
		Name:  "cast",
		Group: "transform",
		Doc:   "convert columns to other types; text is trimmed before it is parsed",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "columns", Type: engine.TypeMap, Required: true, Doc: "column → type (float, int, bool, string, time), e.g. {sepal_width: float}"},
			{Name: "errors", Type: engine.TypeEnum, Enum: []string{"raise", "coerce"}, Default: "raise", Doc: "a value that does not convert: raise fails the stage, coerce makes it missing"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			types, errs := typeMap("columns", p.Map("columns"))
			if len(p.Map("columns")) == 0 {
				errs = append(errs, paramErr("columns", "give at least one column: type pair"))
			}
			s := inSchema(in)
			if s == nil || len(errs) > 0 {
				return tableShape(nil), errs
			}
			out := append(frame.Schema(nil), s...)
			for _, name := range sortedKeys(types) {
				i := s.Index(name)
				if i < 0 {
					errs = append(errs, noColumn("columns", name, s))
					continue
				}
				out[i].Type = types[name]
			}
			if len(errs) > 0 {
				return tableShape(nil), errs
			}
			return tableShape(out), nil
		},
		Run: runCast,
	}
}

func runCast(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	f, err := input(sc, 0)
	if err != nil {
		return nil, err
	}
	types, errs := typeMap("columns", sc.Params.Map("columns"))
	if len(errs) > 0 {
		return nil, errs[0]
	}
	coerce := sc.Params.String("errors") == "coerce"
	out := f
	for _, name := range sortedKeys(types) {
		t := types[name]
		c, _ := out.ColByName(name)
		if c == nil {
			return nil, fmt.Errorf("columns: %w %q", frame.ErrNoColumn, name)
		}
		if c.Type == t {
			continue
		}
		sc.Logf("column %s: %s → %s", name, c.Type, t)
		if c.Type == frame.String {
			nc, bad, err := parseColumn(c, t, coerce)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", name, err)
			}
			if bad > 0 {
				sc.Logf("column %s: %d values did not parse as %s and are now missing", name, bad, t)
			}
			if out, err = out.WithColumn(nc); err != nil {
				return nil, err
			}
			continue
		}
		if out, err = out.Cast(name, t); err != nil {
			return nil, fmt.Errorf("column %s: %w", name, err)
		}
	}
	return tableOutput(out), nil
}

// parseColumn converts a String column to type t, parsing each distinct
// value once with spaces trimmed; empty text and frame.DefaultNullValues
// are missing. With coerce a value that does not parse becomes missing
// (bad counts the rows); otherwise it is an error naming the first row
// that holds it.
func parseColumn(c *frame.Column, t frame.Type, coerce bool) (*frame.Column, int, error) {
	b := frame.NewBuilder(c.Name, t, len(c.Dict)+1)
	failed := make([]bool, len(c.Dict))
	for k, s := range c.Dict {
		s = strings.TrimSpace(s)
		if slices.Contains(frame.DefaultNullValues, s) {
			b.AppendNull()
			continue
		}
		if err := b.AppendText(s); err != nil {
			failed[k] = true
			b.AppendNull()
		}
	}
	b.AppendNull() // index len(Dict): the missing value
	rows := make([]int, len(c.Codes))
	bad := 0
	for i, k := range c.Codes {
		if k < 0 || c.IsNull(i) {
			rows[i] = len(c.Dict)
			continue
		}
		if failed[k] {
			if !coerce {
				return nil, 0, fmt.Errorf("row %d: %w: cannot parse %q as %s (errors: coerce makes such values missing)", i+1, frame.ErrBadValue, c.Dict[k], t)
			}
			bad++
		}
		rows[i] = int(k)
	}
	dict, err := frame.New(b.Build())
	if err != nil {
		return nil, 0, err
	}
	return dict.Take(rows).Col(0), bad, nil
}
