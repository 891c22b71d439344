package ml_test

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// splitData is one of the reference train/test splits in testdata/
// (copied from the shared datasets: scikit-learn's train_test_split with
// random_state=42), features standardised with the training mean and
// population standard deviation, as scikit-learn's StandardScaler does.
type splitData struct {
	Xtr, Xte   *mat.Dense
	ytr, yte   []float64
	classes    []string // nil for regression
	features   []string
	regression bool
}

// loadSplit reads testdata/<name>_train.csv and _test.csv. The target is
// the last column; for classification it is coded by sorted label.
func loadSplit(t testing.TB, name string) *splitData {
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
	code := func(s string) float64 {
		if d.regression {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for i, c := range d.classes {
			if c == s {
				return float64(i)
			}
		}
		t.Fatalf("label %q not in training classes", s)
		return 0
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
			y[i] = code(r[nf])
		}
		return X, y
	}
	d.Xtr, d.ytr = parse(trRows)
	d.Xte, d.yte = parse(teRows)
	n, _ := d.Xtr.Dims()
	for j := 0; j < nf; j++ {
		var mean, ss float64
		for i := 0; i < n; i++ {
			mean += d.Xtr.At(i, j)
		}
		mean /= float64(n)
		for i := 0; i < n; i++ {
			dv := d.Xtr.At(i, j) - mean
			ss += dv * dv
		}
		sd := math.Sqrt(ss / float64(n))
		if sd == 0 {
			sd = 1
		}
		for _, X := range []*mat.Dense{d.Xtr, d.Xte} {
			r, _ := X.Dims()
			for i := 0; i < r; i++ {
				X.Set(i, j, (X.At(i, j)-mean)/sd)
			}
		}
	}
	return d
}

func readCSV(t testing.TB, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[0], rows[1:]
}

// reference returns scikit-learn's metrics for estimator on dataset from
// testdata/reference.json (scikit-learn 1.2.1, see that file's "about").
func reference(t testing.TB, dataset, estimator string) map[string]float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Results map[string][]struct {
			Estimator string             `json:"estimator"`
			Metrics   map[string]float64 `json:"metrics"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, r := range ref.Results[dataset] {
		if r.Estimator == estimator {
			return r.Metrics
		}
	}
	t.Fatalf("no reference for %s on %s", estimator, dataset)
	return nil
}
