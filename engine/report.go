package engine

import "encoding/json"

// ReportFile is a report as its stage keeps it (the "report" artifact of
// an evaluate or cross_validate stage), typed on both sides: the stage
// catalog fills one and encodes it as JSON (engine/stages/ml_evaluate.go,
// ml_search.go), and `sluice report`, the workbench's report view and its
// model view's confusion matrix read it back with DecodeReport. No side
// looks a field up by name.
type ReportFile struct {
	Metrics map[string]float64 `json:"metrics"`
	Details ReportDetails      `json:"details"`
}

// ReportDetails are what a report keeps besides its metrics. evaluate
// fills Model, Stage and TestRows and then either a classifier's parts
// (Classes, Confusion, ROC, Curves) or a regressor's (Residuals, Points,
// Histogram), and Importances where the estimator has them;
// cross_validate fills Model and Folds. A part a stage did not fill is
// left out of the JSON.
//
// The fields are declared in the order of their JSON names, which is the
// order in which the JSON of a report has always listed them (it was
// written from a map, whose keys encoding/json sorts): the bytes of a
// report, and so its artifact's address, did not change when it became
// typed.
type ReportDetails struct {
	Curves      []ClassCurve       `json:"class_curves,omitempty"`
	Classes     []string           `json:"classes,omitempty"`
	Confusion   [][]int            `json:"confusion_matrix,omitempty"` // rows: true class, columns: predicted (Classes order)
	Importances []Importance       `json:"feature_importances,omitempty"`
	Folds       []float64          `json:"folds,omitempty"` // cross_validate: the score of each fold, in fold order
	Model       string             `json:"model,omitempty"` // the estimator's stage type
	Histogram   *ResidualHistogram `json:"residual_histogram,omitempty"`
	Points      *ResidualPoints    `json:"residual_points,omitempty"`
	Residuals   *ResidualSummary   `json:"residuals,omitempty"`
	ROC         *ROCCurve          `json:"roc_curve,omitempty"` // a binary classifier's ROC curve over every threshold
	Stage       string             `json:"stage,omitempty"`     // evaluate: the stage that trained the model
	TestRows    int                `json:"test_rows,omitempty"`
}

// ResidualSummary summarises a regressor's residuals (true − predicted).
type ResidualSummary struct {
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Std  float64 `json:"std"`
}

// ROCCurve is a binary classifier's ROC curve, point by point: at
// Thresholds[i] the false and true positive rates are FPR[i] and TPR[i]
// (an infinite threshold is kept as the largest float64, which JSON can
// hold).
type ROCCurve struct {
	FPR        []float64 `json:"fpr"`
	Thresholds []float64 `json:"thresholds"`
	TPR        []float64 `json:"tpr"`
}

// ClassCurve is one class against the rest: ROC and precision-recall.
type ClassCurve struct {
	Class            string    `json:"class"`
	FPR              []float64 `json:"fpr"`
	TPR              []float64 `json:"tpr"`
	ROCAUC           float64   `json:"roc_auc"`
	Precision        []float64 `json:"precision"`
	Recall           []float64 `json:"recall"`
	AveragePrecision float64   `json:"average_precision"`
}

// ResidualPoints are residuals against predictions (a sample).
type ResidualPoints struct {
	Predicted []float64 `json:"predicted"`
	Residual  []float64 `json:"residual"`
}

// ResidualHistogram counts residuals in equal bins.
type ResidualHistogram struct {
	Counts []int     `json:"counts"`
	Edges  []float64 `json:"edges"` // len(Counts)+1
}

// Importance is one feature's importance.
type Importance struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"importance"`
}

// DecodeReport reads a report artifact. It returns an error for bytes
// that are not a report (not JSON, or a part of the wrong type).
func DecodeReport(b []byte) (*ReportFile, error) {
	var rep ReportFile
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}
