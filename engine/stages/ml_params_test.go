package stages

import (
	"reflect"
	"slices"
	"testing"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ml"
)

// The hyperparameters are declared once, in the catalog (name, type,
// default, range, enum), and ml takes them by name (ml.SetParams) with
// defaults and checks of its own. The tests in this file hold the two
// against each other for every train, preprocess and tuning stage type:
// names, defaults and ranges, each checked directly against what ml does.

// notExposed are ml hyperparameters the catalog leaves at ml's default,
// and why.
var notExposed = map[string]bool{
	"decision_tree_regressor.criterion":         true, // squared_error is the only one
	"random_forest_regressor.criterion":         true, // squared_error is the only one
	"kmeans.init":                               true, // k-means++, scikit-learn's default; not exposed yet
	"knn_classifier.algorithm":                  true, // a speed choice with the same answers; auto picks
	"knn_regressor.algorithm":                   true, // a speed choice with the same answers; auto picks
	"linear_svc.intercept_scaling":              true, // 1, scikit-learn's default; not exposed yet
	"gradient_boosting_classifier.max_features": true, // all features, as scikit-learn's default
	"gradient_boosting_regressor.max_features":  true, // all features, as scikit-learn's default
}

// TestHyperparameterDefaultsMatchML checks every train stage type's
// parameter declarations against ml: each declared name is one of the
// estimator's hyperparameters, each declared default is the default ml
// gives (setting every default on a new estimator leaves it unchanged,
// through the same conversion a run uses), and every hyperparameter ml
// has is declared, but for the seed (derived from the pipeline seed) and
// the few in notExposed.
func TestHyperparameterDefaultsMatchML(t *testing.T) {
	t.Parallel()
	for _, d := range estimators {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			want := d.new()
			got := d.new()
			defaults := map[string]any{}
			for _, p := range d.params {
				if p.Default != nil {
					v, err := p.Coerce(p.Default)
					if err != nil {
						t.Fatalf("%s: %v", p.Name, err)
					}
					defaults[p.Name] = v
				}
			}
			if err := setParams(got, defaults); err != nil {
				t.Fatalf("ml does not take the catalog's defaults: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				for name := range defaults {
					one := d.new()
					if err := setParams(one, map[string]any{name: defaults[name]}); err == nil && !reflect.DeepEqual(one, want) {
						t.Errorf("%s: the catalog's default %v is not ml's", name, defaults[name])
					}
				}
			}
			var model any = want
			if k, ok := want.(*kmeansEstimator); ok {
				model = k.KMeans
			}
			for _, name := range ml.ParamNames(model) {
				if name == "seed" || name == "random_state" || notExposed[d.name+"."+name] {
					continue
				}
				if !slices.ContainsFunc(d.params, func(p engine.Param) bool { return p.Name == name }) {
					t.Errorf("ml's %s hyperparameter %q is not declared in the catalog", reflect.TypeOf(model).Elem().Name(), name)
				}
			}
		})
	}
}
