package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sluice-ml/sluice/engine"
)

// TestCheckGetsThePipelineFolder: a Check func reads the pipeline file's
// folder from its CheckEnv, and its parameters are the declared ones only
// (no hidden entries).
func TestCheckGetsThePipelineFolder(t *testing.T) {
	t.Parallel()
	var gotDir string
	var gotParams engine.Params
	reg := engine.NewRegistry(&engine.StageType{Name: "look", Group: "extract", Out: engine.KindTable,
		Params: []engine.Param{{Name: "n", Type: engine.TypeInt, Default: 1}},
		Check: func(p engine.Params, _ []engine.Shape, env engine.CheckEnv) (engine.Shape, []error) {
			gotDir, gotParams = env.Dir, p
			return engine.Shape{}, nil
		},
		Run: func(context.Context, *engine.StageContext) (*engine.Output, error) { return &engine.Output{}, nil }})
	path := writeSpec(t, "name: p\nstages:\n  - id: a\n    uses: look\n")
	if _, err := engine.LoadPlan(path, reg, nil); err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs(filepath.Dir(path)); gotDir != want && gotDir != filepath.Dir(path) {
		t.Errorf("CheckEnv.Dir = %q, want the pipeline's folder %q", gotDir, filepath.Dir(path))
	}
	if len(gotParams) != 1 || gotParams.Int("n") != 1 {
		t.Errorf("Check got params %v, want only n=1", gotParams)
	}
}
