package stages_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

// TestImputeFillsColumnsCompleteInTraining: iris's training rows have no
// gaps; a test row and a row given to the exported model have an empty
// cell. The run succeeds and the model fills the cell with the training
// mean, as scikit-learn's SimpleImputer does for every column it is given.
func TestImputeFillsColumnsCompleteInTraining(t *testing.T) {
	t.Parallel()
	path := mlPipeline(t, head("iris", "species")+"  - {id: model, uses: logistic_regression}\n")
	rewrite(t, path, "  - {id: scale, uses: standard_scaler}\n", "  - {id: fill, uses: impute}\n  - {id: scale, uses: standard_scaler}\n")
	testCSV := filepath.Join(filepath.Dir(path), "data", "iris_test.csv")
	b, err := os.ReadFile(testCSV)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	cells := strings.Split(lines[1], ",")
	cells[1] = "" // sepal_width of the first test row
	lines[1] = strings.Join(cells, ",")
	gappy := strings.Join(lines, "")
	if err := os.WriteFile(testCSV, []byte(gappy), 0o644); err != nil {
		t.Fatal(err)
	}
	_, arts := runML(t, path)

	p, err := stages.LoadModel("model.json", arts["model/model"])
	if err != nil {
		t.Fatal(err)
	}
	imp := p.File.Chain[0]
	if imp.Type != "impute" || imp.Imputer == nil || len(imp.Imputer.Statistics) != 4 {
		t.Fatalf("chain step 0: got %s with %v, want impute with a statistic for each of the 4 features", imp.Type, imp.Imputer)
	}
	train, err := frame.ReadCSVFile(filepath.Join("testdata", "ml", "iris_train.csv"), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := train.ColByName("sepal_width")
	var mean float64
	for i := 0; i < c.Len(); i++ {
		v, _ := c.Float(i)
		mean += v / float64(c.Len())
	}
	if got := imp.Imputer.Statistics[1]; math.Abs(got-mean) > 1e-12 {
		t.Errorf("sepal_width statistic %.6f, want the training mean %.6f", got, mean)
	}
	rows, err := frame.ReadCSV(strings.NewReader(gappy), frame.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := p.Predict(rows)
	if err != nil {
		t.Fatalf("the exported model on a file with one empty cell: %v", err)
	}
	if len(pred.Labels) != rows.NumRows() {
		t.Errorf("got %d predictions for %d rows", len(pred.Labels), rows.NumRows())
	}
}
