package ml_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

// gridReference is testdata/reference.json's grid_search_breast_cancer:
// scikit-learn 1.2.1's GridSearchCV(Pipeline([StandardScaler(),
// LogisticRegression(max_iter=1000)]), {C: [0.01, 0.1, 1, 10]}, cv=5).
type gridReference struct {
	BestC        float64            `json:"best_C"`
	BestCV       float64            `json:"best_cv_accuracy"`
	CVMean       map[string]float64 `json:"cv_mean_accuracy"`
	CVStd        map[string]float64 `json:"cv_std_accuracy"`
	TestAccuracy float64            `json:"test_accuracy"`
	TestF1Macro  float64            `json:"test_f1_macro"`
}

func loadGridReference(t *testing.T) gridReference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Grid gridReference `json:"grid_search_breast_cancer"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Grid
}

func scaledLogistic(params map[string]any) (ml.Estimator, error) {
	lr := ml.NewLogisticRegression()
	lr.MaxIter = 1000
	if err := lr.SetParams(params); err != nil {
		return nil, err
	}
	return ml.NewPipeline(lr, &ml.StandardScaler{}), nil
}

func TestGridSearchBreastCancer(t *testing.T) {
	ref := loadGridReference(t)
	d := loadRaw(t, "breast_cancer")
	g := &ml.GridSearch{
		Factory: scaledLogistic,
		Grid:    map[string][]any{"C": {0.01, 0.1, 1.0, 10.0}},
		CV:      ml.StratifiedKFold{NSplits: 5},
	}
	calls := 0
	g.SetProgress(func(done, total int) error {
		calls++
		if total != 21 {
			t.Errorf("progress total: got %d, want 21", total)
		}
		return nil
	})
	if err := g.Fit(d.Xtr, d.ytr); err != nil {
		t.Fatal(err)
	}
	if calls != 21 {
		t.Errorf("progress calls: got %d, want 21", calls)
	}
	if got := g.Result.BestParams["C"]; got != ref.BestC {
		t.Errorf("best C: got %v, want %v", got, ref.BestC)
	}
	for _, c := range g.Result.Candidates {
		key := strconv.FormatFloat(c.Params["C"].(float64), 'g', -1, 64)
		if math.Abs(c.Mean-ref.CVMean[key]) > 1e-9 {
			t.Errorf("C=%s mean CV accuracy: got %.10f, want %.10f", key, c.Mean, ref.CVMean[key])
		}
		if math.Abs(c.Std-ref.CVStd[key]) > 1e-9 {
			t.Errorf("C=%s std CV accuracy: got %.10f, want %.10f", key, c.Std, ref.CVStd[key])
		}
	}
	if math.Abs(g.Result.BestScore-ref.BestCV) > 1e-9 {
		t.Errorf("best CV accuracy: got %v, want %v", g.Result.BestScore, ref.BestCV)
	}
	pred := g.Predict(nil, d.Xte)
	if got := ml.Accuracy(d.yte, pred); math.Abs(got-ref.TestAccuracy) > 1e-9 {
		t.Errorf("test accuracy: got %v, want %v", got, ref.TestAccuracy)
	}
	if got := ml.F1(d.yte, pred, ml.Macro); math.Abs(got-ref.TestF1Macro) > 1e-9 {
		t.Errorf("test macro F1: got %v, want %v", got, ref.TestF1Macro)
	}
}
