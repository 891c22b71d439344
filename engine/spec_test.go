package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

func TestValidateReportsEveryProblemWithPosition(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	tests := []struct {
		name     string
		spec     string
		wantIs   error
		wantText string // substring of the whole error, with its line:col
	}{
		{"unknown stage type with did-you-mean", "name: p\nstages:\n  - id: a\n    uses: sourc\n", engine.ErrUnknownStage, `p.yaml:4:11: unknown stage type "sourc" (did you mean "source"?)`},
		{"unknown parameter with did-you-mean", "name: p\nstages:\n  - id: a\n    uses: sleep\n    with: {fro: 1s}\n", engine.ErrUnknownParam, `p.yaml:5:12: sleep has no parameter "fro" (did you mean "for"?)`},
		{"wrong value type", "name: p\nstages:\n  - id: a\n    uses: sleep\n    with:\n      for: 12\n", engine.ErrInvalid, "p.yaml:6:12: for wants a duration like 30s, got the integer 12"},
		{"value out of range", "name: p\nstages:\n  - id: a\n    uses: sleep\n  - id: b\n    uses: to_split\n    with: {target: x, test_size: 1.5}\n", engine.ErrInvalid, "p.yaml:7:34: test_size must be in [0, 1], got 1.5"},
		{"enum with did-you-mean", "name: p\nstages:\n  - id: a\n    uses: sleep\n  - id: s\n    uses: to_split\n    with: {target: x}\n  - id: f\n    uses: fit\n    with: {mode: fsat}\n", engine.ErrInvalid, `mode must be one of fast, slow, got "fsat" (did you mean "fast"?)`},
		{"duplicate id", "name: p\nstages:\n  - id: a\n    uses: sleep\n  - id: a\n    uses: sleep\n", engine.ErrInvalid, `p.yaml:5:9: duplicate stage id "a" (first used on line 3)`},
		{"malformed id", "name: p\nstages:\n  - id: Load Data\n    uses: sleep\n", engine.ErrInvalid, `p.yaml:3:9: id "Load Data" may only hold lower-case letters`},
		{"missing need", "name: p\nstages:\n  - id: load\n    uses: sleep\n  - id: b\n    uses: sleep\n    needs: [lood]\n", engine.ErrMissingNeed, `p.yaml:7:13: stage b needs "lood", which is not a stage in this file (did you mean "load"?)`},
		{"cycle", "name: p\nstages:\n  - id: a\n    uses: sleep\n    needs: [b]\n  - id: b\n    uses: sleep\n    needs: [a]\n", engine.ErrCycle, "needs form a cycle through a → b"},
		{"self need", "name: p\nstages:\n  - id: a\n    uses: sleep\n    needs: [a]\n", engine.ErrCycle, "stage a needs itself"},
		{"wrong kind of input", "name: p\nstages:\n  - id: a\n    uses: sleep\n  - id: f\n    uses: fit\n", engine.ErrWiring, "fit takes a split, but stage a (sleep) gives a table (put a split stage between them)"},
		{"missing input", "name: p\nstages:\n  - id: s\n    uses: to_split\n    with: {target: y}\n", engine.ErrWiring, "to_split takes a table; stage s has no input"},
		{"missing file", "name: p\nstages:\n  - id: a\n    uses: source\n    with: {path: nowhere.csv}\n", engine.ErrNoFile, "p.yaml:5:18: path: no such file nowhere.csv"},
		{"missing required parameter", "name: p\nstages:\n  - id: a\n    uses: sleep\n  - id: s\n    uses: to_split\n", engine.ErrInvalid, "p.yaml:6:11: to_split needs parameter target"},
		{"check against upstream schema", "name: p\nstages:\n  - id: a\n    uses: source\n  - id: s\n    uses: to_split\n    with: {target: y}\n", engine.ErrInvalid, `p.yaml:7:20: target: no column "y"`},
		{"missing name", "stages:\n  - id: a\n    uses: sleep\n", engine.ErrInvalid, "missing required field name"},
		{"unknown top-level field", "name: p\nstage:\n  - id: a\n", engine.ErrInvalid, `p.yaml:2:1: unknown field "stage" (did you mean "stages"?)`},
		{"unknown top-level field without a near name", "name: p\nowner: ops\nstages:\n  - id: a\n    uses: sleep\n", engine.ErrInvalid, `p.yaml:2:1: unknown field "owner"`},
		{"string parameter given a number", "name: p\nstages:\n  - id: a\n    uses: sleep\n  - id: s\n    uses: to_split\n    with: {target: 5}\n", engine.ErrInvalid, "p.yaml:7:20: target wants a string, got the integer 5"},
		{"bad timeout", "name: p\nstages:\n  - id: a\n    uses: sleep\n    timeout: soon\n", engine.ErrInvalid, "p.yaml:5:14: timeout wants a positive duration"},
		{"bad retries", "name: p\nstages:\n  - id: a\n    uses: sleep\n    retries: -1\n", engine.ErrInvalid, "retries wants an integer in [0, 100]"},
		{"yaml syntax", "name: p\nstages:\n  - id: a\n   uses: [\n", engine.ErrSyntax, "p.yaml:"},
		{"empty stages", "name: p\nstages: []\n", engine.ErrInvalid, "stages is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := engine.LoadPlan(writeSpec(t, tt.spec), reg.Registry, nil)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(err, %v) = false; err:\n%v", tt.wantIs, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("got error\n%v\nwant it to contain\n%s", err, tt.wantText)
			}
		})
	}
}

func TestValidateListsAllProblemsInLineOrder(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	spec := "name: p\nstages:\n  - id: a\n    uses: sourc\n  - id: b\n    uses: sleep\n    needs: [x]\n  - id: b\n    uses: sleep\n    with: {for: 3}\n"
	_, err := engine.LoadPlan(writeSpec(t, spec), reg.Registry, nil)
	var list engine.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %T %v, want an ErrorList", err, err)
	}
	if len(list) != 4 {
		t.Fatalf("got %d problems, want 4:\n%v", len(list), err)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Pos.Line < list[i-1].Pos.Line {
			t.Errorf("problems out of line order:\n%v", err)
		}
	}
}

func TestNeedsOmittedMeansPreviousStage(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	plan := mustPlan(t, reg.Registry, "name: p\nstages:\n  - id: a\n    uses: source\n  - id: b\n    uses: sleep\n  - id: c\n    uses: sleep\n    needs: [a]\n  - id: d\n    uses: sleep\n    needs: [b, c]\n")
	want := map[string]string{"a": "", "b": "a", "c": "a", "d": "b,c"}
	for _, s := range plan.Stages {
		if got := strings.Join(s.Inputs, ","); got != want[s.Spec.ID] {
			t.Errorf("stage %s inputs: got %q, want %q", s.Spec.ID, got, want[s.Spec.ID])
		}
	}
}

func TestOverridesAreTypedAndChecked(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	path := writeSpec(t, "name: p\nstages:\n  - id: a\n    uses: sleep\n  - id: s\n    uses: to_split\n    with: {target: x}\n")
	o, err := engine.ParseOverride("s.test_size=0.3")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.LoadPlan(path, reg.Registry, []engine.Override{o})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := plan.Stage("s")
	if got := s.Params.Float("test_size"); got != 0.3 {
		t.Errorf("test_size: got %v, want 0.3", got)
	}
	if got := plan.Spec.Overrides; len(got) != 1 || got[0] != "s.test_size=0.3" {
		t.Errorf("overrides recorded: got %v", got)
	}
	bad, _ := engine.ParseOverride("s.test_size=lots")
	_, err = engine.LoadPlan(path, reg.Registry, []engine.Override{bad})
	if err == nil || !strings.Contains(err.Error(), "--set s.test_size: test_size wants a number") {
		t.Errorf("bad override: got %v", err)
	}
	missing, _ := engine.ParseOverride("model.C=1")
	_, err = engine.LoadPlan(path, reg.Registry, []engine.Override{missing})
	var list engine.ErrorList
	if !errors.As(err, &list) || !errors.Is(err, engine.ErrInvalid) || !strings.Contains(err.Error(), `p.yaml:2:1: --set model.C=1: no stage "model" in this file`) {
		t.Errorf("override of a missing stage: got %v, want a located problem at the stages key", err)
	}
	if _, err := engine.ParseOverride("nodot=1"); err == nil {
		t.Error("override without STAGE.PARAM: got no error")
	}
}

func TestStageSeedDependsOnPipelineSeedAndID(t *testing.T) {
	t.Parallel()
	a, b, c := engine.StageSeed(42, "model"), engine.StageSeed(42, "other"), engine.StageSeed(43, "model")
	if a == b || a == c {
		t.Errorf("seeds collide: %d %d %d", a, b, c)
	}
	if a != engine.StageSeed(42, "model") {
		t.Error("StageSeed is not deterministic")
	}
}

// FuzzParseSpec checks that no input makes parsing or validation panic,
// and that every problem reported carries the file name.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte("name: p\nstages:\n  - id: a\n    uses: sleep\n"))
	f.Add([]byte("name: p\nstages:\n  - {id: a, uses: source, with: {path: x.csv}}\n  - id: b\n    needs: [a, a]\n"))
	f.Add([]byte("name: [\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("name: p\nseed: -1\nstages:\n  - id: a\n    uses: fit\n    with: {mode: 3}\n    timeout: 1h\n    retries: 2\n"))
	f.Add([]byte("&a name: *a\n"))
	reg := newTestRegistry()
	f.Fuzz(func(t *testing.T, src []byte) {
		spec, err := engine.ParseSpec("f.yaml", src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		if _, err := engine.Validate(spec, reg.Registry); err != nil && !strings.HasPrefix(err.Error(), "f.yaml") {
			t.Fatalf("validation error without file name: %v", err)
		}
	})
}

// FuzzSetValue checks that no --set argument makes parsing, applying or
// validating panic, and that a problem names the --set argument or the
// file.
func FuzzSetValue(f *testing.F) {
	for _, s := range []string{
		"a.for=1s", "a.for=", "a.for=[1, 2]", "a.for={x: 1}", "a.for=1\r---", "a.for=\"x", "a.for=&a x",
		"a.for=!!binary x", "a.for=" + strings.Repeat("[", 100), "nope.x=1", "a.=1", "a.for=- a\n- b",
	} {
		f.Add(s)
	}
	reg := newTestRegistry()
	f.Fuzz(func(t *testing.T, arg string) {
		ov, err := engine.ParseOverride(arg)
		if err != nil {
			if !strings.Contains(err.Error(), "--set") {
				t.Fatalf("error without --set: %v", err)
			}
			return
		}
		spec, err := engine.ParseSpec("f.yaml", []byte("name: p\nstages:\n  - id: a\n    uses: sleep\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := spec.Apply([]engine.Override{ov}); err != nil {
			return
		}
		_, _ = engine.Validate(spec, reg.Registry)
	})
}
