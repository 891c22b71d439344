package stages_test

import (
	"strings"
	"testing"
)

func TestColumnStages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, uses, with string
		want             string // the output schema, at validation and after the run
	}{
		{"select keeps order given", "select", "{columns: [count, name]}", "count int, name string"},
		{"select one as a string", "select", "{columns: name}", "name string"},
		{"drop", "drop", "{columns: [weight, picked]}", "name string, count int, ripe bool"},
		{"rename", "rename", "{columns: {weight: kg, ripe: is_ripe}}", "name string, kg float, count int, is_ripe bool, picked time"},
		{"rename swaps", "rename", "{columns: {weight: count, count: weight}}", "name string, count float, weight int, ripe bool, picked time"},
		{"cast", "cast", "{columns: {count: float, ripe: string, weight: string}}", "name string, weight string, count float, ripe string, picked time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := fruitPipeline(t, tt.uses, tt.with)
			ps, _ := mustPlan(t, path).Stage("x")
			if got := schemaText(validatedSchema(ps)); got != tt.want {
				t.Errorf("schema at validation: got %s, want %s", got, tt.want)
			}
			f := mustRun(t, path, "x")
			if got := f.Schema().String(); got != tt.want {
				t.Errorf("schema after the run: got %s, want %s", got, tt.want)
			}
			if f.NumRows() != 4 {
				t.Errorf("rows: got %d, want 4", f.NumRows())
			}
		})
	}
}

func TestColumnStagesInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, uses, with string
		want             string
	}{
		{"select unknown column", "select", "{columns: [name, wieght]}", `columns: no column "wieght" (did you mean "weight"?)`},
		{"select far-off column", "select", "{columns: [colour]}", `columns: no column "colour" (the table has name, weight, count, ripe, picked)`},
		{"select twice", "select", "{columns: [name, name]}", `columns: column "name" is listed twice`},
		{"drop unknown column", "drop", "{columns: [nme]}", `columns: no column "nme" (did you mean "name"?)`},
		{"rename onto another column", "rename", "{columns: {weight: count}}", `columns: two columns would be named "count"`},
		{"rename unknown column", "rename", "{columns: {wight: w}}", `did you mean "weight"?`},
		{"rename to nothing", "rename", `{columns: {weight: ""}}`, `columns: weight: want a new column name`},
		{"cast unknown type", "cast", "{columns: {count: integr}}", `columns: column count: unknown type "integr"`},
		{"cast unknown column", "cast", "{columns: {cnt: int}}", `columns: no column "cnt"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invalid(t, fruitPipeline(t, tt.uses, tt.with))
			if !strings.Contains(got, "pipeline.yaml:9:") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want pipeline.yaml:9:… %s", got, tt.want)
			}
		})
	}
}

// Downstream of select, a dropped column is unknown at validation.
func TestSelectSchemaFlowsDownstream(t *testing.T) {
	t.Parallel()
	path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: fruit.csv}
  - id: pick
    uses: select
    with: {columns: [name, count]}
  - id: keep
    uses: filter
    with: {expr: "weight > 0"}
`, map[string]string{"fruit.csv": fruitCSV})
	if got := invalid(t, path); !strings.Contains(got, "unknown name weight") {
		t.Errorf("got %q, want weight to be unknown after the select", got)
	}
}

func TestCast(t *testing.T) {
	t.Parallel()
	data := "a,b,c\n 1 ,x,1.5\n\t2,y,2.0\n,z,\nNA,w,3.0\n"
	tests := []struct {
		name, with string
		col, want  string
		wantErr    string
	}{
		{"trims text before parsing", "{columns: {a: int}}", "a", "1,2,,", ""},
		{"text to float", "{columns: {a: float}}", "a", "1.0,2.0,,", ""},
		{"float to int when whole", "{columns: {c: int}}", "", "", "row"},
		{"bad text raises", "{columns: {b: float}}", "", "", `row 1: bad value: cannot parse "x" as float`},
		{"bad text coerced", "{columns: {b: float}, errors: coerce}", "b", ",,,", ""},
		{"to string", "{columns: {c: string}}", "c", "1.5,2.0,,3.0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: d.csv, schema: {a: string}}
  - id: x
    uses: cast
    with: `+tt.with+"\n", map[string]string{"d.csv": data})
			if tt.wantErr != "" {
				if err := runErr(t, path); !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if got := joined(t, mustRun(t, path, "x"), tt.col); got != tt.want {
				t.Errorf("column %s: got %q, want %q", tt.col, got, tt.want)
			}
		})
	}
}
