package stages

import (
	"context"
	"encoding/json"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ml"
)

func evaluateStage() *engine.StageType {
	return &engine.StageType{
		Name: "evaluate", Group: "evaluate", Doc: "score a model on its held-out test rows: metrics, confusion matrix, curves, importances",
		In: engine.KindModel, MinIn: 1, MaxIn: 1, Out: engine.KindReport,
		Run: func(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
			m, err := modelOf(sc.Inputs[0])
			if err != nil {
				return nil, err
			}
			rep, err := evaluate(m)
			if err != nil {
				return nil, err
			}
			sc.Logf("%s on %d test rows: %s", m.Type, len(m.Split.YTest), engine.MetricsLine(rep.Metrics, 0))
			return reportOutput(rep)
		},
	}
}

func reportOutput(rep *Report) (*engine.Output, error) {
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	return &engine.Output{
		Value:     rep,
		Metrics:   finiteMetrics(rep.Metrics),
		Artifacts: []engine.Artifact{{ArtifactInfo: engine.ArtifactInfo{Name: "report", Format: "json"}, Data: b}},
	}, nil
}

// evaluate computes the full report of a model on its test rows.
func evaluate(m *Model) (*Report, error) {
	s := m.Split
	X, err := matrix(s.Test)
	if err != nil {
		return nil, err
	}
	pred := m.Estimator.Predict(nil, X)
	rep := &Report{Metrics: map[string]float64{}, Details: engine.ReportDetails{Model: m.Type, Stage: m.Stage, TestRows: len(pred)}}
	switch {
	case m.Type == "kmeans":
		rep.Metrics["inertia"] = kmeansInertia(m.Estimator)
		if s.Task == taskClassification {
			rep.Metrics["ari"] = ml.AdjustedRandIndex(toInts(s.YTest), toInts(pred))
		}
	case s.Task == taskClassification:
		y := s.YTest
		rep.Metrics["accuracy"] = ml.Accuracy(y, pred)
		rep.Metrics["precision_macro"] = ml.Precision(y, pred, ml.Macro)
		rep.Metrics["recall_macro"] = ml.Recall(y, pred, ml.Macro)
		rep.Metrics["f1_macro"] = ml.F1(y, pred, ml.Macro)
		rep.Details.Classes = s.Classes
		rep.Details.Confusion = ml.ConfusionMatrix(y, pred, len(s.Classes))
		if c, ok := m.Estimator.(ml.Classifier); ok && distinct(y) > 1 {
			proba := c.PredictProba(nil, X)
			if len(s.Classes) == 2 {
				score := mat.Col(nil, 1, proba)
				rep.Metrics["roc_auc"] = ml.ROCAUC(y, score)
				fpr, tpr, thr := ml.ROCCurve(y, score)
				rep.Details.ROC = &engine.ROCCurve{FPR: fpr, TPR: tpr, Thresholds: finite(thr)}
			} else if distinct(y) == len(s.Classes) {
				rep.Metrics["roc_auc_ovr"] = ml.ROCAUCOvR(y, proba)
			}
			rep.Metrics["log_loss"] = ml.LogLoss(y, proba)
			rep.Details.Curves = classCurves(y, proba, s.Classes)
		}
	default:
		y := s.YTest
		rep.Metrics["r2"] = ml.R2(y, pred)
		rep.Metrics["rmse"] = ml.RMSE(y, pred)
		rep.Metrics["mae"] = ml.MAE(y, pred)
		res := make([]float64, len(y))
		for i := range y {
			res[i] = y[i] - pred[i]
		}
		mean, std, lo, hi := summary(res)
		rep.Metrics["residual_mean"], rep.Metrics["residual_std"] = mean, std
		rep.Details.Residuals = &engine.ResidualSummary{Mean: mean, Std: std, Min: lo, Max: hi}
		idx := thinIndex(len(y), maxCurvePoints)
		pts := &engine.ResidualPoints{Predicted: make([]float64, len(idx)), Residual: make([]float64, len(idx))}
		for j, i := range idx {
			pts.Predicted[j], pts.Residual[j] = pred[i], res[i]
		}
		rep.Details.Points = pts
		rep.Details.Histogram = histogram(res, 20, lo, hi)
	}
	if imp := importances(m.Estimator); len(imp) == len(m.Features) {
		list := make([]engine.Importance, len(imp))
		for i, v := range imp {
			list[i] = engine.Importance{Feature: m.Features[i], Value: v}
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].Value > list[j].Value })
		rep.Details.Importances = list
	}
	return rep, nil
}

// maxCurvePoints bounds the points a report keeps of a curve or a
// scatter, so a report stays small whatever the test set.
const maxCurvePoints = 500

// classCurves computes each class's curves one-vs-rest from the
// predicted probabilities (a class absent from the test rows, or the
// only one there, has none).
func classCurves(y []float64, proba *mat.Dense, classes []string) []engine.ClassCurve {
	var out []engine.ClassCurve
	for k, name := range classes {
		yk := make([]float64, len(y))
		pos := 0
		for i := range y {
			if y[i] == float64(k) {
				yk[i] = 1
				pos++
			}
		}
		if pos == 0 || pos == len(y) {
			continue
		}
		score := mat.Col(nil, k, proba)
		fpr, tpr, _ := ml.ROCCurve(yk, score)
		prec, rec, _ := ml.PrecisionRecallCurve(yk, score)
		c := engine.ClassCurve{Class: name, ROCAUC: ml.ROCAUC(yk, score), AveragePrecision: ml.AveragePrecision(yk, score)}
		for _, i := range thinIndex(len(fpr), maxCurvePoints) {
			c.FPR, c.TPR = append(c.FPR, fpr[i]), append(c.TPR, tpr[i])
		}
		for _, i := range thinIndex(len(prec), maxCurvePoints) {
			c.Precision, c.Recall = append(c.Precision, prec[i]), append(c.Recall, rec[i])
		}
		out = append(out, c)
	}
	return out
}

// thinIndex returns at most limit indexes of n, evenly spaced, the first
// and last always among them.
func thinIndex(n, limit int) []int {
	if n <= limit {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, limit)
	for j := range out {
		out[j] = j * (n - 1) / (limit - 1)
	}
	return out
}

// histogram counts v in bins equal bins over [lo, hi].
func histogram(v []float64, bins int, lo, hi float64) *engine.ResidualHistogram {
	counts := make([]int, bins)
	width := (hi - lo) / float64(bins)
	for _, x := range v {
		b := 0
		if width > 0 {
			b = min(int((x-lo)/width), bins-1)
		}
		counts[max(b, 0)]++
	}
	edges := make([]float64, bins+1)
	for i := range edges {
		edges[i] = lo + float64(i)*width
	}
	return &engine.ResidualHistogram{Counts: counts, Edges: edges}
}

func distinct(y []float64) int {
	seen := map[float64]bool{}
	for _, v := range y {
		seen[v] = true
	}
	return len(seen)
}

func finite(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		if math.IsInf(x, 1) {
			x = math.MaxFloat64
		}
		out[i] = x
	}
	return out
}

func summary(v []float64) (mean, std, lo, hi float64) {
	if len(v) == 0 {
		return
	}
	lo, hi = v[0], v[0]
	for _, x := range v {
		mean += x
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	std = math.Sqrt(std / float64(len(v)))
	return
}
