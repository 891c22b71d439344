package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestScaleRows(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{"auto", []int{20000, 80000, 320000}, false},
		{"none", nil, false},
		{"1000, 4000", []int{1000, 4000}, false},
		{"1000,x", nil, true},
		{"50", nil, true},
	} {
		got, err := scaleRows(tt.in, 80000)
		if (err != nil) != tt.bad || !slices.Equal(got, tt.want) {
			t.Errorf("scaleRows(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// TestRenderScaling checks the growth columns: each step's processor
// time over the previous one's, beside n·log₂ n's.
func TestRenderScaling(t *testing.T) {
	out := renderScaling([]scalePoint{
		{rows: 1000, hgb: result{CPU: 1, Score: 0.5}, rf: result{CPU: 2, Score: 0.25}},
		{rows: 4000, hgb: result{CPU: 4.5, Score: 0.5}, rf: result{CPU: 10, Score: 0.25}},
	})
	// 4000·log₂4000 / (1000·log₂1000) = 4.80
	if !strings.Contains(out, "| 4,000 | 4.50 | 4.5 | 10.00 | 5.0 | 4.8 | 0.5000 / 0.2500 |") {
		t.Errorf("scaling row not as expected:\n%s", out)
	}
}

func TestWriteBetweenMarkers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "B.md")
	if err := os.WriteFile(p, []byte("before\n"+markStart+"\nold\n"+markEnd+"\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeBetweenMarkers(p, "new\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if want := "before\n" + markStart + "\nnew\n" + markEnd + "\nafter\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
	if err := os.WriteFile(p, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if writeBetweenMarkers(p, "x") == nil {
		t.Error("a file without markers was rewritten")
	}
}
