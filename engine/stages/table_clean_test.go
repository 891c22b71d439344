package stages_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// gapsCSV has missing values in every column.
const gapsCSV = "k,x,n,s,b\n" +
	"a,1.0,1,p,true\n" +
	"b,,2,,false\n" +
	"c,4.0,,q,\n" +
	",,,,\n" +
	"e,7.0,2,q,true\n"

func gapsPipeline(t *testing.T, uses, with string) string {
	t.Helper()
	return pipeline(t, `  - id: load
    uses: read_csv
    with: {path: gaps.csv}
  - id: x
    uses: `+uses+`
    with: `+with+`
`, map[string]string{"gaps.csv": gapsCSV})
}

func TestDropna(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, with, want string // want: column k after
	}{
		{"any", "{}", "a,e"},
		{"all", "{how: all}", "a,b,c,e"},
		{"subset", "{subset: [x]}", "a,c,e"},
		{"subset all", "{subset: [x, n], how: all}", "a,b,c,e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := joined(t, mustRun(t, gapsPipeline(t, "dropna", tt.with), "x"), "k"); got != tt.want {
				t.Errorf("k: got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFillna(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, with string
		want       map[string]string // column → values after
		wantSchema string
	}{
		{"value fills the columns it fits", "{value: 0}",
			map[string]string{"x": "1.0,0.0,4.0,0.0,7.0", "n": "1,2,0,0,2", "s": "p,,q,,q"}, "k string, x float, n int, s string, b bool"},
		{"string value", `{value: "?"}`,
			map[string]string{"s": "p,?,q,?,q", "k": "a,b,c,?,e", "x": "1.0,,4.0,,7.0"}, ""},
		{"per column", `{value: {x: -1, s: none, b: false, n: 9}}`,
			map[string]string{"x": "1.0,-1.0,4.0,-1.0,7.0", "s": "p,none,q,none,q", "b": "true,false,false,false,true", "n": "1,2,9,9,2"}, ""},
		{"number into a named string column", `{value: {s: 1.5}}`,
			map[string]string{"s": "p,1.5,q,1.5,q"}, ""},
		{"mean", "{method: mean}",
			map[string]string{"x": "1.0,4.0,4.0,4.0,7.0", "n": "1.0,2.0,1.6666666666666667,1.6666666666666667,2.0", "s": "p,,q,,q"}, "k string, x float, n float, s string, b bool"},
		{"median", "{method: median, subset: [x]}",
			map[string]string{"x": "1.0,4.0,4.0,4.0,7.0", "n": "1,2,,,2"}, "k string, x float, n int, s string, b bool"},
		{"mode", "{method: mode}",
			map[string]string{"s": "p,q,q,q,q", "n": "1,2,2,2,2", "b": "true,false,true,true,true", "x": "1.0,1.0,4.0,1.0,7.0"}, ""},
		{"ffill", "{method: ffill}",
			map[string]string{"x": "1.0,1.0,4.0,4.0,7.0", "k": "a,b,c,c,e"}, ""},
		{"bfill", "{method: bfill, subset: [n]}",
			map[string]string{"n": "1,2,2,2,2", "x": "1.0,,4.0,,7.0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := gapsPipeline(t, "fillna", tt.with)
			if tt.wantSchema != "" {
				ps, _ := mustPlan(t, path).Stage("x")
				if got := schemaText(validatedSchema(ps)); got != tt.wantSchema {
					t.Errorf("schema at validation: got %s, want %s", got, tt.wantSchema)
				}
			}
			f := mustRun(t, path, "x")
			if tt.wantSchema != "" && f.Schema().String() != tt.wantSchema {
				t.Errorf("schema after the run: got %s, want %s", f.Schema(), tt.wantSchema)
			}
			for col, want := range tt.want {
				if got := joined(t, f, col); got != want {
					t.Errorf("column %s: got %s, want %s", col, got, want)
				}
			}
		})
	}
}

func TestFillnaInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, with, want string
	}{
		{"nothing to fill with", "{}", "value: set value"},
		{"both", "{value: 1, method: mean}", "method: set value or method, not both"},
		{"value fits no column", "{value: [1]}", "value: want a number, string, bool or a mapping"},
		{"mapping names no column", "{value: {xx: 1}}", `value: no column "xx" (did you mean "x"?)`},
		{"mapping value does not fit", "{value: {n: 1.5}}", "value: n: 1.5 does not fit an int column"},
		{"mean of strings", "{method: mean, subset: [s]}", "subset: s is a string column; mean needs a numeric one"},
		{"unknown method", "{method: avg}", "method must be one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := invalid(t, gapsPipeline(t, "fillna", tt.with)); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	data := "k,v,w\na,1,x\nb,2,y\na,1,z\nb,3,y\na,1,x\n"
	tests := []struct {
		name, with, want string // want: w after
	}{
		{"all columns", "{}", "x,y,z,y"},
		{"subset", "{subset: [k, v]}", "x,y,y"},
		{"keep last", "{subset: [k, v], keep: last}", "y,y,x"},
		{"subset one", "{subset: k}", "x,y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: d.csv}
  - id: x
    uses: dedupe
    with: `+tt.with+"\n", map[string]string{"d.csv": data})
			if got := joined(t, mustRun(t, path, "x"), "w"); got != tt.want {
				t.Errorf("w: got %s, want %s", got, tt.want)
			}
		})
	}
}

// The clean-up of iris_dirty.csv gives the row counts and means that
// pandas gives (testdata/README: sample-data/README.md of the datasets).
func TestIrisDirtyCleanup(t *testing.T) {
	t.Parallel()
	path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: iris_dirty.csv}
  - id: species
    uses: derive
    with: {name: species, expr: "lower(trim(species))"}
  - id: numbers
    uses: cast
    with:
      columns: {sepal_length: float, sepal_width: float, petal_length: float, petal_width: float}
  - id: dedupe
    uses: dedupe
  - id: complete
    uses: dropna
  - id: filled
    uses: fillna
    needs: [dedupe]
    with: {method: mean}
`, map[string]string{"iris_dirty.csv": irisDirty(t)})
	plan := mustPlan(t, path)
	ps, _ := plan.Stage("numbers")
	want := "sepal_length float, sepal_width float, petal_length float, petal_width float, species string"
	if got := schemaText(validatedSchema(ps)); got != want {
		t.Errorf("schema at validation: got %s, want %s", got, want)
	}
	tables, err := outputs(t, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := tables["load"].NumRows(); got != 156 {
		t.Errorf("rows read: got %d, want 156", got)
	}
	if got := tables["load"].Schema().String(); !strings.Contains(got, "sepal_width string") {
		t.Errorf("sepal_width as read: got %s, want a string column (stray spaces)", got)
	}
	sp, _ := tables["species"].ColByName("species")
	if got := strings.Join(slices.Sorted(slices.Values(sp.Dict)), ","); got != "setosa,versicolor,virginica" {
		t.Errorf("species values: got %s, want setosa,versicolor,virginica", got)
	}
	if got := tables["dedupe"].NumRows(); got != 149 {
		t.Errorf("rows after dedupe: got %d, want 149", got)
	}
	if got := tables["complete"].NumRows(); got != 122 {
		t.Errorf("rows after dropna: got %d, want 122", got)
	}
	// fillna with the means: each column's mean is unchanged and equals
	// pandas' mean after dedupe.
	means := map[string]float64{"sepal_length": 5.852174, "sepal_width": 3.077698, "petal_length": 3.738028, "petal_width": 1.191156}
	f := tables["filled"]
	for col, want := range means {
		c, _ := f.ColByName(col)
		if c.NullCount() != 0 {
			t.Errorf("%s: %d missing after fillna, want 0", col, c.NullCount())
		}
		sum := 0.0
		for _, v := range c.Floats {
			sum += v
		}
		if got := sum / float64(len(c.Floats)); math.Abs(got-want) > 5e-7 {
			t.Errorf("mean of %s: got %.6f, want %.6f", col, got, want)
		}
	}
}

// BenchmarkFillnaWide fills a table of 100,000 columns with two rows, one
// missing value each. fillna used to copy every column per filled column
// (22 s at 100,000 columns); it is linear now.
func BenchmarkFillnaWide(b *testing.B) {
	const n = 100_000
	var head, row1, row2 strings.Builder
	for i := range n {
		if i > 0 {
			head.WriteByte(',')
			row1.WriteByte(',')
			row2.WriteByte(',')
		}
		fmt.Fprintf(&head, "c%d", i)
		row1.WriteString("1")
	}
	path := pipeline(b, "  - {id: load, uses: read_csv, with: {path: wide.csv}}\n  - {id: x, uses: fillna, with: {value: 0}}\n",
		map[string]string{"wide.csv": head.String() + "\n" + row1.String() + "\n" + row2.String() + "\n"})
	plan := mustPlan(b, path)
	b.ResetTimer()
	for b.Loop() {
		tables, err := outputs(b, plan)
		if err != nil {
			b.Fatal(err)
		}
		if c, _ := tables["x"].ColByName("c99999"); c == nil || c.HasNulls() {
			b.Fatal("not filled")
		}
	}
}
