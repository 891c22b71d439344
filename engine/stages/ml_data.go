package stages

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/ml"
)

// Tasks a split can carry.
const (
	taskClassification = "classification"
	taskRegression     = "regression"
)

// Split is what flows along a split edge: the feature tables of the
// training and test rows in their current (preprocessed) form, the
// target coded as numbers, and the chain of preprocessing fitted on the
// training rows so far.
type Split struct {
	Train, Test   *frame.Frame // features only, preprocessed by Chain
	RawTrain      *frame.Frame // features as they entered the split
	RawTest       *frame.Frame
	YTrain, YTest []float64 // class codes 0..k-1, or values
	Target        string
	Task          string
	Classes       []string      // class labels by code (classification)
	Input         []InputColumn // the raw feature columns the chain starts from
	Chain         []*Step       // fitted preprocessing, in order
}

// InputColumn is a raw feature column a model needs: its name, type and,
// for categorical columns, the categories seen in training.
type InputColumn struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Categories []string `json:"categories,omitempty"`
}

// clone returns a shallow copy whose chain can be appended to without
// touching the original (fan-out branches share their input).
func (s *Split) clone() *Split {
	c := *s
	c.Chain = append([]*Step(nil), s.Chain...)
	return &c
}

// inferTask picks classification or regression from the target column:
// strings and bools are classes; integers with at most 20 distinct
// values are classes; everything else is regression.
func inferTask(c *frame.Column) string {
	switch c.Type {
	case frame.String, frame.Bool:
		return taskClassification
	case frame.Int:
		seen := map[int64]bool{}
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				continue
			}
			seen[c.Ints[i]] = true
			if len(seen) > 20 {
				return taskRegression
			}
		}
		return taskClassification
	case frame.Float, frame.Time:
		return taskRegression
	}
	return taskRegression
}

// labelOf formats a target value as a class label.
func labelOf(c *frame.Column, i int) string { return c.Str(i) }

// classesOf returns the sorted distinct labels of c (numerically for
// numbers), skipping missing values.
func classesOf(cols ...*frame.Column) []string {
	seen := map[string]bool{}
	numeric := true
	for _, c := range cols {
		numeric = numeric && c.Type != frame.String && c.Type != frame.Bool
		for i := 0; i < c.Len(); i++ {
			if !c.IsNull(i) {
				seen[labelOf(c, i)] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if numeric {
			a, _ := strconv.ParseFloat(out[i], 64)
			b, _ := strconv.ParseFloat(out[j], 64)
			return a < b
		}
		return out[i] < out[j]
	})
	return out
}

// encodeTarget turns a target column into numbers: class codes by the
// classes' order, or the values for regression. Rows with a missing
// target, or a class not among classes, are an error naming the row.
func encodeTarget(c *frame.Column, task string, classes []string) ([]float64, error) {
	y := make([]float64, c.Len())
	var code map[string]int
	if task == taskClassification {
		code = make(map[string]int, len(classes))
		for i, cl := range classes {
			code[cl] = i
		}
	}
	for i := range y {
		if c.IsNull(i) {
			return nil, fmt.Errorf("target %s is missing in row %d", c.Name, i+1)
		}
		if task == taskClassification {
			k, ok := code[labelOf(c, i)]
			if !ok {
				return nil, fmt.Errorf("target %s: class %q in row %d was not seen in training", c.Name, labelOf(c, i), i+1)
			}
			y[i] = float64(k)
			continue
		}
		v, ok := c.Float(i)
		if !ok {
			return nil, fmt.Errorf("target %s: row %d is not a number (%q); set task: classification for labels", c.Name, i+1, c.Str(i))
		}
		y[i] = v
	}
	return y, nil
}

// nonNumeric lists the columns of f an estimator cannot take.
func nonNumeric(s frame.Schema) []string {
	var out []string
	for _, f := range s {
		if f.Type == frame.String || f.Type == frame.Time {
			out = append(out, f.Name)
		}
	}
	return out
}

// matrix turns feature columns into a dense matrix, missing values as NaN.
// Columns must be numeric.
func matrix(f *frame.Frame) (*mat.Dense, error) {
	n, p := f.NumRows(), f.NumCols()
	if bad := nonNumeric(f.Schema()); len(bad) > 0 {
		return nil, fmt.Errorf("non-numeric feature columns %s reach the estimator: add a one_hot stage (or drop them)", strings.Join(bad, ", "))
	}
	if n == 0 {
		return nil, fmt.Errorf("no rows to fit on")
	}
	data := make([]float64, n*p)
	for j := 0; j < p; j++ {
		c := f.Col(j)
		if c.Type == frame.Float && !c.HasNulls() {
			for i, v := range c.Floats {
				data[i*p+j] = v
			}
			continue
		}
		for i := 0; i < n; i++ {
			v, ok := c.Float(i)
			if !ok {
				v = math.NaN()
			}
			data[i*p+j] = v
		}
	}
	return mat.NewDense(n, p, data), nil
}

// checkFinite returns an error naming the first column with a missing or
// infinite value; with missingOK (an estimator that takes missing values
// itself) only an infinite value is an error.
func checkFinite(X *mat.Dense, names []string, what string, missingOK bool) error {
	r, c := X.Dims()
	for j := 0; j < c; j++ {
		for i := 0; i < r; i++ {
			v := X.At(i, j)
			if missingOK && math.IsInf(v, 0) {
				return fmt.Errorf("%s column %s has an infinite value (row %d)", what, names[j], i+1)
			}
			if !missingOK && (math.IsNaN(v) || math.IsInf(v, 0)) {
				return fmt.Errorf("%s column %s has missing values (row %d): add an impute stage before the estimator", what, names[j], i+1)
			}
		}
	}
	return nil
}

// inputColumns describes the raw feature columns of the training table.
func inputColumns(f *frame.Frame) []InputColumn {
	out := make([]InputColumn, f.NumCols())
	for j := range out {
		c := f.Col(j)
		out[j] = InputColumn{Name: c.Name, Type: c.Type.String()}
		if c.Type == frame.String || c.Type == frame.Bool {
			out[j].Categories = classesOf(c)
		}
	}
	return out
}

// takesMissing reports whether est handles missing feature values (NaN)
// itself, so no impute stage is needed before it.
func takesMissing(est ml.Estimator) bool {
	m, ok := est.(ml.MissingValuer)
	return ok && m.TakesMissing()
}
