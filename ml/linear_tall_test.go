package ml_test

import (
	"math"
	"testing"

	"github.com/sluice-ml/sluice/ml"
)

// TestLinearTallMatchesScikitLearn compares Ridge and Lasso on the
// 100,000 × 20 benchmark set (bigLinear: written by TestWriteBenchCSV
// with every digit, read back with pandas' round_trip parser) with
// scikit-learn 1.2.1's Ridge(alpha=1.0) and Lasso(alpha=0.01) fitted on
// it, and ElasticNet(alpha=0.01, l1_ratio=0.5): every coefficient and
// the intercept within 1e-8.
func TestLinearTallMatchesScikitLearn(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 125,000 rows")
	}
	Xtr, _, _, _, ytr, _ := bigLinear()
	for _, tt := range []struct {
		name      string
		model     ml.Estimator
		intercept float64
		coef      []float64
	}{
		{"Ridge", &ml.Ridge{Alpha: 1, FitIntercept: true}, -0.0014287712102713749, []float64{0.841736078463054, 1.5643308438922177, -0.8096030982889205, -1.6411798898456103, 1.3143320317504663, -0.3862625663606431, -0.7449511809281462, -0.08895181558692038, 0.19883851303742892, 0.8135662760867127, -0.07468847854420389, -0.7336962953801821, 0.7313664906933746, 0.11932006489323735, 0.44384912163154594, -0.6501617741979655, -0.1195337625621187, -1.0539297675383665, 0.6981683447704312, -0.9238999108640503}},
		{"Lasso", &ml.Lasso{Alpha: 0.01, FitIntercept: true, MaxIter: 1000, Tol: 1e-4}, -0.0014287712102713781, []float64{0.8315104799532906, 1.5544498851125255, -0.7997016171911082, -1.6313121074116945, 1.3044191170468882, -0.37622407978098915, -0.734684257321974, -0.07879575508748544, 0.18887662933457353, 0.8034509780086305, -0.0647433679581277, -0.7238112259838618, 0.721435295684323, 0.1093229641798301, 0.4337351312992407, -0.6402728758339249, -0.10964698459009399, -1.0438965445851451, 0.6881821323573724, -0.9141334406412804}},
		{"ElasticNet", &ml.ElasticNet{Alpha: 0.01, L1Ratio: 0.5, FitIntercept: true, MaxIter: 1000, Tol: 1e-4}, -0.0014287712102713773, []float64{0.8323782947509265, 1.5516931587804126, -0.8007640988192102, -1.628176578182903, 1.3028982230216446, -0.379352274415549, -0.7360410775994954, -0.08337785515572663, 0.19284778579258313, 0.804443656810681, -0.06937167973667221, -0.72512324794171, 0.7228763738453079, 0.1137519480490494, 0.4365516753786952, -0.6420344403914016, -0.11410998104139461, -1.043700217941179, 0.6897549354122426, -0.9145481620690624}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.model.Fit(Xtr, ytr); err != nil {
				t.Fatal(err)
			}
			var coef []float64
			var icpt float64
			switch m := tt.model.(type) {
			case *ml.Ridge:
				coef, icpt = m.Coef, m.Intercept
			case *ml.Lasso:
				coef, icpt = m.Coef, m.Intercept
			case *ml.ElasticNet:
				coef, icpt = m.Coef, m.Intercept
			}
			worst := math.Abs(icpt - tt.intercept)
			for j := range coef {
				worst = math.Max(worst, math.Abs(coef[j]-tt.coef[j]))
			}
			t.Logf("%s: largest difference from scikit-learn %.1e", tt.name, worst)
			if worst > 1e-8 {
				t.Errorf("coefficients differ from scikit-learn's by %.1e, want <= 1e-8\ngot  %v %v\nwant %v %v", worst, icpt, coef, tt.intercept, tt.coef)
			}
		})
	}
}
