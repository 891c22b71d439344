package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTagNoteWhere tags and notes runs, finds them with runs --where and
// sees the annotations in runs, show and compare, as text and JSON.
func TestTagNoteWhere(t *testing.T) {
	dir, db := sampleDir(t)
	for _, args := range [][]string{
		{"run", "sample-data/iris.yaml"},
		{"run", "sample-data/iris.yaml", "--set", "model.C=0.05"},
		{"run", "sample-data/etl.yaml"},
	} {
		if _, stderr, code := sluice(t, dir, append([]string{"--db", db}, args...)...); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	out, stderr, code := sluice(t, dir, "--db", db, "tag", "1", "baseline", "paper")
	if code != ExitOK || !strings.Contains(out, "run 1: tags baseline paper") {
		t.Fatalf("tag: exit %d, %q %q", code, out, stderr)
	}
	if _, stderr, code = sluice(t, dir, "--db", db, "note", "2", "C", "too", "low?"); code != ExitOK {
		t.Fatalf("note: exit %d: %s", code, stderr)
	}
	if _, stderr, code = sluice(t, dir, "--db", db, "tag", "2", "bad tag"); code != ExitInvalid || !strings.Contains(stderr, `tag "bad tag"`) {
		t.Errorf("bad tag: exit %d, %q", code, stderr)
	}
	if _, stderr, code = sluice(t, dir, "--db", db, "tag", "9", "x"); code != ExitInvalid || !strings.Contains(stderr, "not found") {
		t.Errorf("missing run: exit %d, %q", code, stderr)
	}

	where := func(q string) []int64 {
		t.Helper()
		out, stderr, code := sluice(t, dir, "--db", db, "runs", "--json", "--where", q)
		if code != ExitOK {
			t.Fatalf("runs --where %q: exit %d: %s", q, code, stderr)
		}
		var docs []runsDoc
		if err := json.Unmarshal([]byte(out), &docs); err != nil {
			t.Fatalf("runs --where %q: %v\n%s", q, err, out)
		}
		var ids []int64
		for _, d := range docs {
			ids = append(ids, d.Run)
		}
		return ids
	}
	for _, tt := range []struct {
		q    string
		want string
	}{
		{"tag:baseline", "[1]"},
		{"pipeline:iris accuracy>0.5", "[2 1]"},
		{"param.model.C<0.1", "[2]"},
		{"low?", "[2]"},
		{"tag:paper or pipeline:etl", "[3 1]"},
		{"-pipeline:iris", "[3]"},
		{"status:failed", "[]"},
	} {
		if got := strings.ReplaceAll(strings.Trim(jsonString(t, where(tt.q)), "\n"), ",", " "); got != tt.want && !(tt.want == "[]" && got == "null") {
			t.Errorf("runs --where %q: got %s, want %s", tt.q, got, tt.want)
		}
	}
	_, stderr, code = sluice(t, dir, "--db", db, "runs", "--where", "accuracy > high")
	if code != ExitInvalid || !strings.Contains(stderr, `expected a number after ">", got "high"`) || !strings.Contains(stderr, "             ^") {
		t.Errorf("bad query: exit %d, %q", code, stderr)
	}

	out, _, _ = sluice(t, dir, "--db", db, "runs")
	if !strings.Contains(out, "TAGS") || !strings.Contains(out, "baseline paper") {
		t.Errorf("runs does not show the tags:\n%s", out)
	}
	out, _, _ = sluice(t, dir, "--db", db, "show", "2")
	if !strings.Contains(out, "note      C too low?") {
		t.Errorf("show does not show the note:\n%s", out)
	}
	out, _, _ = sluice(t, dir, "--db", db, "compare", "1", "2", "--json")
	var doc struct {
		Tags  [][]string `json:"tags"`
		Notes []string   `json:"notes"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Tags) != 2 || len(doc.Tags[0]) != 2 || doc.Notes[1] != "C too low?" {
		t.Errorf("compare --json: %v %+v", err, doc)
	}

	// untag, and a note from the editor.
	out, _, code = sluice(t, dir, "--db", db, "untag", "1", "paper", "--json")
	if code != ExitOK || !strings.Contains(out, `"baseline"`) || strings.Contains(out, "paper") {
		t.Errorf("untag: exit %d %s", code, out)
	}
	editor := filepath.Join(dir, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\necho 'written in the editor' > \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", editor)
	out, stderr, code = sluice(t, dir, "--db", db, "note", "1")
	if code != ExitOK || !strings.Contains(out, "note: written in the editor") {
		t.Errorf("note from the editor: exit %d %q %q", code, out, stderr)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
