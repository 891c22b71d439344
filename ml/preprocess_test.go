package ml_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

func checkDense(t *testing.T, name string, got mat.Matrix, want [][]float64, tol float64) {
	t.Helper()
	r, c := got.Dims()
	if r != len(want) || c != len(want[0]) {
		t.Errorf("%s: got %d×%d, want %d×%d", name, r, c, len(want), len(want[0]))
		return
	}
	for i := range want {
		for j := range want[i] {
			if !near(got.At(i, j), want[i][j], tol) {
				t.Errorf("%s: got\n%v\nwant %v", name, mat.Formatted(got), want)
				return
			}
		}
	}
}

func rowsOf(v ...[]float64) *mat.Dense {
	X := mat.NewDense(len(v), len(v[0]), nil)
	for i, r := range v {
		X.SetRow(i, r)
	}
	return X
}

func TestStandardScaler(t *testing.T) {
	// StandardScaler docs: data [[0,0],[0,0],[1,1],[1,1]] → mean [0.5,0.5],
	// transform([[2,2]]) = [[3,3]].
	var s ml.StandardScaler
	if err := s.Fit(rowsOf([]float64{0, 0}, []float64{0, 0}, []float64{1, 1}, []float64{1, 1})); err != nil {
		t.Fatal(err)
	}
	checkSlice(t, "mean", s.Mean, []float64{0.5, 0.5})
	checkDense(t, "transform", s.Transform(nil, rowsOf([]float64{2, 2})), [][]float64{{3, 3}}, 1e-12)

	t.Run("zero variance gets scale 1", func(t *testing.T) {
		var s ml.StandardScaler
		if err := s.Fit(rowsOf([]float64{5, 1}, []float64{5, 3})); err != nil {
			t.Fatal(err)
		}
		checkSlice(t, "scale", s.Scale, []float64{1, 1})
		checkDense(t, "transform", s.Transform(nil, rowsOf([]float64{5, 2})), [][]float64{{0, 0}}, 1e-12)
	})
	t.Run("NaN ignored and kept", func(t *testing.T) {
		var s ml.StandardScaler
		nan := math.NaN()
		if err := s.Fit(rowsOf([]float64{1, nan}, []float64{3, 2}, []float64{nan, 4})); err != nil {
			t.Fatal(err)
		}
		checkSlice(t, "mean", s.Mean, []float64{2, 3})
		got := s.Transform(nil, rowsOf([]float64{nan, 4}))
		var all ml.StandardScaler
		if err := all.Fit(rowsOf([]float64{nan}, []float64{nan})); err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(&all); err != nil {
			t.Errorf("JSON of a scaler fitted on an all-missing column: %v", err)
		}
		if !math.IsNaN(got.At(0, 0)) || got.At(0, 1) != 1 {
			t.Errorf("got %v, want [NaN 1]", mat.Formatted(got))
		}
	})
	t.Run("round trip", func(t *testing.T) {
		d := loadRaw(t, "wine")
		var s ml.StandardScaler
		if err := s.Fit(d.Xtr); err != nil {
			t.Fatal(err)
		}
		back := s.InverseTransform(nil, s.Transform(nil, d.Xte))
		if !mat.EqualApprox(back, d.Xte, 1e-9) {
			t.Errorf("inverse(transform(X)) differs from X")
		}
	})
	t.Run("in place", func(t *testing.T) {
		X := rowsOf([]float64{0}, []float64{2})
		var s ml.StandardScaler
		if err := s.Fit(X); err != nil {
			t.Fatal(err)
		}
		if got := s.Transform(X, X); got != X || X.At(0, 0) != -1 {
			t.Errorf("got %v, want X overwritten with [-1 1]", mat.Formatted(got))
		}
	})
}

func TestMinMaxScaler(t *testing.T) {
	// MinMaxScaler docs: data [[-1,2],[-0.5,6],[0,10],[1,18]] →
	// [[0,0],[0.25,0.25],[0.5,0.5],[1,1]]; transform([[2,2]]) = [[1.5,0]].
	X := rowsOf([]float64{-1, 2}, []float64{-0.5, 6}, []float64{0, 10}, []float64{1, 18})
	s := ml.NewMinMaxScaler()
	if err := s.Fit(X); err != nil {
		t.Fatal(err)
	}
	checkSlice(t, "data_max", s.DataMax, []float64{1, 18})
	checkDense(t, "transform", s.Transform(nil, X), [][]float64{{0, 0}, {0.25, 0.25}, {0.5, 0.5}, {1, 1}}, 1e-12)
	checkDense(t, "unseen", s.Transform(nil, rowsOf([]float64{2, 2})), [][]float64{{1.5, 0}}, 1e-12)

	s2 := &ml.MinMaxScaler{FeatureRange: [2]float64{-1, 1}, Clip: true}
	if err := s2.Fit(X); err != nil {
		t.Fatal(err)
	}
	checkDense(t, "range and clip", s2.Transform(nil, rowsOf([]float64{2, 10})), [][]float64{{1, 0}}, 1e-12)
	if err := (&ml.MinMaxScaler{FeatureRange: [2]float64{1, 0}}).Fit(X); err == nil {
		t.Errorf("decreasing feature_range: got no error, want one")
	}
}

func TestSimpleImputer(t *testing.T) {
	nan := math.NaN()
	// SimpleImputer docs: fit [[7,2,3],[4,nan,6],[10,5,9]] with mean, then
	// transform [[nan,2,3],[4,nan,6],[10,nan,9]] → [[7,2,3],[4,3.5,6],[10,3.5,9]].
	fit := rowsOf([]float64{7, 2, 3}, []float64{4, nan, 6}, []float64{10, 5, 9})
	X := rowsOf([]float64{nan, 2, 3}, []float64{4, nan, 6}, []float64{10, nan, 9})
	tests := []struct {
		name string
		imp  ml.SimpleImputer
		fit  *mat.Dense
		want [][]float64
	}{
		{"mean docs", ml.SimpleImputer{Strategy: "mean"}, fit, [][]float64{{7, 2, 3}, {4, 3.5, 6}, {10, 3.5, 9}}},
		// by hand: medians of [7 4 10]=7, [2 5]=3.5, [3 6 9]=6.
		{"median", ml.SimpleImputer{Strategy: "median"}, fit, [][]float64{{7, 2, 3}, {4, 3.5, 6}, {10, 3.5, 9}}},
		// by hand: most frequent, smallest on ties: 4, 2, 3.
		{"most frequent", ml.SimpleImputer{Strategy: "most_frequent"}, fit, [][]float64{{4, 2, 3}, {4, 2, 6}, {10, 2, 9}}},
		{"constant", ml.SimpleImputer{Strategy: "constant", FillValue: -1}, fit, [][]float64{{-1, 2, 3}, {4, -1, 6}, {10, -1, 9}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp := tt.imp
			if err := imp.Fit(tt.fit); err != nil {
				t.Fatal(err)
			}
			checkDense(t, "transform", imp.Transform(nil, X), tt.want, 1e-12)
		})
	}
	t.Run("all missing column", func(t *testing.T) {
		var imp ml.SimpleImputer
		err := imp.Fit(rowsOf([]float64{1, nan}, []float64{2, nan}))
		if !errors.Is(err, ml.ErrEmpty) {
			t.Errorf("got %v, want ErrEmpty", err)
		}
	})
	t.Run("unknown strategy", func(t *testing.T) {
		imp := ml.SimpleImputer{Strategy: "mode"}
		if err := imp.Fit(fit); err == nil {
			t.Errorf("got no error, want one")
		}
	})
}

func TestOneHotEncoder(t *testing.T) {
	// OneHotEncoder docs: fit [['Male',1],['Female',3],['Female',2]],
	// transform [['Female',1],['Male',4]] → [[1,0,1,0,0],[0,1,0,0,0]]
	// with handle_unknown="ignore".
	var e ml.OneHotEncoder
	if err := e.FitStrings([][]string{{"Male", "Female", "Female"}, {"1", "3", "2"}}); err != nil {
		t.Fatal(err)
	}
	got := e.TransformStrings(nil, [][]string{{"Female", "Male"}, {"1", "4"}})
	checkDense(t, "strings", got, [][]float64{{1, 0, 1, 0, 0}, {0, 1, 0, 0, 0}}, 0)
	names := e.FeatureNames([]string{"gender", "group"})
	want := []string{"gender_Female", "gender_Male", "group_1", "group_2", "group_3"}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("names: got %v, want %v", names, want)
		}
	}

	t.Run("numeric codes sort numerically", func(t *testing.T) {
		var e ml.OneHotEncoder
		if err := e.Fit(rowsOf([]float64{10}, []float64{2}, []float64{1}, []float64{math.NaN()})); err != nil {
			t.Fatal(err)
		}
		wantCats := []string{"1", "2", "10", "NaN"}
		for i, c := range wantCats {
			if e.Categories[0][i] != c {
				t.Fatalf("categories: got %v, want %v", e.Categories[0], wantCats)
			}
		}
		got := e.Transform(nil, rowsOf([]float64{2}, []float64{7}, []float64{math.NaN()}))
		checkDense(t, "codes", got, [][]float64{{0, 1, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 1}}, 0)
		b, err := json.Marshal(&e)
		if err != nil {
			t.Fatalf("JSON with a NaN category: %v", err)
		}
		var e2 ml.OneHotEncoder
		if err := json.Unmarshal(b, &e2); err != nil {
			t.Fatal(err)
		}
		if got2 := e2.Transform(nil, rowsOf([]float64{2}, []float64{7}, []float64{math.NaN()})); !mat.Equal(got, got2) {
			t.Errorf("after JSON: got %v, want %v", mat.Formatted(got2), mat.Formatted(got))
		}
	})
	t.Run("json round trip", func(t *testing.T) {
		b, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		var e2 ml.OneHotEncoder
		if err := json.Unmarshal(b, &e2); err != nil {
			t.Fatal(err)
		}
		got2 := e2.TransformStrings(nil, [][]string{{"Female", "Male"}, {"1", "4"}})
		if !mat.Equal(got, got2) {
			t.Errorf("after JSON: got %v, want %v", mat.Formatted(got2), mat.Formatted(got))
		}
	})
}

func TestPCA(t *testing.T) {
	// PCA docs example: X=[[-1,-1],[-2,-1],[-3,-2],[1,1],[2,1],[3,2]];
	// components, ratios, singular values and transform([[1,2]]) from
	// scikit-learn 1.2.1.
	X := rowsOf([]float64{-1, -1}, []float64{-2, -1}, []float64{-3, -2}, []float64{1, 1}, []float64{2, 1}, []float64{3, 2})
	p := &ml.PCA{NComponents: 2}
	if err := p.Fit(X); err != nil {
		t.Fatal(err)
	}
	checkSlice6 := func(name string, got, want []float64) {
		t.Helper()
		for i := range want {
			if !near(got[i], want[i], 1e-7) {
				t.Errorf("%s: got %v, want %v", name, got, want)
				return
			}
		}
	}
	checkSlice6("explained_variance_ratio", p.ExplainedVarianceRatio, []float64{0.99244289, 0.00755711})
	checkSlice6("singular_values", p.SingularValues, []float64{6.30061232, 0.54980396})
	checkSlice6("component 0", p.Components[0], []float64{-0.83849224, -0.54491354})
	checkSlice6("component 1", p.Components[1], []float64{0.54491354, -0.83849224})
	checkDense(t, "transform", p.Transform(nil, rowsOf([]float64{1, 2})), [][]float64{{-1.92831932, -1.13207093}}, 1e-7)

	t.Run("three features, two components", func(t *testing.T) {
		// scikit-learn 1.2.1, PCA(n_components=2, svd_solver="full").
		X := rowsOf([]float64{2, 0, 1}, []float64{1, 3, 0}, []float64{0, 1, 4}, []float64{5, 2, 2}, []float64{1, 1, 1})
		p := &ml.PCA{NComponents: 2}
		if err := p.Fit(X); err != nil {
			t.Fatal(err)
		}
		checkSlice6("component 0", p.Components[0], []float64{0.94289513, 0.18723714, -0.27548327})
		checkSlice6("component 1", p.Components[1], []float64{-0.32547679, 0.34209601, -0.88149599})
		checkSlice6("explained_variance", p.ExplainedVariance, []float64{3.87176051, 2.38421585})
		checkDense(t, "transform", p.Transform(nil, X.Slice(0, 2, 0, 3)), [][]float64{{0.09173699, -0.01513218}, {-0.01396344, 2.21812863}}, 1e-7)
	})
	t.Run("too many components", func(t *testing.T) {
		if err := (&ml.PCA{NComponents: 3}).Fit(X); err == nil {
			t.Errorf("got no error, want one")
		}
	})
}

func TestTransformerErrors(t *testing.T) {
	inf := math.Inf(1)
	bad := rowsOf([]float64{1, inf}, []float64{2, 3})
	tests := []struct {
		name string
		tr   ml.Transformer
		X    *mat.Dense
		want error
	}{
		{"scaler inf", &ml.StandardScaler{}, bad, ml.ErrNaN},
		{"minmax inf", ml.NewMinMaxScaler(), bad, ml.ErrNaN},
		{"imputer inf", &ml.SimpleImputer{}, bad, ml.ErrNaN},
		{"pca inf", &ml.PCA{}, bad, ml.ErrNaN},
		{"scaler empty", &ml.StandardScaler{}, &mat.Dense{}, ml.ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			func() {
				defer func() { _ = recover() }() // some transformers panic on a shape they cannot take; the error is what counts
				err = tt.tr.Fit(tt.X)
			}()
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("wrong columns panic", func(t *testing.T) {
		var s ml.StandardScaler
		if err := s.Fit(rowsOf([]float64{1, 2})); err != nil {
			t.Fatal(err)
		}
		mustPanic(t, func() { s.Transform(nil, rowsOf([]float64{1})) })
	})
	t.Run("unfitted panics", func(t *testing.T) {
		mustPanic(t, func() { (&ml.PCA{}).Transform(nil, rowsOf([]float64{1})) })
	})
}

// TestPCATall checks the XᵀX route PCA takes on tall data against an SVD
// of the centred data computed here, with scikit-learn's svd_flip signs.
func TestPCATall(t *testing.T) {
	X, _, _ := synthLinear(6000, 4)
	for i := 0; i < 6000; i++ { // unequal variances, non-zero means
		row := X.RawRowView(i)
		row[0] = 3*row[0] + 10
		row[1] = row[1] + 0.5*row[0]
		row[3] *= 0.1
	}
	p := &ml.PCA{NComponents: 3}
	if err := p.Fit(X); err != nil {
		t.Fatal(err)
	}
	n, c := X.Dims()
	Xc := mat.NewDense(n, c, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			Xc.Set(i, j, X.At(i, j)-p.Mean[j])
		}
	}
	var svd mat.SVD
	if !svd.Factorize(Xc, mat.SVDThin) {
		t.Fatal("SVD failed")
	}
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	s := svd.Values(nil)
	for q := 0; q < 3; q++ {
		bi := 0
		for i := 0; i < n; i++ {
			if math.Abs(U.At(i, q)) > math.Abs(U.At(bi, q)) {
				bi = i
			}
		}
		sign := 1.0
		if U.At(bi, q) < 0 {
			sign = -1
		}
		for j := 0; j < c; j++ {
			if want := sign * V.At(j, q); math.Abs(p.Components[q][j]-want) > 1e-9 {
				t.Fatalf("component %d: got %v, want %v", q, p.Components[q], mat.Col(nil, q, &V))
			}
		}
		if want := s[q] * s[q] / float64(n-1); !near(p.ExplainedVariance[q], want, 1e-10) {
			t.Errorf("explained variance %d: got %v, want %v", q, p.ExplainedVariance[q], want)
		}
	}
}
