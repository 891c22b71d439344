package stages_test

import (
	"strconv"
	"strings"
	"testing"
)

func TestSort(t *testing.T) {
	t.Parallel()
	data := "g,v,k\nb,2,1\na,3,2\nb,1,3\na,,4\nc,3,5\n"
	tests := []struct {
		name, with, want string // want: column k after
	}{
		{"one key", "{by: v}", "3,1,2,5,4"},
		{"descending, missing last", "{by: v, descending: true}", "2,5,1,3,4"},
		{"two keys", "{by: [g, v]}", "2,4,3,1,5"},
		{"two keys, directions", "{by: [g, v], descending: [true, true]}", "5,1,3,2,4"},
		{"two keys, mixed", "{by: [g, v], descending: [false, true]}", "2,4,1,3,5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: d.csv}
  - id: x
    uses: sort
    with: `+tt.with+"\n", map[string]string{"d.csv": data})
			if got := joined(t, mustRun(t, path, "x"), "k"); got != tt.want {
				t.Errorf("k: got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSortInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, with, want string
	}{
		{"unknown column", "{by: [wieght]}", `by: no column "wieght" (did you mean "weight"?)`},
		{"directions do not match", "{by: [name, count], descending: [true]}", "descending: give one true/false per column of by (2), got 1"},
		{"direction not a bool", "{by: name, descending: up}", `descending: want true, false or a list of them, got "up"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := invalid(t, fruitPipeline(t, "sort", tt.with)); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

// numbersCSV is 0..99 in column i.
func numbersCSV() string {
	var b strings.Builder
	b.WriteString("i\n")
	for i := range 100 {
		b.WriteString(strconv.Itoa(i) + "\n")
	}
	return b.String()
}

// samplePipeline samples numbers with the pipeline seed and stage id given.
func samplePipeline(t *testing.T, seed, id, with string) string {
	t.Helper()
	path := pipeline(t, `  - id: load
    uses: read_csv
    with: {path: n.csv}
  - id: `+id+`
    uses: sample
    with: `+with+"\n", map[string]string{"n.csv": numbersCSV()})
	if seed != "42" {
		rewrite(t, path, "seed: 42", "seed: "+seed)
	}
	return path
}

func TestSample(t *testing.T) {
	t.Parallel()
	draw := func(seed, id, with string) []string {
		path := samplePipeline(t, seed, id, with)
		return column(t, mustRun(t, path, id), "i")
	}
	a := draw("42", "x", "{n: 10}")
	if len(a) != 10 {
		t.Fatalf("n: 10 gave %d rows", len(a))
	}
	seen := map[string]bool{}
	for _, v := range a {
		if seen[v] {
			t.Errorf("without replacement, %s drawn twice in %v", v, a)
		}
		seen[v] = true
	}
	if b := draw("42", "x", "{n: 10}"); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("same seed: got %v then %v, want the same rows", a, b)
	}
	if b := draw("7", "x", "{n: 10}"); strings.Join(a, ",") == strings.Join(b, ",") {
		t.Errorf("another pipeline seed: got %v both times, want other rows", a)
	}
	if b := draw("42", "y", "{n: 10}"); strings.Join(a, ",") == strings.Join(b, ",") {
		t.Errorf("another stage id: got %v both times, want other rows", a)
	}
	if got := len(draw("42", "x", "{frac: 0.25}")); got != 25 {
		t.Errorf("frac 0.25 of 100: got %d rows, want 25", got)
	}
	if got := len(draw("42", "x", "{frac: 3, replace: true}")); got != 300 {
		t.Errorf("frac 3 with replacement: got %d rows, want 300", got)
	}
	if got := len(draw("42", "x", "{n: 100}")); got != 100 {
		t.Errorf("n: 100 of 100: got %d rows, want 100", got)
	}
}

func TestSampleInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, with, want string
	}{
		{"neither", "{}", "n: set n (a number of rows) or frac"},
		{"both", "{n: 1, frac: 0.5}", "frac: set n or frac, not both"},
		{"frac above 1", "{frac: 1.5}", "frac: a fraction above 1 needs replace: true"},
		{"negative", "{n: -1}", "n must be ≥ 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := invalid(t, samplePipeline(t, "42", "x", tt.with)); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
	err := runErr(t, samplePipeline(t, "42", "x", "{n: 101}"))
	if !strings.Contains(err.Error(), "n is 101 but the table has 100 rows") {
		t.Errorf("n above the rows: got %q", err)
	}
}
