package frame_test

import (
	"math"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
)

// TestIrisDirty follows the reference clean-up recorded with the dataset
// (testdata/iris_dirty.csv, derived from iris with numpy seed 42): trim and
// lower-case species, cast the four measurements to float, then
// drop_duplicates() leaves 149 rows and dropna() after that 122; dropna()
// alone on the 156 rows leaves 129. Means after dedupe are pandas' values.
func TestIrisDirty(t *testing.T) {
	t.Parallel()
	f, err := frame.ReadCSVFile("testdata/iris_dirty.csv", frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.NumRows(); got != 156 {
		t.Fatalf("rows: got %d, want 156", got)
	}
	want := "sepal_length float, sepal_width string, petal_length float, petal_width float, species string"
	if got := f.Schema().String(); got != want {
		t.Errorf("schema: got %q, want %q", got, want)
	}
	for name, want := range map[string]int{"sepal_length": 11, "sepal_width": 10, "petal_length": 7, "petal_width": 2, "species": 0} {
		c, _ := f.ColByName(name)
		if got := c.NullCount(); got != want {
			t.Errorf("%s missing: got %d, want %d", name, got, want)
		}
	}
	if g, err := f.DropNA(nil, "any"); err != nil || g.NumRows() != 129 {
		t.Errorf("dropna alone: got %v rows (%v), want 129", g.NumRows(), err)
	}

	// Clean: lower-case species, cast the measurements (Cast trims).
	sp, _ := f.ColByName("species")
	vals := make([]string, sp.Len())
	for i := range vals {
		vals[i] = strings.ToLower(strings.TrimSpace(sp.Str(i)))
	}
	f, err = f.WithColumn(frame.NewString("species", vals, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sepal_length", "sepal_width", "petal_length", "petal_width"} {
		if f, err = f.Cast(name, frame.Float); err != nil {
			t.Fatal(err)
		}
	}
	sw, _ := f.ColByName("sepal_width")
	if sw.NullCount() != 10 {
		t.Errorf("sepal_width missing after cast: got %d, want 10", sw.NullCount())
	}
	d, err := f.Dedupe(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.NumRows(); got != 149 {
		t.Errorf("after dedupe: got %d rows, want 149", got)
	}
	means := map[string]float64{"sepal_length": 5.852174, "sepal_width": 3.077698, "petal_length": 3.738028, "petal_width": 1.191156}
	for _, s := range d.Describe() {
		if want, ok := means[s.Name]; ok && math.Abs(s.Mean-want) > 5e-7 {
			t.Errorf("%s mean: got %.6f, want %.6f", s.Name, s.Mean, want)
		}
	}
	n, err := d.DropNA(nil, "any")
	if err != nil {
		t.Fatal(err)
	}
	if got := n.NumRows(); got != 122 {
		t.Errorf("after dedupe and dropna: got %d rows, want 122", got)
	}
}
