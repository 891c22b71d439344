package engine_test

import (
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestHostileYAMLIsAnErrorNotAPanic holds the inputs that once crashed or
// exhausted the YAML parser: each must come back as a located syntax or
// validation error, quickly and without a panic.
func TestHostileYAMLIsAnErrorNotAPanic(t *testing.T) {
	t.Parallel()
	stages := func(n int) string {
		var b strings.Builder
		b.WriteString("name: p\nstages:\n")
		for i := range n {
			b.WriteString("  - id: s")
			b.WriteString(strings.Repeat("a", i%7))
			b.WriteString("\n    uses: sleep\n")
		}
		return b.String()
	}
	params := func(n int) string {
		var b strings.Builder
		b.WriteString("name: p\nstages:\n  - id: a\n    uses: sleep\n    with:\n")
		for i := range n {
			b.WriteString("      p")
			b.WriteString(strings.Repeat("x", i))
			b.WriteString(": 1\n")
		}
		return b.String()
	}
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"carriage return before a document marker", "0\r---", "f.yaml:1:1: a pipeline file is a mapping"},
		{"two documents", "name: a\n---\nname: b\n", "f.yaml:3:5: a pipeline file holds one YAML document"},
		{"unclosed flow brackets", strings.Repeat("[", 98_000), "nesting deeper than 64 levels"},
		{"nested block lists", "name: p\nstages:\n" + strings.Repeat("- ", 30_000) + "x\n", "nesting deeper than 64 levels"},
		{"nested block mappings", "name: p\n" + nestedMaps(200), "nesting deeper than 64 levels"},
		{"too many values", "name: [" + strings.Repeat("1,", 200_000) + "]\n", "more than 100000 values"},
		{"too large", "name: p\ndescription: '" + strings.Repeat("a", engine.MaxSpecBytes) + "'\n", "a pipeline file is at most 1048576"},
		{"too many stages", stages(engine.MaxStages + 1), "at most 1000 stages"},
		{"too many parameters", params(engine.MaxParams + 1), "at most 256 parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := engine.ParseSpec("f.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "f.yaml:") {
				t.Errorf("error %q is not located in f.yaml", err)
			}
		})
	}
}

func nestedMaps(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i))
		b.WriteString("k:\n")
	}
	return b.String()
}

// TestYAMLLimitsKeepRealFiles checks that the pre-parse estimate does not
// refuse the nesting real pipelines use: flow lists inside block maps,
// brackets and colons inside quotes, comments and block scalars.
func TestYAMLLimitsKeepRealFiles(t *testing.T) {
	t.Parallel()
	src := "name: p # [[[[\ndescription: |\n  " + strings.Repeat("[", 200) + "\nstages:\n  - id: a\n    uses: sleep\n    with: {for: '" + strings.Repeat("{", 100) + "'}\n"
	if _, err := engine.ParseSpec("f.yaml", []byte(src)); err != nil {
		t.Fatalf("a valid file was refused: %v", err)
	}
	if _, err := engine.ParseOverride("model.C=1\r---"); err != nil && !strings.Contains(err.Error(), "--set") {
		t.Fatalf("--set with a document marker: %v", err)
	}
	if _, err := engine.ParseValue(`{C: [1, 10, 100], name: "a: [b"}`); err != nil {
		t.Fatalf("a flow value was refused: %v", err)
	}
}
