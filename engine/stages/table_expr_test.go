package stages_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// fruitCSV has a missing weight (row 3) and a missing ripe flag (row 4).
const fruitCSV = "name,weight,count,ripe,picked\n" +
	"apple,0.2,3,true,2024-05-01\n" +
	"Pear ,0.35,1,false,2024-05-03\n" +
	"plum,,7,true,2024-05-02\n" +
	"fig,0.05,12,,2024-05-04\n"

func fruitPipeline(t *testing.T, uses, with string) string {
	t.Helper()
	return pipeline(t, `  - id: load
    uses: read_csv
    with: {path: fruit.csv}
  - id: x
    uses: `+uses+`
    with: `+with+`
`, map[string]string{"fruit.csv": fruitCSV})
}

func TestFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		expr string
		want string // names kept
	}{
		{"number", "weight > 0.1", "apple,Pear "},
		{"int", "count >= 3", "apple,plum,fig"},
		{"bool", "ripe", "apple,plum"},
		{"not bool", "!ripe", "Pear "},
		{"string", `name == "fig"`, "fig"},
		{"string builtin", `trim(lower(name)) == "pear"`, "Pear "},
		{"time", `picked > date("2024-05-02")`, "Pear ,fig"},
		{"missing value drops the row", "weight < 1", "apple,Pear ,fig"},
		{"isnull sees missing values", "isnull(weight)", "plum"},
		{"notnull", "notnull(ripe) && count > 2", "apple,plum"},
		{"coalesce", "coalesce(weight, 0.0) < 0.1", "plum,fig"},
		{"nil comparison", "ripe == nil || ripe", "apple,plum,fig"},
		{"?? operator", "(weight ?? 1.0) > 0.3", "Pear ,plum"},
		{"failure on a missing value is missing", "isnull(ripe) || weight > 0.1", "apple,Pear ,fig"},
		{"$env", `$env["name"] in ["fig", "plum"]`, "plum,fig"},
		{"nothing passes", "count > 100", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := fruitPipeline(t, "filter", "{expr: "+yamlQuote(tt.expr)+"}")
			f := mustRun(t, path, "x")
			if got := joined(t, f, "name"); got != tt.want {
				t.Errorf("filter %s: got %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}

// A column whose name is not an identifier is read through $env.
func TestFilterColumnWithSpace(t *testing.T) {
	t.Parallel()
	path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: prices.csv}
  - id: x
    uses: filter
    with: {expr: '$env["unit price"] * qty > 2'}
`, map[string]string{"prices.csv": "unit price,qty\n1.5,2\n,3\n0.5,2\n"})
	if got, want := joined(t, mustRun(t, path, "x"), "qty"), "2"; got != want {
		t.Errorf("qty of the rows kept: got %s, want %s", got, want)
	}
}

// Expressions are compiled against the columns at validation: a type
// error, an unknown column or a non-bool filter is reported at the
// parameter's line:col with the place in the expression.
func TestExprInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		uses string
		with string
		want []string // regexps the validation error must match
	}{
		{"type mismatch", "filter", `{expr: "weight > 'heavy'"}`,
			[]string{`pipeline\.yaml:9:18: expr: invalid operation: > \(mismatched types float64 and string\) at 1:8 of "weight > 'heavy'"`}},
		{"unknown column", "filter", `{expr: "wieght > 1"}`,
			[]string{`pipeline\.yaml:9:18: expr: unknown name wieght at 1:1 of "wieght > 1" \(did you mean "weight"\?\)`}},
		{"not a bool", "filter", `{expr: "weight * 2"}`,
			[]string{`pipeline\.yaml:9:18: expr: expected bool, but got float64`}},
		{"syntax", "filter", `{expr: "weight >"}`,
			[]string{`pipeline\.yaml:9:18: expr: unexpected token EOF at 1:8`}},
		{"derive type mismatch", "derive", `{name: w, expr: "name + 1"}`,
			[]string{`pipeline\.yaml:9:27: expr: invalid operation: \+ \(mismatched types string and int\) at 1:6`}},
		{"derive gives a list", "derive", `{name: w, expr: "[1, 2]"}`,
			[]string{`expr: the expression gives a \[\]interface \{\}`}},
		{"derive empty name", "derive", `{name: "", expr: "1"}`,
			[]string{`name: the column name must not be empty`}},
		{"multi-line expression", "filter", "\n      expr: |\n        weight > 0 &&\n          name > 1",
			[]string{`pipeline\.yaml:10:13: expr: invalid operation: > \(mismatched types string and int\) at 2:8 of the expression`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := invalid(t, fruitPipeline(t, tt.uses, tt.with))
			for _, w := range tt.want {
				if !regexp.MustCompile(w).MatchString(got) {
					t.Errorf("got %q, want a match for %s", got, w)
				}
			}
		})
	}
}

// Downstream of a derive, the new column's type is known at validation.
func TestDeriveSchemaFlowsDownstream(t *testing.T) {
	t.Parallel()
	path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: fruit.csv}
  - id: per
    uses: derive
    with: {name: per_item, expr: "weight / count"}
  - id: label
    uses: derive
    with: {name: label, expr: "upper(name) + '!'"}
  - id: keep
    uses: filter
    with: {expr: "per_item > label"}
`, map[string]string{"fruit.csv": fruitCSV})
	got := invalid(t, path)
	if !strings.Contains(got, "mismatched types float64 and string") {
		t.Errorf("got %q, want a type error comparing per_item (float) with label (string)", got)
	}
}

func TestDerive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, col, expr string
		wantType        string
		want            string
	}{
		{"float from ratio", "per", "weight / count", "float", "0.06666666666666667,0.35,,0.004166666666666667"},
		{"int", "twice", "count * 2", "int", "6,2,14,24"},
		{"int division is float", "half", "count / 2", "float", "1.5,0.5,3.5,6.0"},
		{"bool", "heavy", "weight > 0.1", "bool", "true,true,,false"},
		{"string replaces in place", "name", "lower(trim(name))", "string", "apple,pear,plum,fig"},
		{"time", "due", `picked + duration("48h")`, "time", "2024-05-03,2024-05-05,2024-05-04,2024-05-06"},
		{"duration in seconds", "age", `picked - date("2024-05-01")`, "float", "0.0,172800.0,86400.0,259200.0"},
		{"coalesce fills", "w", "coalesce(weight, 0.0)", "float", "0.2,0.35,0.0,0.05"},
		{"type known only per row", "w", "weight ?? count", "float", "0.2,0.35,7.0,0.05"},
		{"constant", "one", "1", "int", "1,1,1,1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := fruitPipeline(t, "derive", fmt.Sprintf("{name: %s, expr: %s}", tt.col, yamlQuote(tt.expr)))
			f := mustRun(t, path, "x")
			c, i := f.ColByName(tt.col)
			if c == nil {
				t.Fatalf("no column %s in %s", tt.col, f)
			}
			if got := c.Type.String(); got != tt.wantType {
				t.Errorf("type: got %s, want %s", got, tt.wantType)
			}
			if got := joined(t, f, tt.col); got != tt.want {
				t.Errorf("values: got %s, want %s", got, tt.want)
			}
			if tt.col == "name" && i != 0 {
				t.Errorf("replaced column at %d, want it in place at 0", i)
			}
			// What validation said of the column is what the run gave.
			plan := mustPlan(t, path)
			ps, _ := plan.Stage("x")
			if s := validatedSchema(ps); s != nil {
				if j := s.Index(tt.col); j < 0 || s[j].Type != c.Type {
					t.Errorf("schema at validation: got %s, want column %s %s", s, tt.col, c.Type)
				}
			}
		})
	}
}

// An error on a row fails the stage, naming the row.
func TestDeriveRowError(t *testing.T) {
	t.Parallel()
	path := fruitPipeline(t, "derive", `{name: r, expr: "count % (count - 7)"}`)
	err := runErr(t, path)
	if !strings.Contains(err.Error(), "row 3:") || !strings.Contains(err.Error(), "integer divide by zero") {
		t.Errorf("got %q, want row 3 and the division by zero", err)
	}
}

// TestExprTextIsBounded holds expressions that made gigabytes of text
// before expr's budget applied: each must fail its row with a clear
// error. The text functions still work within the bound.
func TestExprTextIsBounded(t *testing.T) {
	t.Parallel()
	hostile := []string{
		`len(repeat(repeat("x", 999999), 5000))`,
		`len(repeat("x", 99999999999))`,
		`len(let a = repeat("x", 1000000); let b = a + a; let c = b + b; let d = c + c; let e = d + d; e + e)`,
		`len(replace(repeat("x", 100000), "x", repeat("y", 10000)))`,
		`len(join(map(1..1000, repeat("z", 100000))))`,
		`len(map(1..10000000, #))`,
	}
	for _, src := range hostile {
		path := fruitPipeline(t, "derive", fmt.Sprintf("{name: r, expr: %s}", yamlQuote(src)))
		err := runErr(t, path)
		if !strings.Contains(err.Error(), "row 1:") || !(strings.Contains(err.Error(), "16 MiB of text") || strings.Contains(err.Error(), "memory budget")) {
			t.Errorf("%s: got %v, want a bounded-text or memory-budget error on row 1", src, err)
		}
	}
	path := fruitPipeline(t, "derive", `{name: r, expr: 'join([repeat(name, 2), replace(name, "p", "P")], "-") + "!"'}`)
	if got := joined(t, mustRun(t, path, "x"), "r"); got != "appleapple-aPPle!,Pear Pear -Pear !,plumplum-Plum!,figfig-fig!" {
		t.Errorf("text functions: got %s", got)
	}
}
