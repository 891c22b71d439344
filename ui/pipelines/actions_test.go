package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestOverridesWithListsAndMaps types list and map values into the
// workbench's run-with and sweep forms: a space inside brackets or braces
// belongs to the value, as sluice run --set reads it.
func TestOverridesWithListsAndMaps(t *testing.T) {
	t.Parallel()
	run := func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
		return &engine.Output{}, nil
	}
	reg := engine.NewRegistry(&engine.StageType{Name: "pick", Group: "transform", Doc: "d", Run: run,
		Params: []engine.Param{
			{Name: "columns", Type: engine.TypeStrings, Doc: "d"},
			{Name: "grid", Type: engine.TypeMap, Doc: "d"},
			{Name: "C", Type: engine.TypeFloat, Min: engine.Range(0), Doc: "d"},
		}})
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(path, []byte("name: p\nstages:\n  - id: model\n    uses: pick\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := engine.LoadPlan(path, reg, nil)
	if err != nil {
		t.Fatal(err)
	}

	got, err := checkOverrides(plan, "model.columns=[a, b]  model.grid={C: [0.1, 1], tol: 0.01} model.C=0.5")
	if err != nil {
		t.Fatalf("run with: %v", err)
	}
	want := []string{"model.columns=[a, b]", "model.grid={C: [0.1, 1], tol: 0.01}", "model.C=0.5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("run with: got %q, want %q", got, want)
	}
	if _, err := checkOverrides(plan, "model.C=-1"); err == nil || !strings.Contains(err.Error(), "model.C=-1") {
		t.Errorf("run with model.C=-1: got %v, want an error naming it", err)
	}
	if _, err := checkOverrides(plan, "model.columns=[a, b"); err == nil {
		t.Error("run with an unclosed list: got no error")
	}

	combos, err := sweepCombos(plan, "model.columns=[a, b],[c] model.grid={C: [0.1, 1]},{C: [10]}")
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	wantCombos := [][]string{
		{"model.columns=[a, b]", "model.grid={C: [0.1, 1]}"},
		{"model.columns=[a, b]", "model.grid={C: [10]}"},
		{"model.columns=[c]", "model.grid={C: [0.1, 1]}"},
		{"model.columns=[c]", "model.grid={C: [10]}"},
	}
	if !reflect.DeepEqual(combos, wantCombos) {
		t.Errorf("sweep: got %q, want %q", combos, wantCombos)
	}
	if _, err := sweepCombos(plan, "model.C=0.1,-1"); err == nil {
		t.Error("sweep model.C=0.1,-1: got no error for the out-of-range value")
	}
}
