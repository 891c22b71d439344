package ml_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

// TestKNeighborsScores checks test scores against scikit-learn's (k-NN is
// deterministic): accuracy within one test row, R² within 0.01.
func TestKNeighborsScores(t *testing.T) {
	tests := []struct {
		dataset string
	}{{"iris"}, {"wine"}, {"breast_cancer"}, {"digits"}, {"diabetes"}}
	for _, tt := range tests {
		t.Run(tt.dataset, func(t *testing.T) {
			t.Parallel()
			d := loadSplit(t, tt.dataset)
			if d.regression {
				m := ml.NewKNeighborsRegressor()
				if err := m.Fit(d.Xtr, d.ytr); err != nil {
					t.Fatal(err)
				}
				got, want := treeR2(d.yte, m.Predict(nil, d.Xte)), reference(t, tt.dataset, "KNeighborsRegressor")["r2"]
				t.Logf("KNeighborsRegressor on %s: R² %.4f, scikit-learn %.4f", tt.dataset, got, want)
				if math.Abs(got-want) > 0.01 {
					t.Errorf("R²: got %.4f, want %.4f ± 0.01", got, want)
				}
				return
			}
			m := ml.NewKNeighborsClassifier()
			if err := m.Fit(d.Xtr, d.ytr); err != nil {
				t.Fatal(err)
			}
			got, want := treeAccuracy(d.yte, m.Predict(nil, d.Xte)), reference(t, tt.dataset, "KNeighborsClassifier")["accuracy"]
			t.Logf("KNeighborsClassifier on %s: accuracy %.4f, scikit-learn %.4f", tt.dataset, got, want)
			if tol := 1/float64(len(d.yte)) + 1e-9; math.Abs(got-want) > tol {
				t.Errorf("accuracy: got %.4f, want %.4f ± %.4f", got, want, tol)
			}
		})
	}
}

// knnBrute returns the k nearest rows of q in X by sorting all squared
// distances, ties by index.
func knnBrute(X *mat.Dense, q []float64, k int) []int {
	n, _ := X.Dims()
	type nd struct {
		d float64
		i int
	}
	all := make([]nd, n)
	for i := range n {
		var s float64
		for l, v := range X.RawRowView(i) {
			s += (v - q[l]) * (v - q[l])
		}
		all[i] = nd{s, i}
	}
	slices.SortStableFunc(all, func(a, b nd) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})
	out := make([]int, k)
	for j := range out {
		out[j] = all[j].i
	}
	return out
}

// TestKNeighborsSearch checks both searches against sorting all
// distances, on data with ties (rounded values) and without.
func TestKNeighborsSearch(t *testing.T) {
	tests := []struct {
		name      string
		n, d, k   int
		algorithm string
		round     bool
	}{
		{"kd 3 dims", 2000, 3, 7, "kd_tree", false},
		{"kd 10 dims ties", 1500, 10, 5, "kd_tree", true},
		{"brute 20 dims", 1003, 20, 5, "brute", false},
		{"brute 3 dims ties", 999, 3, 9, "brute", true},
		{"brute 1 dim", 50, 1, 50, "brute", true},
		{"brute 67 dims", 300, 67, 3, "brute", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			gen := func(n int) *mat.Dense {
				X := mat.NewDense(n, tt.d, nil)
				for i := range n {
					for l := range tt.d {
						v := r.NormFloat64()
						if tt.round {
							v = math.Round(v * 2)
						}
						X.Set(i, l, v)
					}
				}
				return X
			}
			X, Q := gen(tt.n), gen(101)
			y := make([]float64, tt.n)
			for i := range y {
				y[i] = float64(i)
			}
			// A 1-NN regressor on y = row index predicts the nearest row;
			// k-NN with weights from one-hot targets is checked below.
			m := &ml.KNeighborsRegressor{NNeighbors: 1, Weights: "uniform", Algorithm: tt.algorithm}
			if err := m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			got := m.Predict(nil, Q)
			for i := range 101 {
				if want := knnBrute(X, Q.RawRowView(i), tt.k); got[i] != float64(want[0]) {
					t.Fatalf("query %d: nearest %v, want %d", i, got[i], want[0])
				}
			}
			// k neighbours: the classifier's vote shares over classes =
			// rows equal the set of the k nearest rows.
			c := &ml.KNeighborsClassifier{NNeighbors: tt.k, Weights: "uniform", Algorithm: tt.algorithm}
			if err := c.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			p := c.PredictProba(nil, Q)
			for i := range 101 {
				want := knnBrute(X, Q.RawRowView(i), tt.k)
				row := p.RawRowView(i)
				for _, j := range want {
					if row[j] != 1/float64(tt.k) {
						t.Fatalf("query %d: row %d share %v, want 1/%d (neighbours %v)", i, j, row[j], tt.k, want)
					}
				}
			}
		})
	}
}

func TestKNeighborsWeights(t *testing.T) {
	X := mat.NewDense(4, 1, []float64{0, 1, 3, 10})
	tests := []struct {
		name    string
		weights string
		q       float64
		want    float64
	}{
		{"uniform", "uniform", 0.5, (0 + 10 + 30) / 3.0},
		{"distance", "distance", 0.5, (0/0.5 + 10/0.5 + 30/2.5) / (1/0.5 + 1/0.5 + 1/2.5)},
		{"distance zero", "distance", 1, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &ml.KNeighborsRegressor{NNeighbors: 3, Weights: tt.weights, Algorithm: "auto"}
			if err := m.Fit(X, []float64{0, 10, 30, 100}); err != nil {
				t.Fatal(err)
			}
			if got := m.Predict(nil, mat.NewDense(1, 1, []float64{tt.q}))[0]; math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// Tied vote: classes 1 and 0 once each at k=2, lowest code wins.
	c := &ml.KNeighborsClassifier{NNeighbors: 2, Weights: "uniform", Algorithm: "brute"}
	if err := c.Fit(X, []float64{1, 0, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if got := c.Predict(nil, mat.NewDense(1, 1, []float64{0.4})); got[0] != 0 {
		t.Errorf("tied vote: got %v, want 0", got[0])
	}
}

func TestKNeighborsJSON(t *testing.T) {
	d := loadSplit(t, "breast_cancer")
	m := ml.NewKNeighborsClassifier()
	m.Weights = "distance"
	if err := m.Fit(d.Xtr, d.ytr); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back ml.KNeighborsClassifier
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got, want := back.PredictProba(nil, d.Xte).RawMatrix().Data, m.PredictProba(nil, d.Xte).RawMatrix().Data; !slices.Equal(got, want) {
		t.Error("round trip changes probabilities")
	}
	var bad ml.KNeighborsClassifier
	b2 := []byte(`{"n_neighbors":5,"weights":"uniform","algorithm":"auto","n_features_in":2,"n_classes":2,"fit_X":[1,2,3],"fit_y":[0,1]}`)
	if err := json.Unmarshal(b2, &bad); err == nil {
		t.Error("decoding inconsistent fit_X: got no error")
	}
}

func TestKNeighborsErrors(t *testing.T) {
	X := mat.NewDense(3, 1, []float64{1, 2, 3})
	tests := []struct {
		name string
		m    ml.Estimator
		X    mat.Matrix
		want error
	}{
		{"too few rows", ml.NewKNeighborsClassifier(), X, ml.ErrTooFewSamples},
		{"nan", &ml.KNeighborsRegressor{NNeighbors: 1, Weights: "uniform", Algorithm: "auto"}, mat.NewDense(3, 1, []float64{1, math.NaN(), 3}), ml.ErrNaN},
		{"weights", &ml.KNeighborsRegressor{NNeighbors: 1, Weights: "gaussian", Algorithm: "auto"}, X, nil},
		{"algorithm", &ml.KNeighborsRegressor{NNeighbors: 1, Weights: "uniform", Algorithm: "ball_tree"}, X, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Fit(tt.X, []float64{0, 1, 0})
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestKNNOneCore fits and predicts k-NN on more rows than one parallel
// block with GOMAXPROCS 1 (a one-CPU container): same predictions as on
// every core, and a NaN is reported where it is.
func TestKNNOneCore(t *testing.T) {
	s := treeSynth(1000)
	Xtr, Xte, ctr, _, ttr, _ := s.split(800)
	fit := func() (cls, reg []float64, err error) {
		c := ml.NewKNeighborsClassifier()
		if err := c.Fit(Xtr, ctr); err != nil {
			return nil, nil, err
		}
		r := ml.NewKNeighborsRegressor()
		if err := r.Fit(Xtr, ttr); err != nil {
			return nil, nil, err
		}
		return c.Predict(nil, Xte), r.Predict(nil, Xte), nil
	}
	wantC, wantR, err := fit()
	if err != nil {
		t.Fatalf("all cores: %v", err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	gotC, gotR, err := fit()
	if err != nil {
		t.Fatalf("one core: %v", err)
	}
	if !slices.Equal(gotC, wantC) || !slices.Equal(gotR, wantR) {
		t.Errorf("one core predicts differently from all cores")
	}
	bad := mat.DenseCopyOf(Xtr)
	bad.Set(700, 3, math.NaN())
	err = ml.NewKNeighborsRegressor().Fit(bad, ttr)
	if !errors.Is(err, ml.ErrNaN) || !strings.Contains(err.Error(), "row 700, column 3") {
		t.Errorf("NaN at row 700, column 3: got %v", err)
	}
}
