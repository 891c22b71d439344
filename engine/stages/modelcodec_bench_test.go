package stages

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// The forest of issue 9: 100 trees fitted on 64,000 of 80,000 rows x 20
// features. SLUICE_FOREST_CSV names a training CSV (20 float columns then
// an integer target, as scikit-learn's make_classification makes them)
// to fit on the same rows as a scikit-learn reference; without it, rows
// are generated: 10 informative features, a noisy linear rule, 5% of the
// labels flipped.
var forestOnce struct {
	sync.Once
	est  *ml.RandomForestClassifier
	mf   *ModelFile
	fit  time.Duration
	data []byte
	err  error
}

func forestData() (*mat.Dense, []float64, error) {
	if path := os.Getenv("SLUICE_FOREST_CSV"); path != "" {
		f, err := frame.ReadCSVFile(path, frame.ReadOptions{})
		if err != nil {
			return nil, nil, err
		}
		n, k := f.NumRows(), f.NumCols()-1
		X := mat.NewDense(n, k, nil)
		y := make([]float64, n)
		for j := 0; j <= k; j++ {
			c := f.Col(j)
			for i := 0; i < n; i++ {
				v, err := strconv.ParseFloat(c.Str(i), 64)
				if err != nil {
					return nil, nil, err
				}
				if j == k {
					y[i] = v
				} else {
					X.Set(i, j, v)
				}
			}
		}
		return X, y, nil
	}
	r := rand.New(rand.NewPCG(9, 9))
	const n, k = 64000, 20
	X := mat.NewDense(n, k, nil)
	y := make([]float64, n)
	w := make([]float64, 10)
	for j := range w {
		w[j] = r.NormFloat64()
	}
	for i := range n {
		s := 0.0
		for j := range k {
			v := r.NormFloat64()
			X.Set(i, j, v)
			if j < 10 {
				s += w[j] * v
			}
		}
		if s+0.5*r.NormFloat64() > 0 {
			y[i] = 1
		}
		if r.Float64() < 0.05 {
			y[i] = 1 - y[i]
		}
	}
	return X, y, nil
}

func fittedForest(b *testing.B) {
	forestOnce.Do(func() {
		X, y, err := forestData()
		if err != nil {
			forestOnce.err = err
			return
		}
		est := ml.NewRandomForestClassifier()
		est.NEstimators = 100
		est.Seed = 1
		start := time.Now()
		if err := est.Fit(X, y); err != nil {
			forestOnce.err = err
			return
		}
		forestOnce.fit = time.Since(start)
		_, k := X.Dims()
		mf := &ModelFile{Format: ModelFormat, FormatVersion: ModelFormatVersion, Task: taskClassification, Target: "target",
			Classes: []string{"0", "1"}, Chain: []*Step{}, Estimator: EstimatorFile{Type: "random_forest_classifier", Params: map[string]any{}},
			Metrics: map[string]float64{}}
		for j := range k {
			name := fmt.Sprintf("f%d", j)
			mf.Input = append(mf.Input, InputColumn{Name: name, Type: "float"})
			mf.Features = append(mf.Features, name)
		}
		forestOnce.est, forestOnce.mf = est, mf
		forestOnce.data, forestOnce.err = marshalModel2(mf, est)
	})
	if forestOnce.err != nil {
		b.Fatal(forestOnce.err)
	}
}

// BenchmarkForestModelFile measures writing and loading the model file of
// a 100-tree forest: its size, the encode time as a share of the fit, and
// the load time (LoadModel: checksum, decompress, unpack, check).
func BenchmarkForestModelFile(b *testing.B) {
	fittedForest(b)
	nodes := 0
	for _, t := range forestOnce.est.Trees {
		nodes += t.NodeCount()
	}
	b.Logf("fit %s, %d nodes, model file %.1f MB", forestOnce.fit.Round(time.Millisecond), nodes, float64(len(forestOnce.data))/1e6)
	b.Run("encode", func(b *testing.B) {
		var data []byte
		for b.Loop() {
			var err error
			if data, err = marshalModel2(forestOnce.mf, forestOnce.est); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(data))/1e6, "MB")
		per := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(100*per/forestOnce.fit.Seconds(), "%fit")
	})
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			if _, err := LoadModel("forest", forestOnce.data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
