package engine_test

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

func TestFormatSpecParsesBackToTheSameStages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		desc   string
		seed   uint64
		stages []engine.StageDraft
	}{
		{"one stage", "", 0, []engine.StageDraft{{ID: "load", Uses: "source"}}},
		{"parameters of every kind", "Mixed: values, \"quotes\" and # hashes", 42, []engine.StageDraft{
			{ID: "load", Uses: "source", With: []engine.Setting{{Name: "path", Value: "data/iris.csv"}}},
			{ID: "fit", Uses: "fit", Needs: []string{"load"}, NeedsSet: true, Retries: 2, Timeout: 90 * time.Second, With: []engine.Setting{
				{Name: "c", Value: 1.0},
				{Name: "tol", Value: 1e-9},
				{Name: "big", Value: 1e21},
				{Name: "n", Value: int64(100)},
				{Name: "flag", Value: true},
				{Name: "word", Value: "true"},
				{Name: "num", Value: "1.5"},
				{Name: "nul", Value: "null"},
				{Name: "empty", Value: ""},
				{Name: "colon", Value: "a: b"},
				{Name: "comma", Value: "a, b"},
				{Name: "hash", Value: "x #y"},
				{Name: "spaces", Value: "  padded  "},
				{Name: "lines", Value: "one\ntwo\tthree\\"},
				{Name: "unicode", Value: "données ✓ 数据"},
				{Name: "expr", Value: `sepal_length > 5 && species != "setosa"`},
				{Name: "list", Value: []any{"a", "b c", int64(3), 0.5, false}},
				{Name: "grid", Value: map[string]any{"C": []any{0.1, 1.0, int64(10)}, "penalty": []any{"l2"}, "nested": map[string]any{"k": "v"}}},
				{Name: "inf", Value: math.Inf(1)},
				{Name: "neg", Value: -2.5},
				{Name: "none", Value: nil},
			}},
		}},
		{"explicit empty needs and fan-in", "", 7, []engine.StageDraft{
			{ID: "a", Uses: "source", NeedsSet: true, Needs: []string{}},
			{ID: "b", Uses: "source"},
			{ID: "c", Uses: "sleep", NeedsSet: true, Needs: []string{"a", "b"}},
		}},
		{"ids and names that need quotes", "", 1, []engine.StageDraft{{ID: "yes", Uses: "no"}, {ID: "1", Uses: "on"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := engine.FormatSpec("my pipeline: "+tt.name, tt.desc, tt.seed, tt.stages)
			spec, err := engine.ParseSpec("p.yaml", src)
			if err != nil {
				t.Fatalf("ParseSpec: %v\n%s", err, src)
			}
			if spec.Name != "my pipeline: "+tt.name || spec.Description != tt.desc || spec.Seed != tt.seed {
				t.Errorf("got name %q description %q seed %d, want %q %q %d", spec.Name, spec.Description, spec.Seed, "my pipeline: "+tt.name, tt.desc, tt.seed)
			}
			got := engine.DraftSpec(spec)
			want := normalise(tt.stages)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip changed the stages\ngot  %#v\nwant %#v\nfile:\n%s", got, want, src)
			}
			if again := engine.FormatSpec(spec.Name, spec.Description, spec.Seed, got); string(again) != string(src) {
				t.Errorf("formatting the parsed stages gives different bytes:\n%s\nwant\n%s", again, src)
			}
		})
	}
}

// normalise turns drafts into what ParseSpec gives back: ints as int64,
// durations as text, id "1" as a string.
func normalise(in []engine.StageDraft) []engine.StageDraft {
	out := make([]engine.StageDraft, len(in))
	for i, d := range in {
		d.With = append([]engine.Setting(nil), d.With...)
		for j, s := range d.With {
			if v, ok := s.Value.(int); ok {
				d.With[j].Value = int64(v)
			}
		}
		if d.With == nil {
			d.With = nil
		}
		out[i] = d
	}
	return out
}

func TestFormatSpecSavedFileValidates(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte("x\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := engine.FormatSpec("p", "", 3, []engine.StageDraft{
		{ID: "load", Uses: "source", With: []engine.Setting{{Name: "path", Value: "in.csv"}}},
		{ID: "wait", Uses: "sleep", With: []engine.Setting{{Name: "for", Value: 5 * time.Millisecond}}},
	})
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := engine.LoadPlan(path, reg.Registry, nil)
	if err != nil {
		t.Fatalf("LoadPlan: %v\n%s", err, src)
	}
	if got := plan.Stages[1].Params.Duration("for"); got != 5*time.Millisecond {
		t.Errorf("got for=%v, want 5ms", got)
	}
	if got := plan.Stages[1].Inputs; !reflect.DeepEqual(got, []string{"load"}) {
		t.Errorf("got inputs %v, want [load] (needs omitted: the previous stage)", got)
	}
}

func TestFormatValueReadsBackWithParseValue(t *testing.T) {
	t.Parallel()
	for _, v := range []any{"x", "a b", "", "true", int64(3), 2.0, 0.1, []any{"a", int64(1)}, map[string]any{"C": []any{1.0, 10.0}}, false, nil} {
		text := engine.FormatValue(v)
		got, err := engine.ParseValue(text)
		if err != nil {
			t.Errorf("ParseValue(%q): %v", text, err)
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("FormatValue(%#v) = %q reads back as %#v", v, text, got)
		}
	}
}

func TestDraftSetUnsetKeepOrder(t *testing.T) {
	t.Parallel()
	var d engine.StageDraft
	d.Set("a", 1)
	d.Set("b", 2)
	d.Set("a", 3)
	d.Unset("missing")
	if v, ok := d.Get("a"); !ok || v != 3 {
		t.Errorf("got a=%v %v, want 3 true", v, ok)
	}
	d.Unset("a")
	if len(d.With) != 1 || d.With[0].Name != "b" {
		t.Errorf("got %v, want only b", d.With)
	}
}

func TestCandidateFoldLogLine(t *testing.T) {
	t.Parallel()
	c := engine.CandidateFold{Candidate: 3, Candidates: 12, Fold: 2, Folds: 5, Score: 0.9533333333333334, Params: map[string]any{"C": 1.0, "penalty": "l2"}}
	want := `cv candidate 3/12 fold 2/5 score 0.953333 params {"C":1,"penalty":"l2"}`
	if got := c.LogLine(); got != want {
		t.Errorf("LogLine() = %q, want %q", got, want)
	}
}

func FuzzFormatSpecString(f *testing.F) {
	for _, s := range []string{"x", "a: b", "\"q\"", "- item", "[1]", "{k: v}", "#", "@at", "%", "`tick", "&anchor", "*alias", "!tag", "|", ">", "~", "null", "0x1F", "1_000", "06", ".5", "yes"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8Valid(s) {
			return
		}
		src := engine.FormatSpec("p", s, 0, []engine.StageDraft{{ID: "a", Uses: "source", With: []engine.Setting{{Name: "v", Value: s}}}})
		spec, err := engine.ParseSpec("p.yaml", src)
		if err != nil {
			t.Fatalf("ParseSpec: %v\n%s", err, src)
		}
		if spec.Description != s {
			t.Fatalf("description %q read back as %q\n%s", s, spec.Description, src)
		}
		if got := spec.Stages[0].With["v"]; got != s {
			t.Fatalf("value %q read back as %#v\n%s", s, got, src)
		}
	})
}

func utf8Valid(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s
}
