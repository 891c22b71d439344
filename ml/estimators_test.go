package ml_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"runtime"
	"testing"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

// TestLearnedValues compares learned weights with scikit-learn 1.2.1's
// on the same standardised training files (values printed from
// LogisticRegression(max_iter=1000), LinearSVC(random_state=42),
// LinearRegression(), Ridge() and Lasso() fitted there).
func TestLearnedValues(t *testing.T) {
	tests := []struct {
		name      string
		dataset   string
		fit       func(d *splitData) (coef [][]float64, intercept []float64)
		coef      [][]float64
		intercept []float64
		tol       float64
	}{
		{"LogisticRegression multinomial", "iris", func(d *splitData) ([][]float64, []float64) {
			m := ml.NewLogisticRegression()
			m.MaxIter = 1000
			mustFit(t, m, d)
			return m.Coef, m.Intercept
		}, [][]float64{
			{-1.0888545982802051, 1.0239286504889828, -1.7988687624288846, -1.6851690722649426},
			{0.5361490103596427, -0.36006070798079104, -0.20459097556179975, -0.8083617312108446},
			{0.5527055879205635, -0.6638679425081924, 2.0034597379906867, 2.493530803475789}},
			[]float64{-0.30528151563396433, 1.9086171315407798, -1.6033356159068168}, 1e-3},
		{"LogisticRegression binary", "breast_cancer", func(d *splitData) ([][]float64, []float64) {
			m := ml.NewLogisticRegression()
			m.MaxIter = 1000
			mustFit(t, m, d)
			return [][]float64{m.Coef[0][:5]}, m.Intercept
		}, [][]float64{{0.3590246650280333, 0.4856085304443305, 0.35186472894091325, 0.4416418326314962, 0.3478996055609476}},
			[]float64{-0.24125151521458946}, 1e-3},
		{"LinearSVC", "iris", func(d *splitData) ([][]float64, []float64) {
			m := ml.NewLinearSVC()
			mustFit(t, m, d)
			return m.Coef, m.Intercept
		}, [][]float64{
			{-0.2571942925092383, 0.34458548032068065, -0.6172286813204659, -0.6650147083462015},
			{-0.10478208952056421, -0.4424819071708549, 0.8960920179950966, -0.7940949188162943},
			{-0.2124482108298582, -0.26793879891760836, 1.5074606433778581, 1.5907563291583107}},
			[]float64{-0.8049190869016364, -0.3678563722321043, -1.8898484254174954}, 2e-2},
		{"LinearRegression", "diabetes", func(d *splitData) ([][]float64, []float64) {
			m := ml.NewLinearRegression()
			mustFit(t, m, d)
			return [][]float64{m.Coef}, []float64{m.Intercept}
		}, [][]float64{{1.7537579919417714, -11.511809081546637, 25.60712143899749, 16.828871666252773, -44.44885564253597, 24.640953560447503, 7.676977684866738, 13.13878389996352, 35.161195210920674, 2.351363651024424}},
			[]float64{153.7365439093484}, 1e-8},
		{"Ridge", "diabetes", func(d *splitData) ([][]float64, []float64) {
			m := ml.NewRidge()
			mustFit(t, m, d)
			return [][]float64{m.Coef}, []float64{m.Intercept}
		}, [][]float64{{1.8073417929470024, -11.448189507396595, 25.73269891831571, 16.73429973692319, -34.671954092312376, 17.05307484701795, 3.369914107270918, 11.764260443762801, 31.378383797293278, 2.4581392184249404}},
			[]float64{153.7365439093484}, 1e-8},
		{"Lasso", "diabetes", func(d *splitData) ([][]float64, []float64) {
			m := ml.NewLasso()
			mustFit(t, m, d)
			return [][]float64{m.Coef}, []float64{m.Intercept}
		}, [][]float64{{0.6870321189342021, -9.297519041249918, 26.21922482137216, 15.657313572919811, -8.228171802431124, 0, -9.024087140076446, 3.4208605902184073, 22.6364653252819, 2.0986471248744274}},
			[]float64{153.73654390934843}, 1e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			coef, icpt := tt.fit(loadSplit(t, tt.dataset))
			for i := range tt.coef {
				for j := range tt.coef[i] {
					if math.Abs(coef[i][j]-tt.coef[i][j]) > tt.tol*math.Max(1, math.Abs(tt.coef[i][j])) {
						t.Fatalf("coef[%d]: got %v, want %v (tol %g)", i, coef[i], tt.coef[i], tt.tol)
					}
				}
			}
			for i := range tt.intercept {
				if math.Abs(icpt[i]-tt.intercept[i]) > tt.tol*math.Max(1, math.Abs(tt.intercept[i])) {
					t.Fatalf("intercept: got %v, want %v", icpt, tt.intercept)
				}
			}
		})
	}
}

func mustFit(t testing.TB, m ml.Estimator, d *splitData) {
	t.Helper()
	if err := m.Fit(d.Xtr, d.ytr); err != nil {
		t.Fatal(err)
	}
}

type estCase struct {
	name       string
	make       func() ml.Estimator
	regression bool
}

var estCases = []estCase{
	{"LogisticRegression", func() ml.Estimator { return ml.NewLogisticRegression() }, false},
	{"LinearSVC", func() ml.Estimator { m := ml.NewLinearSVC(); m.Seed = 7; return m }, false},
	{"GaussianNB", func() ml.Estimator { return ml.NewGaussianNB() }, false},
	{"LinearRegression", func() ml.Estimator { return ml.NewLinearRegression() }, true},
	{"Ridge", func() ml.Estimator { return ml.NewRidge() }, true},
	{"Lasso", func() ml.Estimator { return ml.NewLasso() }, true},
}

func dataFor(t testing.TB, e estCase) *splitData {
	if e.regression {
		return loadSplit(t, "diabetes")
	}
	return loadSplit(t, "wine")
}

// TestJSONRoundTrip: a fitted model encoded and decoded predicts the
// same bits, and encodes to the same bytes again.
func TestJSONRoundTrip(t *testing.T) {
	for _, e := range estCases {
		t.Run(e.name, func(t *testing.T) {
			d := dataFor(t, e)
			m := e.make()
			mustFit(t, m, d)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			m2 := reflect.New(reflect.TypeOf(m).Elem()).Interface().(ml.Estimator)
			if err := json.Unmarshal(b, m2); err != nil {
				t.Fatal(err)
			}
			p1, p2 := m.Predict(nil, d.Xte), m2.Predict(nil, d.Xte)
			for i := range p1 {
				if p1[i] != p2[i] {
					t.Fatalf("prediction %d: got %v after JSON, want %v", i, p2[i], p1[i])
				}
			}
			if c, ok := m.(ml.Classifier); ok {
				if !mat.Equal(c.PredictProba(nil, d.Xte), m2.(ml.Classifier).PredictProba(nil, d.Xte)) {
					t.Errorf("probabilities differ after JSON")
				}
			}
			b2, _ := json.Marshal(m2)
			if string(b) != string(b2) {
				t.Errorf("re-encoded JSON differs:\n%s\n%s", b, b2)
			}
		})
	}
}

// TestDeterminism: two fits on the same data (and seed) give identical
// bits.
func TestDeterminism(t *testing.T) {
	for _, e := range estCases {
		t.Run(e.name, func(t *testing.T) {
			d := dataFor(t, e)
			a, b := e.make(), e.make()
			mustFit(t, a, d)
			mustFit(t, b, d)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Errorf("two fits differ:\n%s\n%s", ja, jb)
			}
		})
	}
	t.Run("LogisticRegression parallel blocks", func(t *testing.T) {
		// Enough rows for several row blocks on several goroutines.
		X, y, _ := synthLinear(20_000, 5)
		var out []string
		for range 3 {
			m := ml.NewLogisticRegression()
			if err := m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(m)
			out = append(out, string(b))
		}
		if out[0] != out[1] || out[1] != out[2] {
			t.Errorf("fits differ")
		}
	})
	t.Run("same bits on one core", func(t *testing.T) {
		X, y, _ := synthLinear(20_000, 5)
		fit := func() string {
			lr := ml.NewLogisticRegression()
			svc := ml.NewLinearSVC()
			svc.MaxIter = 20
			var out []byte
			for _, m := range []ml.Estimator{lr, svc} {
				if err := m.Fit(X, y); err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(m)
				out = append(out, b...)
			}
			return string(out)
		}
		many := fit()
		prev := runtime.GOMAXPROCS(1)
		one := fit()
		runtime.GOMAXPROCS(prev)
		if many != one {
			t.Errorf("fits differ between GOMAXPROCS=%d and 1", prev)
		}
	})
	t.Run("LinearSVC seed matters", func(t *testing.T) {
		d := loadSplit(t, "digits")
		a, b := ml.NewLinearSVC(), ml.NewLinearSVC()
		b.Seed = 99
		a.MaxIter, b.MaxIter = 5, 5
		mustFit(t, a, d)
		mustFit(t, b, d)
		if reflect.DeepEqual(a.Coef, b.Coef) {
			t.Errorf("different seeds gave identical weights after 5 sweeps")
		}
	})
}

func TestFitErrors(t *testing.T) {
	nan := math.NaN()
	X := rowsOf([]float64{1, 2}, []float64{3, nan}, []float64{0, 1})
	Xok := rowsOf([]float64{1, 2}, []float64{3, 1}, []float64{0, 1})
	for _, e := range estCases {
		t.Run(e.name+"/NaN", func(t *testing.T) {
			if err := e.make().Fit(X, []float64{0, 1, 0}); !errors.Is(err, ml.ErrNaN) {
				t.Errorf("got %v, want ErrNaN", err)
			}
		})
		t.Run(e.name+"/length mismatch panics", func(t *testing.T) {
			mustPanic(t, func() { _ = e.make().Fit(Xok, []float64{0, 1}) })
		})
		t.Run(e.name+"/predict before fit panics", func(t *testing.T) {
			mustPanic(t, func() { e.make().Predict(nil, Xok) })
		})
		if !e.regression {
			t.Run(e.name+"/one class", func(t *testing.T) {
				if err := e.make().Fit(Xok, []float64{1, 1, 1}); !errors.Is(err, ml.ErrOneClass) {
					t.Errorf("got %v, want ErrOneClass", err)
				}
			})
			t.Run(e.name+"/non-code label panics", func(t *testing.T) {
				mustPanic(t, func() { _ = e.make().Fit(Xok, []float64{0, 1.5, 1}) })
			})
		}
	}
	t.Run("bad hyperparameters", func(t *testing.T) {
		for _, m := range []ml.Estimator{
			&ml.LogisticRegression{C: 0, MaxIter: 10},
			&ml.LinearSVC{C: -1, MaxIter: 10},
			&ml.Ridge{Alpha: -1},
			&ml.Lasso{Alpha: 1, MaxIter: 0},
		} {
			if err := m.Fit(Xok, []float64{0, 1, 0}); err == nil {
				t.Errorf("%T: got no error, want one", m)
			}
		}
	})
	t.Run("wrong columns at predict panics", func(t *testing.T) {
		m := ml.NewRidge()
		if err := m.Fit(Xok, []float64{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		mustPanic(t, func() { m.Predict(nil, rowsOf([]float64{1})) })
	})
}

func TestLinearRegressionRankDeficient(t *testing.T) {
	// Column 1 is twice column 0: scikit-learn's lstsq gives the
	// minimum-norm split of the slope 3 as w0 + 2 w1 = 3 with w = (0.6,
	// 1.2) (by hand: the projection of the solution line onto (1, 2)).
	X := rowsOf([]float64{1, 2}, []float64{2, 4}, []float64{3, 6}, []float64{4, 8})
	y := []float64{4, 7, 10, 13}
	m := ml.NewLinearRegression()
	if err := m.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	checkSlice(t, "coef", roundTo(m.Coef, 1e-9), []float64{0.6, 1.2})
	if !near(m.Intercept, 1, 1e-9) || m.Rank != 1 {
		t.Errorf("intercept, rank: got %v, %d, want 1, 1", m.Intercept, m.Rank)
	}
}

func roundTo(v []float64, q float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x/q) * q
	}
	return out
}

var errStop = errors.New("stop")

func TestProgressStops(t *testing.T) {
	d := loadSplit(t, "digits")
	dr := loadSplit(t, "diabetes")
	tests := []struct {
		name string
		m    interface {
			ml.Estimator
			ml.Progressor
		}
		d *splitData
	}{
		{"LogisticRegression", ml.NewLogisticRegression(), d},
		{"LinearSVC", ml.NewLinearSVC(), d},
		{"Lasso", &ml.Lasso{Alpha: 0.001, FitIntercept: true, MaxIter: 1000, Tol: 1e-12}, dr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			tt.m.SetProgress(func(done, total int) error {
				calls++
				if done > total || total <= 0 {
					t.Errorf("progress (%d, %d) out of range", done, total)
				}
				if calls == 3 {
					return errStop
				}
				return nil
			})
			err := tt.m.Fit(tt.d.Xtr, tt.d.ytr)
			if !errors.Is(err, errStop) {
				t.Errorf("got %v, want the hook's error", err)
			}
			if calls != 3 {
				t.Errorf("hook calls: got %d, want 3", calls)
			}
		})
	}
}

func TestSetParams(t *testing.T) {
	m := ml.NewLogisticRegression()
	if err := ml.SetParams(m, map[string]any{"C": 0.5, "max_iter": 200.0, "fit_intercept": false}); err != nil {
		t.Fatal(err)
	}
	if m.C != 0.5 || m.MaxIter != 200 || m.FitIntercept {
		t.Errorf("got C=%v max_iter=%d fit_intercept=%v, want 0.5 200 false", m.C, m.MaxIter, m.FitIntercept)
	}
	tests := []struct {
		name   string
		params map[string]any
	}{
		{"unknown", map[string]any{"gamma": 1.0}},
		{"learned value", map[string]any{"coef": 1.0}},
		{"fractional int", map[string]any{"max_iter": 2.5}},
		{"wrong type", map[string]any{"C": "big"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ml.SetParams(ml.NewLogisticRegression(), tt.params); err == nil {
				t.Errorf("got no error, want one")
			}
		})
	}
	got := ml.ParamNames(ml.NewLasso())
	want := []string{"alpha", "fit_intercept", "max_iter", "tol"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParamNames: got %v, want %v", got, want)
	}
	f := ml.FactoryOf(ml.NewRidge)
	e, err := f(map[string]any{"alpha": 3})
	if err != nil || e.(*ml.Ridge).Alpha != 3 {
		t.Errorf("FactoryOf: got %v, %v, want alpha 3", e, err)
	}
}

func TestNoIntercept(t *testing.T) {
	// y = 2·x0 - x1 exactly: through the origin, by hand.
	X := rowsOf([]float64{1, 0}, []float64{0, 1}, []float64{2, 1}, []float64{3, 5}, []float64{-1, 2})
	y := []float64{2, -1, 3, 1, -4}
	lr := &ml.LinearRegression{}
	rg := &ml.Ridge{Alpha: 1e-12}
	ls := &ml.Lasso{Alpha: 1e-9, MaxIter: 10000, Tol: 1e-12}
	tests := []struct {
		name      string
		m         ml.Estimator
		coef      *[]float64
		intercept *float64
	}{
		{"LinearRegression", lr, &lr.Coef, &lr.Intercept},
		{"Ridge", rg, &rg.Coef, &rg.Intercept},
		{"Lasso", ls, &ls.Coef, &ls.Intercept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.m.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			if c := *tt.coef; !near(c[0], 2, 1e-6) || !near(c[1], -1, 1e-6) || *tt.intercept != 0 {
				t.Errorf("got coef %v intercept %v, want [2 -1] and 0", c, *tt.intercept)
			}
		})
	}
	m := &ml.LogisticRegression{C: 1, MaxIter: 100, Tol: 1e-6}
	if err := m.Fit(X, []float64{1, 0, 1, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if m.Intercept[0] != 0 {
		t.Errorf("LogisticRegression without intercept: got intercept %v, want 0", m.Intercept[0])
	}
}
