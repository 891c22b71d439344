package stages_test

import (
	"strings"
	"testing"
)

const (
	ordersCSV = "id,cust,amount\n1,a,10\n2,b,20\n3,a,5\n4,z,7\n"
	custCSV   = "cust,city,amount\na,Oslo,100\nb,Rome,200\nc,Lima,300\n"
)

func joinPipeline(t *testing.T, with string) string {
	t.Helper()
	return pipeline(t, `  - id: orders
    uses: read_csv
    with: {path: orders.csv}
  - id: customers
    uses: read_csv
    with: {path: customers.csv}
  - id: x
    uses: join
    needs: [orders, customers]
    with: `+with+"\n", map[string]string{"orders.csv": ordersCSV, "customers.csv": custCSV})
}

func TestJoin(t *testing.T) {
	t.Parallel()
	const schema = "id int, cust string, amount_x int, city string, amount_y int"
	tests := []struct {
		name, with string
		want       map[string]string
		wantSchema string
	}{
		{"inner", "{on: cust}",
			map[string]string{"id": "1,2,3", "cust": "a,b,a", "city": "Oslo,Rome,Oslo", "amount_y": "100,200,100"}, schema},
		{"left", "{on: cust, how: left}",
			map[string]string{"id": "1,2,3,4", "cust": "a,b,a,z", "city": "Oslo,Rome,Oslo,"}, schema},
		{"right", "{on: [cust], how: right}",
			map[string]string{"id": "1,3,2,", "cust": "a,a,b,c", "city": "Oslo,Oslo,Rome,Lima"}, schema},
		{"outer", "{on: cust, how: outer}",
			map[string]string{"id": "1,2,3,4,", "cust": "a,b,a,z,c", "city": "Oslo,Rome,Oslo,,Lima", "amount_x": "10,20,5,7,"}, schema},
		{"suffixes", "{on: cust, suffixes: ['', _cust]}",
			map[string]string{"amount": "10,20,5", "amount_cust": "100,200,100"}, "id int, cust string, amount int, city string, amount_cust int"},
		{"two keys", "{on: [cust, amount]}",
			map[string]string{"id": ""}, "id int, cust string, amount int, city string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := joinPipeline(t, tt.with)
			ps, _ := mustPlan(t, path).Stage("x")
			if got := schemaText(validatedSchema(ps)); got != tt.wantSchema {
				t.Errorf("schema at validation: got %s, want %s", got, tt.wantSchema)
			}
			f := mustRun(t, path, "x")
			if got := f.Schema().String(); got != tt.wantSchema {
				t.Errorf("schema after the run: got %s, want %s", got, tt.wantSchema)
			}
			for col, want := range tt.want {
				if got := joined(t, f, col); got != want {
					t.Errorf("column %s: got %q, want %q", col, got, want)
				}
			}
		})
	}
}

func TestJoinInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, with, want string
	}{
		{"key missing on the right", "{on: id}", `on: right table: no column "id"`},
		{"key with a typo", "{on: cst}", `on: left table: no column "cst" (did you mean "cust"?)`},
		{"bad how", "{on: cust, how: cross}", "how must be one of inner, left, right, outer"},
		{"one suffix", "{on: cust, suffixes: [_l]}", "suffixes: want two different suffixes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := invalid(t, joinPipeline(t, tt.with)); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
	path := pipeline(t, `  - id: orders
    uses: read_csv
    with: {path: orders.csv}
  - id: x
    uses: join
    with: {on: cust}
`, map[string]string{"orders.csv": ordersCSV})
	if got := invalid(t, path); !strings.Contains(got, "join takes at least 2 inputs") && !strings.Contains(got, "takes at least 2") {
		t.Errorf("join with one input: got %q, want a wiring error", got)
	}
	path = pipeline(t, `  - id: a
    uses: read_csv
    with: {path: a.csv}
  - id: b
    uses: read_csv
    with: {path: b.csv}
  - id: x
    uses: join
    needs: [a, b]
    with: {on: k}
`, map[string]string{"a.csv": "k,v\n1,2\n", "b.csv": "k,w\nx,2\n"})
	if got := invalid(t, path); !strings.Contains(got, "on: key k is int on the left and string on the right") {
		t.Errorf("keys of different types: got %q", got)
	}
}

func TestConcat(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"a.csv": "k,v\nx,1\ny,2\n",
		"b.csv": "v,w,k\n1.5,true,z\n",
		"c.csv": "k,v\nq,3\n",
	}
	tests := []struct {
		name, needs, with string
		wantSchema        string
		want              map[string]string
	}{
		{"same columns", "[a, c]", "{}", "k string, v int", map[string]string{"k": "x,y,q", "v": "1,2,3"}},
		{"outer", "[a, b, c]", "{}", "k string, v float, w bool", map[string]string{"k": "x,y,z,q", "v": "1.0,2.0,1.5,3.0", "w": ",,true,"}},
		{"inner", "[b, a]", "{join: inner}", "v float, k string", map[string]string{"k": "z,x,y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := pipeline(t, `  - id: a
    uses: read_csv
    with: {path: a.csv}
  - id: b
    uses: read_csv
    with: {path: b.csv}
  - id: c
    uses: read_csv
    with: {path: c.csv}
  - id: x
    uses: concat
    needs: `+tt.needs+`
    with: `+tt.with+"\n", files)
			ps, _ := mustPlan(t, path).Stage("x")
			if got := schemaText(validatedSchema(ps)); got != tt.wantSchema {
				t.Errorf("schema at validation: got %s, want %s", got, tt.wantSchema)
			}
			f := mustRun(t, path, "x")
			if got := f.Schema().String(); got != tt.wantSchema {
				t.Errorf("schema after the run: got %s, want %s", got, tt.wantSchema)
			}
			for col, want := range tt.want {
				if got := joined(t, f, col); got != want {
					t.Errorf("column %s: got %q, want %q", col, got, want)
				}
			}
		})
	}
}

func TestConcatTypeClash(t *testing.T) {
	t.Parallel()
	path := pipeline(t, `  - id: a
    uses: read_csv
    with: {path: a.csv}
  - id: b
    uses: read_csv
    with: {path: b.csv}
  - id: x
    uses: concat
    needs: [a, b]
`, map[string]string{"a.csv": "k\n1\n", "b.csv": "k\nx\n"})
	if got := invalid(t, path); !strings.Contains(got, "column k is int in an earlier input and string in input 2") {
		t.Errorf("got %q, want the clash on k", got)
	}
}
