package ml_test

import (
	"math"
	"testing"

	"github.com/sluice-ml/sluice/ml"
	"gonum.org/v1/gonum/mat"
)

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b))
}

func TestClassificationMetrics(t *testing.T) {
	// docs: the example in scikit-learn's precision_recall_fscore_support,
	// precision_score, recall_score and f1_score documentation.
	docTrue := []float64{0, 1, 2, 0, 1, 2}
	docPred := []float64{0, 2, 1, 0, 0, 1}
	// bin: hand-computed, tp=3 fp=1 fn=1 (and checked with scikit-learn
	// 1.2.1: 0.75 for all three).
	binTrue := []float64{1, 0, 1, 1, 0, 1, 0, 0}
	binPred := []float64{1, 1, 1, 0, 0, 1, 0, 0}
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		// accuracy_score docs: y_pred=[0,2,1,3], y_true=[0,1,2,3] → 0.5.
		{"accuracy docs", ml.Accuracy([]float64{0, 1, 2, 3}, []float64{0, 2, 1, 3}), 0.5},
		{"precision macro docs", ml.Precision(docTrue, docPred, ml.Macro), 0.2222222222222222},
		{"precision micro docs", ml.Precision(docTrue, docPred, ml.Micro), 0.3333333333333333},
		{"precision weighted docs", ml.Precision(docTrue, docPred, ml.Weighted), 0.2222222222222222},
		{"recall macro docs", ml.Recall(docTrue, docPred, ml.Macro), 0.3333333333333333},
		{"recall weighted docs", ml.Recall(docTrue, docPred, ml.Weighted), 0.3333333333333333},
		{"f1 macro docs", ml.F1(docTrue, docPred, ml.Macro), 0.26666666666666666},
		{"f1 micro docs", ml.F1(docTrue, docPred, ml.Micro), 0.3333333333333333},
		// scikit-learn 1.2.1: f1_score(docTrue, docPred, average="weighted").
		{"f1 weighted docs", ml.F1(docTrue, docPred, ml.Weighted), 0.26666666666666666},
		{"precision binary", ml.Precision(binTrue, binPred, ml.Binary), 0.75},
		{"recall binary", ml.Recall(binTrue, binPred, ml.Binary), 0.75},
		{"f1 binary", ml.F1(binTrue, binPred, ml.Binary), 0.75},
		// zero_division=0: class 1 never predicted → its precision is 0;
		// by hand: precision(0)=2/4, precision(1)=0 → macro 0.25.
		{"precision zero division", ml.Precision([]float64{0, 1, 0, 1}, []float64{0, 0, 0, 0}, ml.Macro), 0.25},
		{"f1 zero division binary", ml.F1([]float64{0, 0}, []float64{0, 0}, ml.Binary), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !near(tt.got, tt.want, 1e-12) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestConfusionMatrix(t *testing.T) {
	// confusion_matrix docs: y_true=[2,0,2,2,0,1], y_pred=[0,0,2,2,0,2].
	got := ml.ConfusionMatrix([]float64{2, 0, 2, 2, 0, 1}, []float64{0, 0, 2, 2, 0, 2}, 0)
	want := [][]int{{2, 0, 0}, {0, 0, 1}, {1, 0, 2}}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	if got := ml.ConfusionMatrix([]float64{0}, []float64{0}, 3); len(got) != 3 {
		t.Errorf("k=3: got %d rows, want 3", len(got))
	}
}

func TestROC(t *testing.T) {
	t.Run("docs", func(t *testing.T) {
		// roc_curve and roc_auc_score docs (scikit-learn 1.2):
		// y=[0,0,1,1], scores=[0.1,0.4,0.35,0.8].
		y := []float64{0, 0, 1, 1}
		s := []float64{0.1, 0.4, 0.35, 0.8}
		fpr, tpr, thr := ml.ROCCurve(y, s)
		wantF := []float64{0, 0, 0.5, 0.5, 1}
		wantT := []float64{0, 0.5, 0.5, 1, 1}
		wantH := []float64{1.8, 0.8, 0.4, 0.35, 0.1}
		checkSlice(t, "fpr", fpr, wantF)
		checkSlice(t, "tpr", tpr, wantT)
		checkSlice(t, "thresholds", thr, wantH)
		if got := ml.ROCAUC(y, s); !near(got, 0.75, 1e-12) {
			t.Errorf("auc: got %v, want 0.75", got)
		}
		if got := ml.AUC(fpr, tpr); !near(got, 0.75, 1e-12) {
			t.Errorf("AUC of the curve: got %v, want 0.75", got)
		}
	})
	t.Run("ties and dropped points", func(t *testing.T) {
		// scikit-learn 1.2.1: roc_curve on these gives the points below,
		// roc_auc_score 0.56.
		y := []float64{0, 0, 1, 1, 0, 1, 1, 0, 1, 0}
		s := []float64{.1, .2, .3, .3, .5, .6, .6, .7, .8, .9}
		fpr, tpr, thr := ml.ROCCurve(y, s)
		checkSlice(t, "fpr", fpr, []float64{0, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 1})
		checkSlice(t, "tpr", tpr, []float64{0, 0, 0.2, 0.2, 0.6, 0.6, 1, 1})
		checkSlice(t, "thresholds", thr, []float64{1.9, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.1})
		if got := ml.ROCAUC(y, s); !near(got, 0.56, 1e-12) {
			t.Errorf("auc: got %v, want 0.56", got)
		}
	})
	t.Run("one class", func(t *testing.T) {
		if got := ml.ROCAUC([]float64{1, 1}, []float64{0.2, 0.3}); !math.IsNaN(got) {
			t.Errorf("got %v, want NaN", got)
		}
	})
	t.Run("multiclass ovr", func(t *testing.T) {
		// scikit-learn 1.2.1: roc_auc_score(y, p, multi_class="ovr") and
		// log_loss(y, p) for these.
		y := []float64{0, 1, 2, 2, 1, 0, 2, 1}
		p := mat.NewDense(8, 3, []float64{.7, .2, .1, .2, .5, .3, .1, .3, .6, .3, .3, .4, .4, .4, .2, .5, .1, .4, .2, .2, .6, .1, .8, .1})
		if got := ml.ROCAUCOvR(y, p); !near(got, 0.9888888888888889, 1e-12) {
			t.Errorf("ROC AUC OvR: got %v, want 0.9888888888888889", got)
		}
		if got := ml.LogLoss(y, p); !near(got, 0.6025431959566405, 1e-12) {
			t.Errorf("log loss: got %v, want 0.6025431959566405", got)
		}
	})
}

func checkSlice(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %v, want %v", name, got, want)
		return
	}
	for i := range want {
		if !near(got[i], want[i], 1e-12) {
			t.Errorf("%s: got %v, want %v", name, got, want)
			return
		}
	}
}

func TestLogLossDocs(t *testing.T) {
	// log_loss docs: log_loss(["spam","ham","ham","spam"],
	// [[.1,.9],[.9,.1],[.8,.2],[.35,.65]]) = 0.21616..., with ham=0, spam=1.
	p := mat.NewDense(4, 2, []float64{.1, .9, .9, .1, .8, .2, .35, .65})
	if got := ml.LogLoss([]float64{1, 0, 0, 1}, p); !near(got, 0.21616187468057912, 1e-12) {
		t.Errorf("got %v, want 0.21616187468057912", got)
	}
}

func TestRegressionMetrics(t *testing.T) {
	// r2_score, mean_squared_error and mean_absolute_error docs:
	// y_true=[3,-0.5,2,7], y_pred=[2.5,0.0,2,8].
	yt := []float64{3, -0.5, 2, 7}
	yp := []float64{2.5, 0, 2, 8}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"r2", ml.R2(yt, yp), 0.9486081370449679},
		{"mse", ml.MSE(yt, yp), 0.375},
		{"rmse", ml.RMSE(yt, yp), math.Sqrt(0.375)},
		{"mae", ml.MAE(yt, yp), 0.5},
		// force_finite: constant truth → 1 if exact, else 0.
		{"r2 constant exact", ml.R2([]float64{1, 1}, []float64{1, 1}), 1},
		{"r2 constant wrong", ml.R2([]float64{1, 1}, []float64{1, 2}), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !near(tt.got, tt.want, 1e-12) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestMetricsPanicOnLengthMismatch(t *testing.T) {
	fns := map[string]func(){
		"Accuracy": func() { ml.Accuracy([]float64{1}, []float64{1, 2}) },
		"F1":       func() { ml.F1([]float64{1}, nil, ml.Macro) },
		"R2":       func() { ml.R2(nil, nil) },
		"ROCAUC":   func() { ml.ROCAUC([]float64{1, 0}, []float64{1}) },
	}
	for name, fn := range fns {
		t.Run(name, func(t *testing.T) { mustPanic(t, fn) })
	}
}

func mustPanic(t *testing.T, fn func()) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Errorf("got no panic, want one")
			return
		}
		if s, ok := r.(string); !ok || len(s) < 4 || s[:4] != "ml: " {
			t.Errorf("got panic %v, want an \"ml: \" message", r)
		}
	}()
	fn()
}

// TestPrecisionRecallCurve checks against scikit-learn 1.3:
// precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) gives
// precision [0.5, 0.6667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0],
// thresholds [0.1, 0.35, 0.4, 0.8]; average_precision_score 0.8333.
func TestPrecisionRecallCurve(t *testing.T) {
	y := []float64{0, 0, 1, 1}
	s := []float64{0.1, 0.4, 0.35, 0.8}
	p, r, thr := ml.PrecisionRecallCurve(y, s)
	wantP := []float64{0.5, 2.0 / 3, 0.5, 1, 1}
	wantR := []float64{1, 1, 0.5, 0.5, 0}
	wantT := []float64{0.1, 0.35, 0.4, 0.8}
	for i := range wantP {
		if i >= len(p) || math.Abs(p[i]-wantP[i]) > 1e-9 || math.Abs(r[i]-wantR[i]) > 1e-9 {
			t.Fatalf("got precision %v recall %v, want %v %v", p, r, wantP, wantR)
		}
	}
	for i := range wantT {
		if thr[i] != wantT[i] {
			t.Fatalf("got thresholds %v, want %v", thr, wantT)
		}
	}
	if ap := ml.AveragePrecision(y, s); math.Abs(ap-0.8333333333) > 1e-6 {
		t.Errorf("AveragePrecision: got %.4f, want 0.8333", ap)
	}
}
