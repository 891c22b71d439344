package ml_test

import (
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// loadRaw reads testdata/<name>_train.csv and _test.csv like loadSplit
// but leaves the features in their original units (for tests that scale
// inside a pipeline, as scikit-learn's grid search reference does).
func loadRaw(t testing.TB, name string) *splitData {
	t.Helper()
	trH, trRows := readCSV(t, filepath.Join("testdata", name+"_train.csv"))
	_, teRows := readCSV(t, filepath.Join("testdata", name+"_test.csv"))
	d := &splitData{features: trH[:len(trH)-1], regression: name == "diabetes"}
	nf := len(d.features)
	if !d.regression {
		seen := map[string]bool{}
		for _, r := range trRows {
			seen[r[nf]] = true
		}
		for c := range seen {
			d.classes = append(d.classes, c)
		}
		sort.Strings(d.classes)
	}
	parse := func(rows [][]string) (*mat.Dense, []float64) {
		X := mat.NewDense(len(rows), nf, nil)
		y := make([]float64, len(rows))
		for i, r := range rows {
			for j := 0; j < nf; j++ {
				v, err := strconv.ParseFloat(r[j], 64)
				if err != nil {
					t.Fatal(err)
				}
				X.Set(i, j, v)
			}
			if d.regression {
				v, err := strconv.ParseFloat(r[nf], 64)
				if err != nil {
					t.Fatal(err)
				}
				y[i] = v
				continue
			}
			y[i] = float64(sort.SearchStrings(d.classes, r[nf]))
		}
		return X, y
	}
	d.Xtr, d.ytr = parse(trRows)
	d.Xte, d.yte = parse(teRows)
	return d
}
