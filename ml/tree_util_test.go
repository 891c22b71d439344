package ml_test

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/sluice-ml/sluice/ml"

	"gonum.org/v1/gonum/mat"
)

// Helpers shared by the tree, forest, boosting, k-NN and k-means tests.

// treeAccuracy is the fraction of equal entries.
func treeAccuracy(y, yhat []float64) float64 {
	n := 0
	for i := range y {
		if y[i] == yhat[i] {
			n++
		}
	}
	return float64(n) / float64(len(y))
}

// treeR2 is the coefficient of determination of yhat for y.
func treeR2(y, yhat []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ssr, sst float64
	for i, v := range y {
		ssr += (v - yhat[i]) * (v - yhat[i])
		sst += (v - mean) * (v - mean)
	}
	return 1 - ssr/sst
}

// treeSeeds are the seeds randomised models are scored over.
var treeSeeds = []uint64{1, 2, 3, 4, 5}

// treeAccTol is the tolerance for a mean accuracy over treeSeeds: two test
// rows, or 0.03, whichever is larger.
func treeAccTol(ntest int) float64 {
	return math.Max(2/float64(ntest), 0.03) + 1e-9
}

// treeSynthSet is the benchmark data set: n rows of 20 standard normal features
// (then standardised); class is the argmax of three random linear
// functions plus noise, and target a random linear function plus sin and
// product terms plus noise.
type treeSynthSet struct {
	X      *mat.Dense
	class  []float64
	target []float64
}

// treeSynth generates the benchmark set of n rows with a fixed seed.
func treeSynth(n int) *treeSynthSet {
	const d = 20
	r := rand.New(rand.NewPCG(1, 1))
	W := make([]float64, 3*d)
	for i := range W {
		W[i] = r.NormFloat64()
	}
	B := make([]float64, d)
	for i := range B {
		B[i] = r.NormFloat64()
	}
	s := &treeSynthSet{X: mat.NewDense(n, d, nil), class: make([]float64, n), target: make([]float64, n)}
	for i := 0; i < n; i++ {
		x := s.X.RawRowView(i)
		for j := range x {
			x[j] = r.NormFloat64()
		}
		best, bs := 0, math.Inf(-1)
		for c := 0; c < 3; c++ {
			v := 2 * r.NormFloat64()
			for j := range x {
				v += W[c*d+j] * x[j]
			}
			if v > bs {
				best, bs = c, v
			}
		}
		s.class[i] = float64(best)
		v := 2*math.Sin(2*x[0]) + x[1]*x[2] + r.NormFloat64()
		for j := range x {
			v += B[j] * x[j]
		}
		s.target[i] = v
	}
	// Standardise with the first 80% of rows (the training split), as
	// tools/sklearn_times.py does, so scores compare with scikit-learn's.
	at := n * 4 / 5
	for j := range d {
		var mean, ss float64
		for i := range at {
			mean += s.X.At(i, j)
		}
		mean /= float64(at)
		for i := range at {
			ss += (s.X.At(i, j) - mean) * (s.X.At(i, j) - mean)
		}
		sd := math.Sqrt(ss / float64(at))
		for i := range n {
			s.X.Set(i, j, (s.X.At(i, j)-mean)/sd)
		}
	}
	return s
}

// split returns rows [0, at) and [at, n) of s.
func (s *treeSynthSet) split(at int) (Xtr, Xte *mat.Dense, ctr, cte, ttr, tte []float64) {
	n, d := s.X.Dims()
	Xtr = s.X.Slice(0, at, 0, d).(*mat.Dense)
	Xte = s.X.Slice(at, n, 0, d).(*mat.Dense)
	return Xtr, Xte, s.class[:at], s.class[at:], s.target[:at], s.target[at:]
}

// TestWriteSynthCSV writes the 100,000-row benchmark set as CSV files
// (80,000 train, 20,000 test; classification and regression) into the
// folder named by SLUICE_SYNTH_DIR, for timing scikit-learn on the same
// data with tools/sklearn_times.py. Skipped when the variable is unset.
func TestWriteSynthCSV(t *testing.T) {
	dir := os.Getenv("SLUICE_SYNTH_DIR")
	if dir == "" {
		t.Skip("SLUICE_SYNTH_DIR not set")
	}
	s := treeSynth(100000)
	n, d := s.X.Dims()
	write := func(name string, lo, hi int, y []float64, class bool) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		for j := 0; j < d; j++ {
			fmt.Fprintf(w, "x%d,", j)
		}
		fmt.Fprintln(w, "target")
		for i := lo; i < hi; i++ {
			for _, v := range s.X.RawRowView(i) {
				w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
				w.WriteByte(',')
			}
			if class {
				fmt.Fprintf(w, "%d\n", int(y[i]))
			} else {
				fmt.Fprintf(w, "%s\n", strconv.FormatFloat(y[i], 'g', -1, 64))
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write("synth_clf_train.csv", 0, 80000, s.class, true)
	write("synth_clf_test.csv", 80000, n, s.class, true)
	write("synth_reg_train.csv", 0, 80000, s.target, false)
	write("synth_reg_test.csv", 80000, n, s.target, false)
}

var (
	treeSynthOnce sync.Once
	treeSynthData *treeSynthSet
)

// treeBenchSynth returns the 100,000-row benchmark set, generated once.
func treeBenchSynth() *treeSynthSet {
	treeSynthOnce.Do(func() { treeSynthData = treeSynth(100000) })
	return treeSynthData
}

// treeBenchData is one benchmark data set: training and test rows with class
// codes (classifiers) or a continuous target (regressors).
type treeBenchData struct {
	name     string
	Xtr, Xte *mat.Dense
	ytr, yte []float64
}

// treeBenchSets returns breast_cancer (or diabetes for regressors) and the
// synthetic 80,000 / 20,000 split.
func treeBenchSets(b *testing.B, regression bool) []treeBenchData {
	b.Helper()
	small := "breast_cancer"
	if regression {
		small = "diabetes"
	}
	d := loadSplit(b, small)
	s := treeBenchSynth()
	Xtr, Xte, ctr, cte, ttr, tte := s.split(80000)
	big := treeBenchData{name: "synth100k", Xtr: Xtr, Xte: Xte, ytr: ctr, yte: cte}
	if regression {
		big.ytr, big.yte = ttr, tte
	}
	return []treeBenchData{{name: small, Xtr: d.Xtr, Xte: d.Xte, ytr: d.ytr, yte: d.yte}, big}
}

// treeBenchEstimator benchmarks Fit and Predict of the estimators newModel
// makes on treeBenchSets, reporting the test score as a metric.
func treeBenchEstimator(b *testing.B, regression bool, newModel func() ml.Estimator) {
	for _, ds := range treeBenchSets(b, regression) {
		score := func(pred []float64) float64 {
			if regression {
				return treeR2(ds.yte, pred)
			}
			return treeAccuracy(ds.yte, pred)
		}
		b.Run("fit/"+ds.name, func(b *testing.B) {
			var m ml.Estimator
			for b.Loop() {
				m = newModel()
				if err := m.Fit(ds.Xtr, ds.ytr); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(score(m.Predict(nil, ds.Xte)), "score")
		})
		b.Run("predict/"+ds.name, func(b *testing.B) {
			m := newModel()
			if err := m.Fit(ds.Xtr, ds.ytr); err != nil {
				b.Fatal(err)
			}
			var pred []float64
			for b.Loop() {
				pred = m.Predict(pred, ds.Xte)
			}
			b.ReportMetric(score(pred), "score")
		})
	}
}
