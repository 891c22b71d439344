package stages_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/stages"
)

// modelState loads the model file a run recorded for stage and returns
// its estimator's state as generic JSON.
func modelState(t *testing.T, arts map[string][]byte, stage string) map[string]any {
	t.Helper()
	p, err := stages.LoadModel("model.json", arts[stage+"/model"])
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	b, err := json.Marshal(p.Estimator())
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatal(err)
	}
	return state
}

// TestPipelineSeedReachesEveryRandomisedEstimator runs each randomised
// train stage under two pipeline seeds: the seed in the model file is the
// stage's derived seed, so it is set and differs between the two.
func TestPipelineSeedReachesEveryRandomisedEstimator(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ uses, with string }{
		{"decision_tree_classifier", ""},
		{"random_forest_classifier", ", with: {n_estimators: 5}"},
		{"gradient_boosting_classifier", ", with: {n_estimators: 5}"},
		{"linear_svc", ""},
		{"kmeans", ", with: {n_clusters: 3, n_init: 2}"},
	} {
		t.Run(tt.uses, func(t *testing.T) {
			t.Parallel()
			seeds := map[float64]bool{}
			for _, seed := range []string{"1", "2"} {
				yaml := strings.Replace(head("iris", "species"), "seed: 42", "seed: "+seed, 1)
				path := mlPipeline(t, yaml+"  - {id: model, uses: "+tt.uses+tt.with+"}\n")
				_, arts := runML(t, path)
				state := modelState(t, arts, "model")
				v, ok := state["random_state"]
				if !ok {
					v, ok = state["seed"]
				}
				if !ok {
					t.Fatalf("the model file has no random_state or seed: %v", state)
				}
				f, _ := v.(float64)
				if f == 0 {
					t.Errorf("pipeline seed %s: the model's seed is %v, want the stage's derived seed", seed, v)
				}
				seeds[f] = true
			}
			if len(seeds) != 2 {
				t.Errorf("pipeline seeds 1 and 2 gave the same model seed %v", seeds)
			}
		})
	}
}

// TestMaxBinsOnEveryTreeStage checks every tree stage takes max_bins:
// null means exact splits (0 in the model), 1 is rejected at validation.
func TestMaxBinsOnEveryTreeStage(t *testing.T) {
	t.Parallel()
	for _, uses := range []string{
		"decision_tree_classifier", "random_forest_classifier", "gradient_boosting_classifier",
	} {
		t.Run(uses, func(t *testing.T) {
			t.Parallel()
			path := mlPipeline(t, head("iris", "species")+"  - {id: model, uses: "+uses+", with: {n_estimators: 3, max_bins: null}}\n")
			if uses == "decision_tree_classifier" {
				rewrite(t, path, "n_estimators: 3, ", "")
			}
			_, arts := runML(t, path)
			if got := modelState(t, arts, "model")["max_bins"]; got != 0.0 {
				t.Errorf("max_bins: null: the model has max_bins %v, want 0", got)
			}
			rewrite(t, path, "max_bins: null", "max_bins: 1")
			if msg := invalid(t, path); !strings.Contains(msg, "max_bins") {
				t.Errorf("max_bins: 1: got %q, want an error naming max_bins", msg)
			}
		})
	}
	for _, uses := range []string{"decision_tree_regressor", "random_forest_regressor", "gradient_boosting_regressor"} {
		path := mlPipeline(t, head("diabetes", "progression")+"  - {id: model, uses: "+uses+", with: {max_bins: 64}}\n")
		mustPlan(t, path)
	}
}

// TestSearchParamsSuggestNames: a misspelt fixed hyperparameter of a
// search is rejected at validation with a did-you-mean, as grid keys are.
func TestSearchParamsSuggestNames(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, head("iris", "species")+"  - {id: tune, uses: grid_search, with: {model: logistic_regression, params: {max_itr: 50}, grid: {C: [1.0]}, cv: 3}}\n")
	if msg := invalid(t, path); !strings.Contains(msg, `no hyperparameter "max_itr" (did you mean "max_iter"?)`) {
		t.Errorf("got %q, want a did-you-mean for max_itr", msg)
	}
}
