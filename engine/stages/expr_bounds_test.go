package stages

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

func fruitTable(t testing.TB) *frame.Frame {
	t.Helper()
	tbl, err := frame.ReadCSV(strings.NewReader("name,weight,n\napple,0.2,3\nPear ,,1\nplum,0.5,7\n"), frame.ReadOptions{Name: "fruit"})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func evalAll(ctx context.Context, p *exprProg, tbl *frame.Frame) ([]any, error) {
	out := make([]any, tbl.NumRows())
	err := p.eval(ctx, tbl, func(i int, v any, ok bool) error {
		out[i] = v
		return nil
	})
	return out, err
}

// TestExprStepsAreBounded holds expressions that loop over one list
// inside loops over it, allocating nothing expr's memory budget counts:
// each took minutes a row. Each must now fail its first row with the step
// bound, including where the row has a missing value and the expression
// handles missing values (whose other failures give a missing value).
func TestExprStepsAreBounded(t *testing.T) {
	t.Parallel()
	tbl := fruitTable(t)
	for _, c := range []struct {
		src string
		row string
	}{
		{`let l = 1..1000; count(l, count(l, count(l, # > 0) == 1000) == 1000)`, "row 1:"},
		{`let l = 1..500; all(l, !any(l, !all(l, # > 0)))`, "row 1:"},
		{`let l = 1..1000; reduce(l, #acc + count(l, # > 0), 0)`, "row 1:"},
		{`let l = 1..2000; len(filter(l, len(filter(l, # > 0)) == 2000))`, "row 1:"},
		{`let l = 1..1000; sum(map(l, sum(map(l, # * 2))))`, "row 1:"},
		// Row 2's weight is missing: only there does the loop run.
		{`let l = 1..1000; notnull(weight) || count(l, count(l, # > 0) == 1000) == 1000`, "row 2:"},
		{`notnull(weight) || count(1..1000, count(1..1000, # > 0) == 1000) == 1000`, "row 2:"},
	} {
		p, err := compileExpr(c.src, tbl.Schema(), false)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		p.maxRowTime = time.Hour // the step bound, not the clock, must stop these (the race detector on a loaded machine is slow)
		_, err = evalAll(context.Background(), p, tbl)
		if err == nil || !strings.Contains(err.Error(), c.row) || !(strings.Contains(err.Error(), "more than 1000000 steps") || strings.Contains(err.Error(), "memory budget")) {
			t.Errorf("%s: got %v, want the step bound (or expr's memory budget) on %s", c.src, err, c.row)
		}
	}
	// Loops within the bound give their answers.
	p, err := compileExpr(`count(1..1000, # % 7 == 0) + len(filter(map(1..300, # * n), # > 600))`, tbl.Schema(), false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := evalAll(context.Background(), p, tbl)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{142 + 100, 142 + 0, 142 + 215} {
		if got[i] != want {
			t.Errorf("row %d: got %v, want %d", i+1, got[i], want)
		}
	}
}

// TestExprRowTimeIsBounded gives the budget a time limit already past, so
// the first time check (after exprCheckEvery steps) fails the row; the
// bound is what stops a loop whose steps are each expensive.
func TestExprRowTimeIsBounded(t *testing.T) {
	t.Parallel()
	tbl := fruitTable(t)
	p, err := compileExpr(`count(1..5000, upper(name) != "")`, tbl.Schema(), false)
	if err != nil {
		t.Fatal(err)
	}
	p.maxRowTime = time.Nanosecond
	_, err = evalAll(context.Background(), p, tbl)
	if err == nil || !strings.Contains(err.Error(), "row 1:") || !strings.Contains(err.Error(), "took more than 1ns on one row (1024 steps so far)") {
		t.Errorf("got %v, want the time bound on row 1", err)
	}
	p.maxRowTime = 0 // exprMaxRowTime: ample for 5,000 steps
	if _, err := evalAll(context.Background(), p, tbl); err != nil {
		t.Errorf("with the default time bound: %v", err)
	}
}

// TestExprLoopsStopWhenCancelled: a row's loop checks the stage's context,
// so a cancelled run does not wait for the row (or the chunk) to end.
func TestExprLoopsStopWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := &textBudget{}
	b.reset(ctx, true)
	var err error
	for range exprCheckEvery {
		if err = b.tick(); err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) || b.steps != exprCheckEvery {
		t.Errorf("after %d steps on a cancelled context: %v, want context.Canceled at step %d", b.steps, err, exprCheckEvery)
	}
}

// The tick patch cannot be called from an expression: its name is not
// one the syntax allows, and a function of that spelling is unknown.
func TestExprTickIsNotCallable(t *testing.T) {
	t.Parallel()
	tbl := fruitTable(t)
	for _, src := range []string{"$tick()", "$ tick()", `$env["$ tick"]()`} {
		if _, err := compileExpr(src, tbl.Schema(), false); err == nil {
			t.Errorf("%s compiled", src)
		}
	}
}

// TestExprStageStepsAreBounded: every row stays within the per-row step
// bound, but the rows together pass the bound on the stage (here lowered
// to 1,000,000 steps: 40,000 rows of 101 steps), counted across the
// goroutines that share the table's chunks. Within the bound the same
// expression gives its answers.
func TestExprStageStepsAreBounded(t *testing.T) {
	t.Parallel()
	const rows = 40_000
	x := make([]int64, rows)
	for i := range x {
		x[i] = int64(i % 7)
	}
	tbl, err := frame.New(frame.NewInt("x", x, nil))
	if err != nil {
		t.Fatal(err)
	}
	p, err := compileExpr(`count(1..100, # > x)`, tbl.Schema(), false)
	if err != nil {
		t.Fatal(err)
	}
	p.maxRowTime = time.Hour
	p.maxStageSteps = 1_000_000
	_, err = evalAll(context.Background(), p, tbl)
	if !errors.Is(err, errExprStageSteps) || !strings.Contains(err.Error(), "more than 1000000 steps over the table's rows") {
		t.Fatalf("got %v, want the stage's step bound", err)
	}
	p.maxStageSteps = 100 * rows * 2
	got, err := evalAll(context.Background(), p, tbl)
	if err != nil {
		t.Fatalf("within the stage's bound: %v", err)
	}
	for i, v := range got {
		if want := 100 - i%7; v != want {
			t.Fatalf("row %d: got %v, want %d", i+1, v, want)
		}
	}
}

// TestExprStageStepsErrorSaysWhere: the stage's step bound names where
// the expression is written, in the file or by --set.
func TestExprStageStepsErrorSaysWhere(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	src := "name: p\nstages:\n  - id: load\n    uses: read_csv\n    with: {path: d.csv}\n  - id: keep\n    uses: filter\n    with:\n      expr: 'count(1..10, # > x) > 0'\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d.csv"), []byte("x\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sets []string
		want string
	}{
		{nil, "expr at " + path + ":9:13: the expression takes more than 5 steps over the table's rows (runs of the body of map, filter, all, count, reduce, …; at most 1000000 a row), passed at row 2: "},
		{[]string{"keep.expr='count(1..20, # > x) > 0'"}, "expr at --set keep.expr: the expression takes more than 5 steps"},
	} {
		sets, err := engine.ParseOverrides(c.sets)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := engine.LoadPlan(path, Registry(), sets)
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := plan.Stage("keep")
		sc := engine.NewStageContext(plan, ps, nil, nil)
		err = exprRunError(sc, &stageStepsError{max: 5, row: 2})
		if !strings.HasPrefix(err.Error(), c.want) || !errors.Is(err, errExprStageSteps) {
			t.Errorf("got %q, want it to start %q", err, c.want)
		}
	}
}
