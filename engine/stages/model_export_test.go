package stages_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-ml/sluice/engine/stages"
)

// TestExportModelFile writes a fitted model in both formats through the
// one export API, and refuses a damaged file without leaving one behind.
func TestExportModelFile(t *testing.T) {
	t.Parallel()
	_, arts := runML(t, mlPipeline(t, head("iris", "species")+"  - {id: model, uses: random_forest_classifier, with: {n_estimators: 5}}\n"))
	data := arts["model/model"]
	dir := t.TempDir()
	for _, format := range []string{stages.ModelFileSluice, stages.ModelFileJSON} {
		path := filepath.Join(dir, "m."+format)
		sum, size, err := stages.ExportModelFile("model", data, format, path)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		got, _ := os.ReadFile(path)
		h := sha256.Sum256(got)
		if hex.EncodeToString(h[:]) != sum || len(got) != size {
			t.Errorf("%s: returned sha %s size %d, file has %x and %d bytes", format, sum, size, h, len(got))
		}
		if format == stages.ModelFileSluice && !bytes.Equal(got, data) {
			t.Errorf("sluice format: the file is not the stored model as it is")
		}
		if _, err := stages.LoadModel(path, got); err != nil {
			t.Errorf("%s: the exported file does not load: %v", format, err)
		}
	}
	bad := filepath.Join(dir, "bad.model")
	if _, _, err := stages.ExportModelFile("model", data[:len(data)/2], stages.ModelFileSluice, bad); err == nil {
		t.Error("a damaged model was exported")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a damaged model left a file: %v", err)
	}
}

// TestDescribeModel: the description the workbench and show give of a
// model file: estimator, classes, chain, metrics, importances by name.
func TestDescribeModel(t *testing.T) {
	t.Parallel()
	_, arts := runML(t, mlPipeline(t, head("iris", "species")+"  - {id: model, uses: random_forest_classifier, with: {n_estimators: 5}}\n"))
	d, err := stages.DescribeModel("model", arts["model/model"])
	if err != nil {
		t.Fatal(err)
	}
	if d.Estimator != "random_forest_classifier" || d.Task != "classification" || d.Target != "species" || len(d.Classes) != 3 {
		t.Errorf("got %s %s %s %v", d.Estimator, d.Task, d.Target, d.Classes)
	}
	if len(d.Chain) != 1 || d.Metrics["accuracy"] == 0 || d.Params["n_estimators"] == nil {
		t.Errorf("chain %q, metrics %v, params %v", d.Chain, d.Metrics, d.Params)
	}
	if len(d.Importances) != 4 || d.Importances[0].Feature != "sepal_length" {
		t.Errorf("importances %v: want the 4 features by name, in feature order", d.Importances)
	}
	if _, err := stages.DescribeModel("model", []byte("not a model")); err == nil {
		t.Error("no error for bytes that are not a model")
	}
}
