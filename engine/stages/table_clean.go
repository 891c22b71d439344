package stages

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

func dropnaStage() *engine.StageType {
	return &engine.StageType{
		Name:  "dropna",
		Group: "transform",
		Doc:   "drop the rows with missing values",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "subset", Type: engine.TypeStrings, Doc: "look only at these columns (default: all)"},
			{Name: "how", Type: engine.TypeEnum, Enum: []string{"any", "all"}, Default: "any", Doc: "drop a row when any of the columns is missing, or only when all are"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			return passShape(in), checkColumns("subset", p.Strings("subset"), inSchema(in))
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			out, err := f.DropNA(sc.Params.Strings("subset"), sc.Params.String("how"))
			if err != nil {
				return nil, err
			}
			sc.Logf("dropped %d of %d rows", f.NumRows()-out.NumRows(), f.NumRows())
			return tableOutput(out), nil
		},
	}
}

func dedupeStage() *engine.StageType {
	return &engine.StageType{
		Name:  "dedupe",
		Group: "transform",
		Doc:   "drop repeated rows, keeping the first (or last) of each",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "subset", Type: engine.TypeStrings, Doc: "rows repeat when these columns are equal (default: all columns)"},
			{Name: "keep", Type: engine.TypeEnum, Enum: []string{"first", "last"}, Default: "first", Doc: "which of the repeated rows to keep"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			return passShape(in), checkColumns("subset", p.Strings("subset"), inSchema(in))
		},
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			f, err := input(sc, 0)
			if err != nil {
				return nil, err
			}
			subset := sc.Params.Strings("subset")
			var out *frame.Frame
			if sc.Params.String("keep") == "last" {
				// Keeping the last is keeping the first of the reversed rows.
				out, err = reverse(f).Dedupe(subset)
				if err == nil {
					out = reverse(out)
				}
			} else {
				out, err = f.Dedupe(subset)
			}
			if err != nil {
				return nil, err
			}
			sc.Logf("dropped %d repeated rows of %d", f.NumRows()-out.NumRows(), f.NumRows())
			return tableOutput(out), nil
		},
	}
}

func reverse(f *frame.Frame) *frame.Frame {
	n := f.NumRows()
	rows := make([]int, n)
	for i := range rows {
		rows[i] = n - 1 - i
	}
	return f.Take(rows)
}

var fillMethods = []string{"mean", "median", "mode", "ffill", "bfill"}

func fillnaStage() *engine.StageType {
	return &engine.StageType{
		Name:  "fillna",
		Group: "transform",
		Doc:   "fill missing values with a value, or with each column's mean, median, mode or neighbour",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Params: []engine.Param{
			{Name: "value", Type: engine.TypeAny, Doc: "the fill value for every column it fits, or a mapping column → value"},
			{Name: "method", Type: engine.TypeEnum, Enum: fillMethods, Doc: "fill from the column instead: mean, median (numeric columns), mode, ffill (previous value), bfill (next value)"},
			{Name: "subset", Type: engine.TypeStrings, Doc: "fill only these columns (default: every column the value or method fits)"},
		},
		Check: func(p engine.Params, in []engine.Shape, _ engine.CheckEnv) (engine.Shape, []error) {
			s := inSchema(in)
			plan, errs := planFill(p, s)
			if s == nil || len(errs) > 0 {
				return tableShape(nil), errs
			}
			out := append(frame.Schema(nil), s...)
			for _, fc := range plan {
				out[out.Index(fc.col)].Type = fc.outType(s[s.Index(fc.col)].Type)
			}
			return tableShape(out), nil
		},
		Run: runFillna,
	}
}

// fillCol is how one column is filled: with a value or by a method.
type fillCol struct {
	col    string
	value  any // YAML scalar: string, int64, float64, bool
	method string
}

// outType is the column's type after filling: a mean or median makes an
// int column float.
func (fc fillCol) outType(t frame.Type) frame.Type {
	if t == frame.Int && (fc.method == "mean" || fc.method == "median") {
		return frame.Float
	}
	return t
}

// planFill decides what fills which column. With schema s nil (unknown)
// it checks only what it can and plans nothing for unnamed columns.
func planFill(p engine.Params, s frame.Schema) ([]fillCol, []error) {
	value, hasValue := p["value"]
	method := p.String("method")
	subset := p.Strings("subset")
	switch {
	case hasValue && value != nil && method != "":
		return nil, []error{paramErr("method", "set value or method, not both")}
	case !hasValue || value == nil:
		if method == "" {
			return nil, []error{paramErr("value", "set value (a fill value or a mapping column → value) or method (%s)", listNames(fillMethods))}
		}
	}
	errs := checkColumns("subset", subset, s)
	if len(errs) > 0 {
		return nil, errs
	}
	var plan []fillCol
	idx := schemaIndex(s)
	at := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	if m, isMap := value.(map[string]any); isMap {
		if len(subset) > 0 {
			return nil, []error{paramErr("subset", "value is a mapping, which names the columns already; drop subset")}
		}
		for _, name := range sortedKeys(m) {
			v := m[name]
			if s != nil {
				i := at(name)
				if i < 0 {
					errs = append(errs, noColumn("value", name, s))
					continue
				}
				if !fits(v, s[i].Type, true) {
					errs = append(errs, paramErr("value", "%s: %s does not fit %s column", name, describe(v), typeArticle(s[i].Type)))
					continue
				}
			} else if !scalar(v) {
				errs = append(errs, paramErr("value", "%s: want a number, string or bool, got %s", name, describe(v)))
				continue
			}
			plan = append(plan, fillCol{col: name, value: v})
		}
		return plan, errs
	}
	if method == "" && !scalar(value) {
		return nil, []error{paramErr("value", "want a number, string, bool or a mapping column → value, got %s", describe(value))}
	}
	if s == nil {
		return nil, nil
	}
	explicit := len(subset) > 0
	if !explicit {
		subset = s.Names()
	}
	for _, name := range subset {
		t := s[at(name)].Type
		ok := method == "" && fits(value, t, explicit) || method != "" && methodFits(method, t)
		switch {
		case ok:
			fc := fillCol{col: name, method: method}
			if method == "" {
				fc.value = value
			}
			plan = append(plan, fc)
		case explicit && method != "":
			errs = append(errs, paramErr("subset", "%s is %s column; %s needs a numeric one", name, typeArticle(t), method))
		case explicit:
			errs = append(errs, paramErr("value", "%s does not fit column %s (%s)", describe(value), name, t))
		}
	}
	if len(plan) == 0 && len(errs) == 0 {
		if method != "" {
			errs = append(errs, paramErr("method", "%s fits no column of the table (%s)", method, s))
		} else {
			errs = append(errs, paramErr("value", "%s fits no column of the table (%s)", describe(value), s))
		}
	}
	return plan, errs
}

// typeArticle is "a float", "an int", ...
func typeArticle(t frame.Type) string {
	if t == frame.Int {
		return "an int"
	}
	return "a " + t.String()
}

func methodFits(method string, t frame.Type) bool {
	switch method {
	case "mean", "median":
		return t == frame.Float || t == frame.Int
	}
	return true
}

func scalar(v any) bool {
	switch v.(type) {
	case string, int64, float64, bool:
		return true
	}
	return false
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "nothing"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}

// fits reports whether a YAML value can fill a column of type t. loose
// lets a number or bool fill a string column as its text (when the column
// was named).
func fits(v any, t frame.Type, loose bool) bool {
	switch x := v.(type) {
	case int64:
		return t == frame.Float || t == frame.Int || loose && t == frame.String
	case float64:
		return t == frame.Float || t == frame.Int && x == math.Trunc(x) || loose && t == frame.String
	case bool:
		return t == frame.Bool || loose && t == frame.String
	case string:
		if t == frame.Time {
			_, ok := parseTime(x)
			return ok
		}
		return t == frame.String
	}
	return false
}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func runFillna(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	f, err := input(sc, 0)
	if err != nil {
		return nil, err
	}
	plan, errs := planFill(sc.Params, f.Schema())
	if len(errs) > 0 {
		return nil, errs[0]
	}
	// Filled columns replace theirs in one new frame at the end: a frame
	// per column (WithColumn) copied every column each time, quadratic in
	// the number of columns.
	cols := f.Columns()
	changed := false
	for _, fc := range plan {
		c, ci := f.ColByName(fc.col)
		if !c.HasNulls() && fc.outType(c.Type) == c.Type {
			continue
		}
		missing := c.NullCount()
		var nc *frame.Column
		if fc.method != "" {
			nc, err = fillByMethod(c, fc.method)
		} else {
			nc, err = fillValue(c, fc.value)
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", fc.col, err)
		}
		cols[ci], changed = nc, true
		if missing > 0 {
			how := fc.method
			if how == "" {
				how = describe(fc.value)
			}
			sc.Logf("column %s: filled %d missing values with %s", fc.col, missing-nc.NullCount(), how)
		}
	}
	out := f
	if changed {
		if out, err = frame.New(cols...); err != nil {
			return nil, err
		}
	}
	return tableOutput(out), nil
}

// fillValue returns c with its missing values set to the YAML value v.
func fillValue(c *frame.Column, v any) (*frame.Column, error) {
	n := c.Len()
	switch c.Type {
	case frame.Float:
		x, _ := toFloat(v)
		vals := slices.Clone(c.Floats)
		for i := range vals {
			if c.IsNull(i) {
				vals[i] = x
			}
		}
		return frame.NewFloat(c.Name, vals, nil), nil
	case frame.Int:
		x := wholeNumber(v)
		vals := slices.Clone(c.Ints)
		for i := range vals {
			if c.IsNull(i) {
				vals[i] = x
			}
		}
		return frame.NewInt(c.Name, vals, nil), nil
	case frame.Bool:
		x, _ := v.(bool)
		vals := slices.Clone(c.Bools)
		for i := range vals {
			if c.IsNull(i) {
				vals[i] = x
			}
		}
		return frame.NewBool(c.Name, vals, nil), nil
	case frame.Time:
		t, _ := parseTime(fmt.Sprint(v))
		ns := t.UnixNano()
		vals := make([]time.Time, n)
		for i := range vals {
			if c.IsNull(i) {
				vals[i] = time.Unix(0, ns).UTC()
			} else {
				vals[i] = time.Unix(0, c.Times[i]).UTC()
			}
		}
		return frame.NewTime(c.Name, vals, nil), nil
	case frame.String:
		text := fmt.Sprint(v)
		if x, ok := v.(float64); ok {
			text = strconv.FormatFloat(x, 'g', -1, 64)
		}
		vals := make([]string, n)
		for i := range vals {
			if c.IsNull(i) {
				vals[i] = text
			} else {
				vals[i] = c.Dict[c.Codes[i]]
			}
		}
		return frame.NewString(c.Name, vals, nil), nil
	}
	return nil, fmt.Errorf("%w: cannot fill a %s column", frame.ErrType, c.Type)
}

// wholeNumber returns a YAML number, which fits has found whole, as an int64.
func wholeNumber(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

// fillByMethod fills c from its own values.
func fillByMethod(c *frame.Column, method string) (*frame.Column, error) {
	n := c.Len()
	switch method {
	case "ffill", "bfill":
		rows := make([]int, n)
		last := -1
		fill := func(i int) {
			if !c.IsNull(i) {
				last = i
			}
			if last >= 0 {
				rows[i] = last
			} else {
				rows[i] = i
			}
		}
		if method == "ffill" {
			for i := 0; i < n; i++ {
				fill(i)
			}
		} else {
			for i := n - 1; i >= 0; i-- {
				fill(i)
			}
		}
		f, err := frame.New(c)
		if err != nil {
			return nil, err
		}
		return f.Take(rows).Col(0), nil
	case "mean", "median":
		vals := make([]float64, 0, n)
		for i := 0; i < n; i++ {
			if x, ok := c.Float(i); ok {
				vals = append(vals, x)
			}
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("every value is missing: there is no %s to fill with", method)
		}
		var x float64
		if method == "mean" {
			for _, v := range vals {
				x += v
			}
			x /= float64(len(vals))
		} else {
			slices.Sort(vals)
			m := len(vals) / 2
			x = vals[m]
			if len(vals)%2 == 0 {
				x = (vals[m-1] + vals[m]) / 2
			}
		}
		out := make([]float64, n)
		for i := range out {
			if v, ok := c.Float(i); ok {
				out[i] = v
			} else {
				out[i] = x
			}
		}
		return frame.NewFloat(c.Name, out, nil), nil
	case "mode":
		row := modeRow(c)
		if row < 0 {
			return nil, fmt.Errorf("every value is missing: there is no mode to fill with")
		}
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
			if c.IsNull(i) {
				rows[i] = row
			}
		}
		f, err := frame.New(c)
		if err != nil {
			return nil, err
		}
		return f.Take(rows).Col(0), nil
	}
	return nil, fmt.Errorf("unknown method %q", method)
}

// modeRow returns a row holding the most frequent value; among equally
// frequent values the smallest (as pandas' mode()[0]). -1 when every value
// is missing.
func modeRow(c *frame.Column) int {
	type entry struct {
		count, row int
	}
	counts := map[any]*entry{}
	for i := 0; i < c.Len(); i++ {
		if c.IsNull(i) {
			continue
		}
		k := c.Value(i)
		if t, ok := k.(time.Time); ok {
			k = t.UnixNano()
		}
		if e, ok := counts[k]; ok {
			e.count++
		} else {
			counts[k] = &entry{1, i}
		}
	}
	best, bestRow := -1, -1
	var bestKey any
	for k, e := range counts {
		if e.count > best || e.count == best && less(k, bestKey) {
			best, bestRow, bestKey = e.count, e.row, k
		}
	}
	return bestRow
}

// less orders two values of one column type.
func less(a, b any) bool {
	switch x := a.(type) {
	case float64:
		return x < b.(float64)
	case int64:
		return x < b.(int64)
	case string:
		return x < b.(string)
	case bool:
		return !x && b.(bool)
	}
	return false
}
