package stages_test

import (
	"fmt"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
)

// TestEveryReportedMetricIsDeclared runs every stage type that reports
// metrics, on classification (two classes and three), regression and
// clustering, and checks that each metric it reports is declared by its
// stage type, so Compare never falls back to the default for the catalog's
// own metrics.
func TestEveryReportedMetricIsDeclared(t *testing.T) {
	t.Parallel()
	tail := `  - {id: model, uses: %s, needs: [scale]}
  - {id: score, uses: evaluate, needs: [model]}
  - {id: cv, uses: cross_validate, needs: [scale], with: {model: %s, cv: 3}}
  - {id: tune, uses: grid_search, needs: [scale], with: {model: %s, grid: %s, cv: 3}}
  - {id: tuned, uses: evaluate, needs: [tune]}
`
	tests := []struct {
		name, dataset, target, model, grid string
	}{
		{"binary", "breast_cancer", "diagnosis", "logistic_regression", "{C: [0.1, 1]}"},
		{"multiclass", "iris", "species", "knn_classifier", "{n_neighbors: [3, 5]}"},
		{"regression", "diabetes", "progression", "ridge", "{alpha: [0.1, 1]}"},
		{"clustering", "iris", "species", "kmeans", "{n_clusters: [2, 3]}"},
	}
	reg := stages.Registry()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := head(tt.dataset, tt.target) + fmt.Sprintf(tail, tt.model, tt.model, tt.model, tt.grid)
			run, _ := runML(t, mlPipeline(t, text))
			seen := 0
			for _, s := range run.Stages {
				typ, ok := reg.Lookup(s.Uses)
				if !ok {
					t.Fatalf("stage %s: no type %s", s.ID, s.Uses)
				}
				for name := range s.Metrics {
					seen++
					if _, ok := typ.Metric(name); !ok {
						t.Errorf("%s (%s) reports %s, which %s does not declare", s.ID, s.Uses, name, s.Uses)
					}
				}
			}
			if seen < 10 {
				t.Errorf("only %d metrics reported; the pipeline did not run the stages it should", seen)
			}
		})
	}
}

// TestMetricDeclarations pins the direction of the metrics whose old
// name-based guess was easy to get wrong.
func TestMetricDeclarations(t *testing.T) {
	t.Parallel()
	reg := stages.Registry()
	tests := []struct {
		uses, metric string
		want         engine.Better
	}{
		{"evaluate", "accuracy", engine.Higher},
		{"evaluate", "log_loss", engine.Lower},
		{"evaluate", "rmse", engine.Lower},
		{"evaluate", "residual_std", engine.Lower},
		{"evaluate", "residual_mean", engine.Unranked},
		{"evaluate", "inertia", engine.Lower},
		{"kmeans", "inertia", engine.Lower},
		{"cross_validate", "fold3", engine.Higher},
		{"cross_validate", "std", engine.Lower},
		{"grid_search", "best_cv_score", engine.Higher},
		{"grid_search", "best_C", engine.Unranked},
		{"random_search", "candidates", engine.Unranked},
		{"split", "train_rows", engine.Unranked},
		{"evaluate", "no_such_metric", engine.DefaultBetter},
	}
	for _, tt := range tests {
		if got := reg.Better(tt.uses, tt.metric); got != tt.want {
			t.Errorf("%s.%s: got %s, want %s", tt.uses, tt.metric, got, tt.want)
		}
	}
}
