package stages_test

import (
	"path/filepath"
	"testing"

	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

// FuzzLoadModel feeds model files to the public loader, LoadModel, which
// reads every format sluice writes. The seeds are real model files of
// several estimator families. Each input is tried as it is and, when it
// is a JSON model document, again with its checksum made valid, so the
// fuzzer reaches the estimator decoders behind the checksum. Nothing may
// panic; a model that loads must predict on real rows or return an error.
func FuzzLoadModel(f *testing.F) {
	path := mlPipeline(f, head("iris", "species")+`  - {id: lr, uses: logistic_regression, needs: [scale]}
  - {id: tree, uses: decision_tree_classifier, needs: [scale], with: {max_depth: 3}}
  - {id: forest, uses: random_forest_classifier, needs: [scale], with: {n_estimators: 2, max_depth: 2}}
  - {id: gb, uses: gradient_boosting_classifier, needs: [scale], with: {n_estimators: 2, max_depth: 2}}
  - {id: knn, uses: knn_classifier, needs: [scale]}
  - {id: nb, uses: gaussian_nb, needs: [scale]}
  - {id: km, uses: kmeans, needs: [scale], with: {n_clusters: 2}}
`)
	_, arts := runML(f, path)
	for _, id := range []string{"lr", "tree", "forest", "gb", "knn", "nb", "km"} {
		f.Add(arts[id+"/model"])
	}
	rows, err := frame.ReadCSVFile(filepath.Join(filepath.Dir(path), "data", "iris_test.csv"), frame.ReadOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		try := func(b []byte) {
			p, err := stages.LoadModel("m.json", b)
			if err != nil {
				return
			}
			_, _ = p.Predict(rows)
		}
		try(data)
		if signed, ok, err := resignBytes(data, func(map[string]any) bool { return true }); err == nil && ok {
			try(signed)
		}
	})
}
