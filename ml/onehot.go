package ml

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/mat"
)

// OneHotEncoder turns categorical columns into 0/1 indicator columns,
// one per category seen in training, as scikit-learn's OneHotEncoder with
// handle_unknown="ignore" and dense output does: a category not seen in
// training encodes as all zeros. Categories are sorted (strings
// lexically, numbers numerically), so the output columns are the input
// columns' categories in that order, column after column.
//
// Two ways in: FitStrings/TransformStrings take string columns (the
// usual case, e.g. a frame's categorical columns, with "" a category
// like any other); Fit/Transform implement Transformer for category codes
// carried as float64 (NaN is a category of its own, sorted last).
type OneHotEncoder struct {
	// Categories holds each input column's sorted categories. For a
	// numeric fit they are the numbers formatted with
	// strconv.FormatFloat(v, 'g', -1, 64).
	Categories [][]string `json:"categories"`
	// Values holds the numeric categories (without NaN) after a numeric
	// Fit, nil after FitStrings; NaNCategory says which columns also have
	// NaN as a category, the last one.
	Values      [][]float64 `json:"values,omitempty"`
	NaNCategory []bool      `json:"nan_category,omitempty"`
}

var _ Transformer = (*OneHotEncoder)(nil)

// FitStrings learns the categories of each column; cols[j] holds column
// j's values, one per row. It returns ErrEmpty when there are no columns
// or no rows and panics if the columns differ in length.
func (e *OneHotEncoder) FitStrings(cols [][]string) error {
	if len(cols) == 0 || len(cols[0]) == 0 {
		return fmt.Errorf("OneHotEncoder: %w", ErrEmpty)
	}
	cats := make([][]string, len(cols))
	for j, col := range cols {
		if len(col) != len(cols[0]) {
			panic(fmt.Sprintf("ml: OneHotEncoder: column %d has %d values, column 0 has %d", j, len(col), len(cols[0])))
		}
		seen := map[string]bool{}
		for _, v := range col {
			if !seen[v] {
				seen[v] = true
				cats[j] = append(cats[j], v)
			}
		}
		sort.Strings(cats[j])
	}
	e.Categories, e.Values, e.NaNCategory = cats, nil, nil
	return nil
}

// NumOutputs is the number of indicator columns Transform writes.
func (e *OneHotEncoder) NumOutputs() int {
	n := 0
	for _, c := range e.Categories {
		n += len(c)
	}
	return n
}

// TransformStrings writes the indicator columns for the string columns
// cols (cols[j] is column j, one value per row) into dst and returns it.
// It panics if the encoder was not fitted with FitStrings or the number
// of columns differs.
func (e *OneHotEncoder) TransformStrings(dst *mat.Dense, cols [][]string) *mat.Dense {
	if e.Categories == nil || e.Values != nil {
		panic("ml: OneHotEncoder: TransformStrings needs a FitStrings fit")
	}
	if len(cols) != len(e.Categories) {
		panic(fmt.Sprintf("ml: OneHotEncoder: got %d columns, fitted on %d", len(cols), len(e.Categories)))
	}
	n := len(cols[0])
	dst = denseDst(dst, n, e.NumOutputs())
	dst.Zero()
	off := 0
	for j, col := range cols {
		if len(col) != n {
			panic(fmt.Sprintf("ml: OneHotEncoder: column %d has %d values, column 0 has %d", j, len(col), n))
		}
		cats := e.Categories[j]
		for i, v := range col {
			if k := sort.SearchStrings(cats, v); k < len(cats) && cats[k] == v {
				dst.Set(i, off+k, 1)
			}
		}
		off += len(cats)
	}
	return dst
}

// Fit learns the categories of each column of X, whose values are
// category codes (any float64; NaN is its own category). It returns
// ErrEmpty if X has no rows.
func (e *OneHotEncoder) Fit(X mat.Matrix) error {
	r, c := X.Dims()
	if r == 0 || c == 0 {
		return fmt.Errorf("OneHotEncoder: %w", ErrEmpty)
	}
	vals := make([][]float64, c)
	cats := make([][]string, c)
	nanCat := make([]bool, c)
	for j := 0; j < c; j++ {
		seen := map[float64]bool{}
		vals[j] = []float64{}
		for i := 0; i < r; i++ {
			v := X.At(i, j)
			if math.IsNaN(v) {
				nanCat[j] = true
			} else if !seen[v] {
				seen[v] = true
				vals[j] = append(vals[j], v)
			}
		}
		sort.Float64s(vals[j])
		for _, v := range vals[j] {
			cats[j] = append(cats[j], strconv.FormatFloat(v, 'g', -1, 64))
		}
		if nanCat[j] {
			cats[j] = append(cats[j], "NaN")
		}
	}
	e.Categories, e.Values, e.NaNCategory = cats, vals, nanCat
	return nil
}

// Transform writes the indicator columns for the numeric category codes
// in X into dst and returns it. It panics if the encoder was not fitted
// with Fit or X has the wrong number of columns.
func (e *OneHotEncoder) Transform(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	if e.Values == nil {
		panic("ml: OneHotEncoder: Transform needs a numeric Fit (use TransformStrings)")
	}
	checkCols("OneHotEncoder", X, len(e.Values))
	r, _ := X.Dims()
	dst = denseDst(dst, r, e.NumOutputs())
	dst.Zero()
	off := 0
	for j, vals := range e.Values {
		nv := len(vals)
		for i := 0; i < r; i++ {
			v := X.At(i, j)
			if math.IsNaN(v) {
				if e.NaNCategory[j] {
					dst.Set(i, off+nv, 1)
				}
				continue
			}
			if k := sort.SearchFloat64s(vals, v); k < nv && vals[k] == v {
				dst.Set(i, off+k, 1)
			}
		}
		off += len(e.Categories[j])
	}
	return dst
}

// FeatureNames names the output columns "<input>_<category>" as
// scikit-learn's get_feature_names_out does. It panics if len(inputs)
// differs from the number of fitted columns.
func (e *OneHotEncoder) FeatureNames(inputs []string) []string {
	if len(inputs) != len(e.Categories) {
		panic(fmt.Sprintf("ml: OneHotEncoder: got %d names, fitted on %d columns", len(inputs), len(e.Categories)))
	}
	var out []string
	for j, cats := range e.Categories {
		for _, c := range cats {
			out = append(out, inputs[j]+"_"+c)
		}
	}
	return out
}
