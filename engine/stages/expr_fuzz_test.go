package stages

import (
	"context"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

// FuzzExpr compiles and evaluates filter and derive expressions on a small
// table of every column type, with missing values. No expression may
// panic or escape the bounds on text and lists; errors are fine.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		"weight > 0.1", `trim(lower(name)) == "pear"`, "count * 2", `picked + duration("48h")`,
		"coalesce(weight, 0.0)", "weight ?? count", "isnull(ripe)", `name + "x"`,
		`repeat(name, 3)`, `replace(name, "p", "PP")`, `join(split(name, "e"), "-")`,
		`len(map(1..100, #))`, `let a = name + name; a + a`, `$env["count"] / 0`, `count % (count - 7)`,
		`let l = 1..300; count(l, count(l, # > count) == 300)`, `notnull(weight) || all(1..50, any(1..50, # == 0))`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	tbl, err := frame.ReadCSV(strings.NewReader("name,weight,count,ripe,picked\napple,0.2,3,true,2024-05-01\nPear ,0.35,1,false,2024-05-03\nplum,,7,true,2024-05-02\nfig,0.05,12,,2024-05-04\n"), frame.ReadOptions{Name: "fruit"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string, asBool bool) {
		if len(src) > 2000 {
			return
		}
		p, err := compileExpr(src, tbl.Schema(), asBool)
		if err != nil {
			return
		}
		_ = p.eval(context.Background(), tbl, func(int, any, bool) error { return nil })
	})
}
