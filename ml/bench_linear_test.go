package ml_test

import (
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

// synthLinear makes n rows of p standard normal features from
// rand.New(rand.NewPCG(1, 1)), a three-class target (the argmax of three
// linear scores plus unit noise) and a regression target (a linear
// function plus unit noise).
func synthLinear(n, p int) (X *mat.Dense, cls, reg []float64) {
	r := rand.New(rand.NewPCG(1, 1))
	B := make([]float64, p*3)
	beta := make([]float64, p)
	for j := range B {
		B[j] = r.NormFloat64()
	}
	for j := range beta {
		beta[j] = r.NormFloat64()
	}
	X = mat.NewDense(n, p, nil)
	cls = make([]float64, n)
	reg = make([]float64, n)
	for i := 0; i < n; i++ {
		row := X.RawRowView(i)
		for j := range row {
			row[j] = r.NormFloat64()
		}
		var s [3]float64
		var yr float64
		for j, v := range row {
			for c := 0; c < 3; c++ {
				s[c] += v * B[c*p+j]
			}
			yr += v * beta[j]
		}
		best, bs := 0, s[0]+r.NormFloat64()
		for c := 1; c < 3; c++ {
			if v := s[c] + r.NormFloat64(); v > bs {
				best, bs = c, v
			}
		}
		cls[i] = float64(best)
		reg[i] = yr + r.NormFloat64()
	}
	return X, cls, reg
}

var bigLinearOnce struct {
	sync.Once
	Xtr, Xte           *mat.Dense
	ctr, cte, rtr, rte []float64
}

// bigLinear is the 100,000 × 20 benchmark set, followed by 25,000 test
// rows from the same stream, standardised with the training rows.
func bigLinear() (Xtr, Xte *mat.Dense, ctr, cte, rtr, rte []float64) {
	b := &bigLinearOnce
	b.Do(func() {
		const ntr, nte = 100_000, 25_000
		X, c, r := synthLinear(ntr+nte, 20)
		b.Xtr = mat.DenseCopyOf(X.Slice(0, ntr, 0, 20))
		b.Xte = mat.DenseCopyOf(X.Slice(ntr, ntr+nte, 0, 20))
		b.ctr, b.cte, b.rtr, b.rte = c[:ntr], c[ntr:], r[:ntr], r[ntr:]
		// Standardised with the training rows, as sklearn_times.py does.
		var s ml.StandardScaler
		if err := s.Fit(b.Xtr); err != nil {
			panic(err)
		}
		s.Transform(b.Xtr, b.Xtr)
		s.Transform(b.Xte, b.Xte)
	})
	return b.Xtr, b.Xte, b.ctr, b.cte, b.rtr, b.rte
}

type linearBenchModel struct {
	name       string
	make       func() ml.Estimator
	regression bool
}

var linearBenchModels = []linearBenchModel{
	{"LogisticRegression", func() ml.Estimator { m := ml.NewLogisticRegression(); m.MaxIter = 1000; return m }, false},
	{"LinearSVC", func() ml.Estimator { return ml.NewLinearSVC() }, false},
	{"GaussianNB", func() ml.Estimator { return ml.NewGaussianNB() }, false},
	{"LinearRegression", func() ml.Estimator { return ml.NewLinearRegression() }, true},
	{"Ridge", func() ml.Estimator { return ml.NewRidge() }, true},
	{"Lasso", func() ml.Estimator { return ml.NewLasso() }, true},
}

// BenchmarkLinear fits and predicts each estimator on the small real
// set (breast_cancer for classifiers, diabetes for regressors, both
// standardised) and on the 100,000 × 20 synthetic set, with the
// settings scikit-learn's side uses (sklearn_times.py: defaults,
// LogisticRegression max_iter=1000).
func BenchmarkLinear(b *testing.B) {
	for _, bm := range linearBenchModels {
		small := "breast_cancer"
		if bm.regression {
			small = "diabetes"
		}
		sets := []struct {
			name string
			load func() (Xtr, Xte *mat.Dense, ytr []float64)
		}{
			{small, func() (*mat.Dense, *mat.Dense, []float64) {
				d := loadSplit(b, small)
				return d.Xtr, d.Xte, d.ytr
			}},
			{"synthetic100k", func() (*mat.Dense, *mat.Dense, []float64) {
				Xtr, Xte, ctr, _, rtr, _ := bigLinear()
				if bm.regression {
					return Xtr, Xte, rtr
				}
				return Xtr, Xte, ctr
			}},
		}
		for _, set := range sets {
			b.Run(bm.name+"/"+set.name+"/fit", func(b *testing.B) {
				Xtr, _, ytr := set.load()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := bm.make().Fit(Xtr, ytr); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(bm.name+"/"+set.name+"/predict", func(b *testing.B) {
				Xtr, Xte, ytr := set.load()
				m := bm.make()
				if err := m.Fit(Xtr, ytr); err != nil {
					b.Fatal(err)
				}
				dst := make([]float64, linRows(Xte))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					m.Predict(dst, Xte)
				}
			})
		}
	}
}

func linRows(X mat.Matrix) int { r, _ := X.Dims(); return r }

// TestWriteBenchCSV writes the synthetic benchmark data as CSV files for
// scikit-learn's side of the comparison when SLUICE_BENCH_CSV names a
// folder (see BENCHMARKS.md); otherwise it is skipped.
func TestWriteBenchCSV(t *testing.T) {
	dir := os.Getenv("SLUICE_BENCH_CSV")
	if dir == "" {
		t.Skip("set SLUICE_BENCH_CSV=DIR to write the benchmark CSV files")
	}
	Xtr, Xte, ctr, cte, rtr, rte := bigLinear() // sklearn_times.py's scaler leaves these as they are
	write := func(name string, X *mat.Dense, y []float64, target string) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w := csv.NewWriter(f)
		n, p := X.Dims()
		rec := make([]string, p+1)
		for j := 0; j < p; j++ {
			rec[j] = "x" + strconv.Itoa(j)
		}
		rec[p] = target
		w.Write(rec)
		for i := 0; i < n; i++ {
			for j, v := range X.RawRowView(i) {
				rec[j] = strconv.FormatFloat(v, 'g', -1, 64)
			}
			if target == "class" {
				rec[p] = "c" + strconv.Itoa(int(y[i]))
			} else {
				rec[p] = strconv.FormatFloat(y[i], 'g', -1, 64)
			}
			w.Write(rec)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			t.Fatal(err)
		}
	}
	write("cls_train.csv", Xtr, ctr, "class")
	write("cls_test.csv", Xte, cte, "class")
	write("reg_train.csv", Xtr, rtr, "target")
	write("reg_test.csv", Xte, rte, "target")
}

// BenchmarkGridSearch is the breast_cancer grid search of
// testdata/reference.json: a StandardScaler + LogisticRegression
// pipeline, C in {0.01, 0.1, 1, 10}, five stratified folds, then the
// refit (21 fits; scikit-learn's fit_s there is for the same work).
func BenchmarkGridSearch(b *testing.B) {
	d := loadRaw(b, "breast_cancer")
	b.ReportAllocs()
	for range b.N {
		g := &ml.GridSearch{
			Factory: scaledLogistic,
			Grid:    map[string][]any{"C": {0.01, 0.1, 1.0, 10.0}},
			CV:      ml.StratifiedKFold{NSplits: 5},
		}
		if err := g.Fit(d.Xtr, d.ytr); err != nil {
			b.Fatal(err)
		}
	}
}
