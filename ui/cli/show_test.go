package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShowAndComparePrintValuesAsWritten runs a pipeline with an
// expression twice and checks show and compare in every format: strings
// as a pipeline file writes them (not JSON-escaped), whole numbers without
// a fraction, compare --all headed as such, show --json with kind names
// and, with --logs, the logs; runs --pipeline for a name the store does
// not have says so.
func TestShowAndComparePrintValuesAsWritten(t *testing.T) {
	dir, dbPath := sampleDir(t)
	p := filepath.Join(dir, "sample-data", "expr.yaml")
	if err := os.WriteFile(p, []byte(`name: expr
seed: 1
stages:
  - id: load
    uses: read_csv
    with: {path: iris.csv}
  - id: keep
    uses: filter
    with: {expr: "petal_width > 0 && sepal_length < 9"}
  - id: split
    uses: split
    with: {target: species}
  - id: model
    uses: logistic_regression
    with: {max_iter: 200}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"1.0", "0.5"} {
		if out, errs, code := sluice(t, dir, "--db", dbPath, "run", "sample-data/expr.yaml", "--set", "model.C="+c); code != 0 {
			t.Fatalf("run: exit %d\n%s%s", code, out, errs)
		}
	}
	const expr = `"petal_width > 0 && sepal_length < 9"`
	check := func(args ...string) string {
		t.Helper()
		out, errs, code := sluice(t, dir, append([]string{"--db", dbPath}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		if strings.Contains(out, `\u00`) {
			t.Errorf("%v prints JSON escapes:\n%s", args, out)
		}
		return out
	}
	if out := check("show", "1"); !strings.Contains(out, "expr="+expr) || !strings.Contains(out, "max_iter=200 ") && !strings.Contains(out, "max_iter=200\n") {
		t.Errorf("show: want expr=%s and max_iter=200 in\n%s", expr, out)
	}
	for _, format := range [][]string{nil, {"--md"}, {"--csv"}} {
		out := check(append([]string{"compare", "1", "2", "--all"}, format...)...)
		if !strings.Contains(out, strings.Trim(expr, `"`)) || !strings.Contains(out, "200") || strings.Contains(out, "200.0") {
			t.Errorf("compare --all %v: want the expression as written and max_iter 200 in\n%s", format, out)
		}
		if format == nil && (strings.Contains(out, "that differ") || !strings.Contains(out, "PARAMETERS (all)")) {
			t.Errorf("compare --all is headed as if only differing parameters were shown:\n%s", out)
		}
	}

	var doc struct {
		Stages []struct {
			Kind any `json:"kind"`
		} `json:"stages"`
		Logs []struct {
			Stage, Text string
		} `json:"logs"`
	}
	if err := json.Unmarshal([]byte(check("show", "1", "--json", "--logs")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Stages) == 0 || doc.Stages[0].Kind != "table" || doc.Stages[3].Kind != "model" {
		t.Errorf("show --json: stage kinds %v, want names (table … model)", doc.Stages)
	}
	if len(doc.Logs) == 0 {
		t.Error("show --json --logs has no logs")
	}

	out := check("runs", "--pipeline", "exp")
	if !strings.Contains(out, `no runs of pipeline "exp" among the store's 2 runs (did you mean "expr"?)`) {
		t.Errorf("runs --pipeline exp: got %q", out)
	}
}

// TestRunPrintsPhases: without a terminal, run prints each phase a stage
// enters after its counted work, so a long model encoding is not silence.
func TestRunPrintsPhases(t *testing.T) {
	dir, dbPath := sampleDir(t)
	_, errs, code := sluice(t, dir, "--db", dbPath, "run", "sample-data/iris.yaml")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"model: scoring test rows", "model: encoding model"} {
		if !strings.Contains(errs, want) {
			t.Errorf("run's progress lacks %q:\n%s", want, errs)
		}
	}
}
