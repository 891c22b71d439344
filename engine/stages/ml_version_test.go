package stages_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
	"github.com/sluice-ml/sluice/store/artifacts"
)

// TestModelFileNamesTheExecutorsVersion: the sluice version in a model
// file is the one the executor runs with (StageContext.Version), an input
// of the run rather than a package setting; a stage run outside a
// versioned executor writes "dev".
func TestModelFileNamesTheExecutorsVersion(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, head("iris", "species")+"  - {id: model, uses: gaussian_nb}\n")
	for _, version := range []string{"9.8.7-test", ""} {
		plan, err := engine.LoadPlan(path, stages.Registry(), nil)
		if err != nil {
			t.Fatal(err)
		}
		dir, err := artifacts.Open(filepath.Join(t.TempDir(), "artifacts"))
		if err != nil {
			t.Fatal(err)
		}
		rec := &artifactRecorder{arts: map[string][]byte{}, store: dir}
		run, err := (&engine.Executor{Recorder: rec, Artifacts: dir, Version: version}).Run(context.Background(), plan)
		if err != nil || run.Status != engine.StatusSucceeded {
			t.Fatalf("run: %v %s %s", err, run.Status, run.Error)
		}
		p, err := stages.LoadModel("model.json", rec.arts["model/model"])
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		want := version
		if want == "" {
			want = "dev"
		}
		if p.File.SluiceVersion != want {
			t.Errorf("executor version %q: model file says %q, want %q", version, p.File.SluiceVersion, want)
		}
	}
}
