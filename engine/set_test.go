package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

func TestSplitSets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
		err      bool
	}{
		{"empty", "  ", nil, false},
		{"scalars", "model.C=0.5  split.test_size=0.3", []string{"model.C=0.5", "split.test_size=0.3"}, false},
		{"list with spaces", "model.C=[0.1, 1] split.stratify=true", []string{"model.C=[0.1, 1]", "split.stratify=true"}, false},
		{"map with spaces", "tune.grid={C: [0.1, 1], max_iter: [100]}\tsel.columns=[a, b]", []string{"tune.grid={C: [0.1, 1], max_iter: [100]}", "sel.columns=[a, b]"}, false},
		{"quoted", `load.path="my file.csv" x.y='a b'`, []string{`load.path="my file.csv"`, `x.y='a b'`}, false},
		{"quoted bracket", `x.y="[" x.z=1`, []string{`x.y="["`, "x.z=1"}, false},
		{"unclosed bracket", "model.C=[0.1, 1", nil, true},
		{"unclosed quote", `x.y="a b`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := engine.SplitSets(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("SplitSets(%q): error %v, want error %v", tt.in, err, tt.err)
			}
			if !tt.err && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SplitSets(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseOverrides(t *testing.T) {
	t.Parallel()
	got, err := engine.ParseOverrides([]string{"sel.columns=[a, b]", "tune.grid={C: [0.1, 1]}", "model.C=0.5"})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{[]any{"a", "b"}, map[string]any{"C": []any{0.1, int64(1)}}, 0.5}
	for i, o := range got {
		if fmt.Sprint(o.Value) != fmt.Sprint(want[i]) {
			t.Errorf("override %d (%s): got %#v, want %#v", i, o.Text, o.Value, want[i])
		}
	}
	if _, err := engine.ParseOverrides([]string{"model.C=1", "nodot=1"}); err == nil {
		t.Error("nodot=1: got no error, want STAGE.PARAM=VALUE")
	}
}

func TestParseSweep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"model.C=0.01,0.1,1", "model.C=[0.01 0.1 1]", false},
		{"model.grid=[1,2],{a: 1, b: 2}", "model.grid=[[1,2] {a: 1, b: 2}]", false},
		{`load.path="a,b.csv",c.csv`, `load.path=["a,b.csv" c.csv]`, false},
		{"C=1,2", "", true},
		{"model.C=", "", true},
		{"model.C=1,,2", "", true},
	}
	for _, tt := range tests {
		a, err := engine.ParseSweep(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseSweep(%q): error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err == nil {
			if got := a.Key + "=" + "[" + strings.Join(a.Values, " ") + "]"; got != tt.want {
				t.Errorf("ParseSweep(%q) = %s, want %s", tt.in, got, tt.want)
			}
		}
	}
	got := engine.CrossProduct([]engine.SweepAxis{{Key: "a.x", Values: []string{"1", "2"}}, {Key: "b.y", Values: []string{"[1, 2]"}}})
	want := [][]string{{"a.x=1", "b.y=[1, 2]"}, {"a.x=2", "b.y=[1, 2]"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CrossProduct = %q, want %q", got, want)
	}
}

// TestCheckOverride checks list and map values against the declarations
// of a plan's stages, as the workbench does before it starts a run.
func TestCheckOverride(t *testing.T) {
	t.Parallel()
	run := func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
		return &engine.Output{}, nil
	}
	reg := engine.NewRegistry(&engine.StageType{Name: "pick", Group: "transform", Doc: "d", Run: run,
		Params: []engine.Param{
			{Name: "columns", Type: engine.TypeStrings, Doc: "d"},
			{Name: "grid", Type: engine.TypeMap, Doc: "d"},
			{Name: "n", Type: engine.TypeInt, Min: engine.Range(1), Doc: "d"},
		}})
	plan := mustPlan(t, reg, "name: p\nstages:\n  - id: sel\n    uses: pick\n")
	tests := []struct {
		set string
		err string
	}{
		{"sel.columns=[a, b]", ""},
		{"sel.grid={C: [0.1, 1]}", ""},
		{"sel.n=3", ""},
		{"sel.n=0", "n must be ≥ 1"},
		{"sel.grid=[1, 2]", "grid wants"},
		{"other.n=1", `no stage "other"`},
		{"sel.m=1", `no parameter "m"`},
	}
	for _, tt := range tests {
		o, err := engine.ParseOverride(tt.set)
		if err != nil {
			t.Fatalf("%s: %v", tt.set, err)
		}
		err = plan.CheckOverride(o)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: got %v, want no error", tt.set, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: got %v, want an error containing %q", tt.set, err, tt.err)
		}
	}
}
