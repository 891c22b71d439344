package ml

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// The metrics are pure functions following scikit-learn's names and
// definitions. They panic on caller bugs (slices of different lengths,
// empty input) and return NaN where scikit-learn raises for an undefined
// value (for example ROC AUC with one class present).

func checkSameLen(name string, a, b []float64) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("ml: %s: %d true values, %d predictions", name, len(a), len(b)))
	}
	if len(a) == 0 {
		panic(fmt.Sprintf("ml: %s: no values", name))
	}
}

// Accuracy is the fraction of predictions equal to the truth.
func Accuracy(yTrue, yPred []float64) float64 {
	checkSameLen("Accuracy", yTrue, yPred)
	ok := 0
	for i, v := range yTrue {
		if v == yPred[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(yTrue))
}

// Average says how per-class precision, recall and F1 are combined.
type Average int

const (
	// Macro is the unweighted mean over the classes present in the
	// truth or the predictions.
	Macro Average = iota
	// Weighted weights each class by its number of true rows.
	Weighted
	// Binary reports class 1 only (scikit-learn's pos_label=1).
	Binary
	// Micro counts all true positives, false positives and false
	// negatives together.
	Micro
)

// String gives scikit-learn's name for the average.
func (a Average) String() string {
	switch a {
	case Macro:
		return "macro"
	case Weighted:
		return "weighted"
	case Binary:
		return "binary"
	case Micro:
		return "micro"
	}
	return fmt.Sprintf("Average(%d)", int(a))
}

// prf computes per-class true positive, predicted and true counts over
// the sorted union of labels.
func prf(name string, yTrue, yPred []float64) (labels []float64, tp, pred, actual []float64) {
	checkSameLen(name, yTrue, yPred)
	idx := map[float64]int{}
	for _, v := range yTrue {
		idx[v] = 0
	}
	for _, v := range yPred {
		idx[v] = 0
	}
	for v := range idx {
		labels = append(labels, v)
	}
	sort.Float64s(labels)
	for i, v := range labels {
		idx[v] = i
	}
	k := len(labels)
	tp, pred, actual = make([]float64, k), make([]float64, k), make([]float64, k)
	for i, t := range yTrue {
		a, p := idx[t], idx[yPred[i]]
		actual[a]++
		pred[p]++
		if a == p {
			tp[a]++
		}
	}
	return labels, tp, pred, actual
}

func div0(a, b float64) float64 {
	if b == 0 {
		return 0 // zero_division=0
	}
	return a / b
}

// scores returns per-class precision, recall, F1 and support.
func classScores(name string, yTrue, yPred []float64) (labels, prec, rec, f1, support []float64) {
	labels, tp, pred, actual := prf(name, yTrue, yPred)
	k := len(labels)
	prec, rec, f1 = make([]float64, k), make([]float64, k), make([]float64, k)
	for c := 0; c < k; c++ {
		prec[c] = div0(tp[c], pred[c])
		rec[c] = div0(tp[c], actual[c])
		f1[c] = div0(2*tp[c], pred[c]+actual[c])
	}
	return labels, prec, rec, f1, actual
}

func average(name string, a Average, yTrue, yPred []float64, pick func(p, r, f []float64) []float64, micro func(tp, pred, actual float64) float64) float64 {
	switch a {
	case Micro:
		_, tp, pred, actual := prf(name, yTrue, yPred)
		var t, p, s float64
		for c := range tp {
			t += tp[c]
			p += pred[c]
			s += actual[c]
		}
		return micro(t, p, s)
	case Binary:
		labels, tp, pred, actual := prf(name, yTrue, yPred)
		for _, l := range labels {
			if l != 0 && l != 1 {
				panic(fmt.Sprintf("ml: %s: average=binary needs labels 0 and 1, got %v", name, l))
			}
		}
		for c, l := range labels {
			if l == 1 {
				return micro(tp[c], pred[c], actual[c])
			}
		}
		return 0
	}
	_, p, r, f, support := classScores(name, yTrue, yPred)
	vals := pick(p, r, f)
	var sum, wsum float64
	for c, v := range vals {
		switch a {
		case Macro:
			sum += v
			wsum++
		case Weighted:
			sum += v * support[c]
			wsum += support[c]
		default:
			panic(fmt.Sprintf("ml: %s: unknown average %v", name, a))
		}
	}
	return div0(sum, wsum)
}

// Precision is tp / (tp + fp), averaged over classes as a says; a class
// never predicted counts 0 (scikit-learn's zero_division=0).
func Precision(yTrue, yPred []float64, a Average) float64 {
	return average("Precision", a, yTrue, yPred,
		func(p, _, _ []float64) []float64 { return p },
		func(tp, pred, _ float64) float64 { return div0(tp, pred) })
}

// Recall is tp / (tp + fn), averaged over classes as a says.
func Recall(yTrue, yPred []float64, a Average) float64 {
	return average("Recall", a, yTrue, yPred,
		func(_, r, _ []float64) []float64 { return r },
		func(tp, _, actual float64) float64 { return div0(tp, actual) })
}

// F1 is the harmonic mean of precision and recall, 2tp / (2tp + fp +
// fn), averaged over classes as a says; 0 where undefined.
func F1(yTrue, yPred []float64, a Average) float64 {
	return average("F1", a, yTrue, yPred,
		func(_, _, f []float64) []float64 { return f },
		func(tp, pred, actual float64) float64 { return div0(2*tp, pred+actual) })
}

// ConfusionMatrix counts rows by true class (row) and predicted class
// (column) for class codes 0..k-1. k <= 0 means the largest code + 1. It
// panics on a value that is not a code below k.
func ConfusionMatrix(yTrue, yPred []float64, k int) [][]int {
	checkSameLen("ConfusionMatrix", yTrue, yPred)
	if k <= 0 {
		for i := range yTrue {
			k = max(k, int(yTrue[i])+1, int(yPred[i])+1)
		}
	}
	cm := make([][]int, k)
	for i := range cm {
		cm[i] = make([]int, k)
	}
	code := func(v float64) int {
		if v < 0 || v != math.Trunc(v) || int(v) >= k {
			panic(fmt.Sprintf("ml: ConfusionMatrix: %v is not a class code below %d", v, k))
		}
		return int(v)
	}
	for i, t := range yTrue {
		cm[code(t)][code(yPred[i])]++
	}
	return cm
}

// binaryCurve is scikit-learn's _binary_clf_curve: cumulative false and
// true positives at each distinct score, highest score first, with rows
// whose label equals pos positive and all others negative.
func binaryCurve(yTrue, score []float64, pos float64) (fps, tps, thr []float64) {
	n := len(yTrue)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return score[order[a]] > score[order[b]] })
	var tp, fp float64
	for k, i := range order {
		if yTrue[i] == pos {
			tp++
		} else {
			fp++
		}
		if k == n-1 || score[order[k+1]] != score[i] {
			fps = append(fps, fp)
			tps = append(tps, tp)
			thr = append(thr, score[i])
		}
	}
	return fps, tps, thr
}

// ROCCurve gives the receiver operating characteristic of scores for
// the positive class 1 (anything else is negative): false and true
// positive rates at each threshold, highest threshold first, as
// scikit-learn 1.2's roc_curve with drop_intermediate=true: points on a
// straight segment are dropped, and a first point (0, 0) is added with
// threshold = the highest score + 1. With no positives (or no
// negatives) the corresponding rate is NaN.
func ROCCurve(yTrue, score []float64) (fpr, tpr, thresholds []float64) {
	checkSameLen("ROCCurve", yTrue, score)
	fps, tps, thr := binaryCurve(yTrue, score, 1)
	if len(fps) > 2 { // drop_intermediate
		keep := []int{0}
		for i := 1; i < len(fps)-1; i++ {
			d2f := fps[i+1] - 2*fps[i] + fps[i-1]
			d2t := tps[i+1] - 2*tps[i] + tps[i-1]
			if d2f != 0 || d2t != 0 {
				keep = append(keep, i)
			}
		}
		keep = append(keep, len(fps)-1)
		f2, t2, h2 := make([]float64, len(keep)), make([]float64, len(keep)), make([]float64, len(keep))
		for j, i := range keep {
			f2[j], t2[j], h2[j] = fps[i], tps[i], thr[i]
		}
		fps, tps, thr = f2, t2, h2
	}
	fps = append([]float64{0}, fps...)
	tps = append([]float64{0}, tps...)
	thr = append([]float64{thr[0] + 1}, thr...)
	P, N := tps[len(tps)-1], fps[len(fps)-1]
	fpr, tpr = make([]float64, len(fps)), make([]float64, len(tps))
	for i := range fps {
		fpr[i] = fps[i] / N
		tpr[i] = tps[i] / P
	}
	return fpr, tpr, thr
}

// PrecisionRecallCurve gives precision and recall of scores for the
// positive class 1 at each distinct threshold, as scikit-learn's
// precision_recall_curve: recall decreasing, ending at the point
// (recall 0, precision 1), which has no threshold; every threshold is
// kept (scikit-learn 1.1 and later). With no positives
// recall is NaN. It panics if the lengths differ.
func PrecisionRecallCurve(yTrue, score []float64) (precision, recall, thresholds []float64) {
	checkSameLen("PrecisionRecallCurve", yTrue, score)
	fps, tps, thr := binaryCurve(yTrue, score, 1)
	P := tps[len(tps)-1]
	// Lowest threshold first: recall decreasing (scikit-learn 1.1 on).
	for i := len(tps) - 1; i >= 0; i-- {
		p := tps[i] / (tps[i] + fps[i])
		if tps[i]+fps[i] == 0 {
			p = 1
		}
		precision = append(precision, p)
		recall = append(recall, tps[i]/P)
		thresholds = append(thresholds, thr[i])
	}
	precision = append(precision, 1)
	recall = append(recall, 0)
	return precision, recall, thresholds
}

// AveragePrecision summarises a precision-recall curve as the mean of
// precisions at each threshold weighted by the increase in recall, as
// scikit-learn's average_precision_score (no interpolation).
func AveragePrecision(yTrue, score []float64) float64 {
	p, r, _ := PrecisionRecallCurve(yTrue, score)
	var ap float64
	for i := 0; i+1 < len(r); i++ {
		ap += (r[i] - r[i+1]) * p[i]
	}
	return ap
}

// AUC is the area under the curve through the points (x[i], y[i]) by the
// trapezoidal rule; x must be monotonic.
func AUC(x, y []float64) float64 {
	checkSameLen("AUC", x, y)
	var a float64
	for i := 1; i < len(x); i++ {
		a += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	if len(x) > 1 && x[len(x)-1] < x[0] {
		a = -a
	}
	return a
}

// ROCAUC is the area under the ROC curve of scores for class 1 against
// the rest. It is NaN when yTrue holds only one class (scikit-learn
// raises).
func ROCAUC(yTrue, score []float64) float64 {
	checkSameLen("ROCAUC", yTrue, score)
	fps, tps, _ := binaryCurve(yTrue, score, 1)
	P, N := tps[len(tps)-1], fps[len(fps)-1]
	if P == 0 || N == 0 {
		return math.NaN()
	}
	var a, pf, pt float64
	for i := range fps {
		a += (fps[i] - pf) * (tps[i] + pt) / 2
		pf, pt = fps[i], tps[i]
	}
	return a / (P * N)
}

// ROCAUCOvR is the multiclass ROC AUC from class probabilities (one
// column per class code): the unweighted mean over classes of each
// class's one-vs-rest AUC, as scikit-learn's roc_auc_score with
// multi_class="ovr", average="macro". With two columns it is the binary
// AUC of column 1. It is NaN when a class has no rows in yTrue.
func ROCAUCOvR(yTrue []float64, proba mat.Matrix) float64 {
	r, k := proba.Dims()
	if r != len(yTrue) {
		panic(fmt.Sprintf("ml: ROCAUCOvR: %d true values, %d probability rows", len(yTrue), r))
	}
	col := make([]float64, r)
	if k == 2 {
		mat.Col(col, 1, proba)
		return ROCAUC(yTrue, col)
	}
	bin := make([]float64, r)
	var sum float64
	for c := 0; c < k; c++ {
		mat.Col(col, c, proba)
		for i, v := range yTrue {
			if v == float64(c) {
				bin[i] = 1
			} else {
				bin[i] = 0
			}
		}
		sum += ROCAUC(bin, col)
	}
	return sum / float64(k)
}

// LogLoss is the mean negative log-likelihood of the true class codes
// under proba (one column per class code), as scikit-learn 1.2's
// log_loss: probabilities are clipped to [eps, 1-eps] with eps the
// float64 machine epsilon, and each row is renormalised to sum to 1.
// It panics if a true class has no column.
func LogLoss(yTrue []float64, proba mat.Matrix) float64 {
	r, k := proba.Dims()
	if r != len(yTrue) || r == 0 {
		panic(fmt.Sprintf("ml: LogLoss: %d true values, %d probability rows", len(yTrue), r))
	}
	var loss float64
	for i, t := range yTrue {
		c := int(t)
		if t != float64(c) || c < 0 || c >= k {
			panic(fmt.Sprintf("ml: LogLoss: y[%d] = %v is not a class code below %d", i, t, k))
		}
		var sum, pc float64
		for q := 0; q < k; q++ {
			v := math.Min(math.Max(proba.At(i, q), eps64), 1-eps64)
			sum += v
			if q == c {
				pc = v
			}
		}
		loss -= math.Log(pc / sum)
	}
	return loss / float64(r)
}

// R2 is the coefficient of determination, 1 - SS_res/SS_tot. For a
// constant yTrue it is 1 when the predictions are exact, else 0
// (scikit-learn's force_finite).
func R2(yTrue, yPred []float64) float64 {
	checkSameLen("R2", yTrue, yPred)
	var mean float64
	for _, v := range yTrue {
		mean += v
	}
	mean /= float64(len(yTrue))
	var res, tot float64
	for i, v := range yTrue {
		d := v - yPred[i]
		res += d * d
		e := v - mean
		tot += e * e
	}
	if tot == 0 {
		if res == 0 {
			return 1
		}
		return 0
	}
	return 1 - res/tot
}

// MSE is the mean squared error.
func MSE(yTrue, yPred []float64) float64 {
	checkSameLen("MSE", yTrue, yPred)
	var s float64
	for i, v := range yTrue {
		d := v - yPred[i]
		s += d * d
	}
	return s / float64(len(yTrue))
}

// RMSE is the root mean squared error.
func RMSE(yTrue, yPred []float64) float64 { return math.Sqrt(MSE(yTrue, yPred)) }

// MAE is the mean absolute error.
func MAE(yTrue, yPred []float64) float64 {
	checkSameLen("MAE", yTrue, yPred)
	var s float64
	for i, v := range yTrue {
		s += math.Abs(v - yPred[i])
	}
	return s / float64(len(yTrue))
}
