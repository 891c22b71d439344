package stages

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

func sortStage() *engine.StageType {
	return &engine.StageType{
		Name:  "sort",
		Group: "transform",
		Doc:   "sort the rows by columns (stable; missing values last)",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "by", Type: engine.TypeStrings, Required: true, Doc: "the columns to sort by, most significant first"},
			{Name: "descending", Type: engine.TypeAny, Default: false, Doc: "true for largest first; or one true/false per column of by"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			_, errs := sortKeys(p)
			return passShape(in), append(errs, checkColumns("by", p.Strings("by"), inSchema(in))...)
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			keys, errs := sortKeys(sc.Params)
			if len(errs) > 0 {
				return nil, errs[0]
			}
			out, err := f.SortBy(keys)
			if err != nil {
				return nil, err
			}
			return tableOutput(out), nil
		},
	}
}

// sortKeys reads by and descending.
func sortKeys(p engine.Params) ([]frame.SortKey, []error) {
	by := p.Strings("by")
	if len(by) == 0 {
		return nil, []error{paramErr("by", "list at least one column")}
	}
	desc := make([]bool, len(by))
	switch d := p["descending"].(type) {
	case nil:
	case bool:
		for i := range desc {
			desc[i] = d
		}
	case []any:
		if len(d) != len(by) {
			return nil, []error{paramErr("descending", "give one true/false per column of by (%d), got %d", len(by), len(d))}
		}
		for i, v := range d {
			b, ok := v.(bool)
			if !ok {
				return nil, []error{paramErr("descending", "item %d: want true or false, got %s", i+1, describe(v))}
			}
			desc[i] = b
		}
	default:
		return nil, []error{paramErr("descending", "want true, false or a list of them, got %s", describe(d))}
	}
	keys := make([]frame.SortKey, len(by))
	for i, c := range by {
		keys[i] = frame.SortKey{Column: c, Desc: desc[i]}
	}
	return keys, nil
}

func sampleStage() *engine.StageType {
	return &engine.StageType{
		Name:  "sample",
		Group: "transform",
		Doc:   "take random rows, drawn from the stage's seed",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "n", Type: engine.TypeInt, Min: engine.Range(0), Doc: "how many rows to take"},
			{Name: "frac", Type: engine.TypeFloat, Min: engine.Range(0), Doc: "or the fraction of the rows to take (rounded half to even, as pandas)"},
			{Name: "replace", Type: engine.TypeBool, Default: false, Doc: "draw with replacement, so a row may come more than once"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			switch {
			case p.Has("n") && p.Has("frac"):
				return engine.Shape{}, []error{paramErr("frac", "set n or frac, not both")}
			case !p.Has("n") && !p.Has("frac"):
				return engine.Shape{}, []error{paramErr("n", "set n (a number of rows) or frac (a fraction of them)")}
			case p.Has("frac") && p.Float("frac") > 1 && !p.Bool("replace"):
				return engine.Shape{}, []error{paramErr("frac", "a fraction above 1 needs replace: true")}
			}
			return passShape(in), nil
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			rows := f.NumRows()
			n := sc.Params.Int("n")
			if sc.Params.Has("frac") {
				n = int(math.RoundToEven(sc.Params.Float("frac") * float64(rows))) // as pandas rounds
			}
			replace := sc.Params.Bool("replace")
			if n > rows && !replace {
				return nil, fmt.Errorf("n is %d but the table has %d rows (replace: true draws rows more than once)", n, rows)
			}
			if n > 0 && rows == 0 {
				return nil, fmt.Errorf("cannot sample %d rows from an empty table", n)
			}
			idx := sampleRows(sc.Seed, rows, n, replace)
			sc.Logf("took %d of %d rows", n, rows)
			return tableOutput(f.Take(idx)), nil
		},
	}
}

// sampleRows draws n row numbers from [0, rows) in random order, with or
// without replacement. The same seed gives the same rows.
func sampleRows(seed uint64, rows, n int, replace bool) []int {
	rng := rand.New(rand.NewPCG(seed, 0x5a4d_504c_4521)) // "SAMPLE!"
	out := make([]int, n)
	if replace {
		for i := range out {
			out[i] = rng.IntN(rows)
		}
		return out
	}
	// A partial Fisher–Yates shuffle: the first n of a random permutation.
	perm := make([]int, rows)
	for i := range perm {
		perm[i] = i
	}
	for i := 0; i < n; i++ {
		j := i + rng.IntN(rows-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	copy(out, perm[:n])
	return out
}
