package ml

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// StandardScaler removes each column's mean and divides by its
// population standard deviation, as scikit-learn's StandardScaler does.
// A column with zero variance gets scale 1. NaN values are treated as
// missing: ignored when fitting and kept as NaN by Transform (a column
// with no values at all gets mean 0 and scale 1, so the fitted values
// stay JSON-encodable).
//
// The zero value is ready to use.
type StandardScaler struct {
	// Mean, Var and Scale are the fitted per-column mean, population
	// variance and divisor (the standard deviation, or 1).
	Mean  []float64 `json:"mean"`
	Var   []float64 `json:"var"`
	Scale []float64 `json:"scale"`
	// NSamplesSeen counts the non-missing values seen per column.
	NSamplesSeen []int `json:"n_samples_seen"`
}

var _ Transformer = (*StandardScaler)(nil)

// Fit learns the per-column mean and standard deviation. It returns
// ErrEmpty if X has no rows and ErrNaN for an infinite value.
func (s *StandardScaler) Fit(X mat.Matrix) error {
	Xd := dense(X)
	r, c := Xd.Dims()
	if r == 0 || c == 0 {
		return fmt.Errorf("StandardScaler: %w", ErrEmpty)
	}
	mean := make([]float64, c)
	cnt := make([]int, c)
	for i := 0; i < r; i++ {
		for j, v := range Xd.RawRowView(i) {
			if math.IsNaN(v) {
				continue
			}
			if math.IsInf(v, 0) {
				return fmt.Errorf("StandardScaler: %w in X at row %d, column %d", ErrNaN, i, j)
			}
			mean[j] += v
			cnt[j]++
		}
	}
	for j := range mean {
		if cnt[j] > 0 { // an all-missing column keeps mean 0 and scale 1
			mean[j] /= float64(cnt[j])
		}
	}
	vr := make([]float64, c)
	for i := 0; i < r; i++ {
		for j, v := range Xd.RawRowView(i) {
			if !math.IsNaN(v) {
				d := v - mean[j]
				vr[j] += d * d
			}
		}
	}
	scale := make([]float64, c)
	for j := range vr {
		if cnt[j] > 0 {
			vr[j] /= float64(cnt[j])
		}
		// scikit-learn's _is_constant_feature: a variance within rounding
		// error of zero counts as zero.
		n := float64(cnt[j])
		if cnt[j] == 0 || vr[j] <= n*eps64*vr[j]+(n*mean[j]*eps64)*(n*mean[j]*eps64) {
			scale[j] = 1
		} else {
			scale[j] = math.Sqrt(vr[j])
		}
	}
	s.Mean, s.Var, s.Scale, s.NSamplesSeen = mean, vr, scale, cnt
	return nil
}

const eps64 = 2.220446049250313e-16

// Transform writes (X - Mean) / Scale into dst (allocated when nil or of
// the wrong shape) and returns it. dst may be X itself. It panics if the
// scaler is not fitted or X has the wrong number of columns.
func (s *StandardScaler) Transform(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	checkCols("StandardScaler", X, len(s.Mean))
	r, c := X.Dims()
	dst = copyInto(dst, X, r, c)
	for i := 0; i < r; i++ {
		row := dst.RawRowView(i)
		for j := range row {
			row[j] = (row[j] - s.Mean[j]) / s.Scale[j]
		}
	}
	return dst
}

// InverseTransform maps scaled rows back: X*Scale + Mean.
func (s *StandardScaler) InverseTransform(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	checkCols("StandardScaler", X, len(s.Mean))
	r, c := X.Dims()
	dst = copyInto(dst, X, r, c)
	for i := 0; i < r; i++ {
		row := dst.RawRowView(i)
		for j := range row {
			row[j] = row[j]*s.Scale[j] + s.Mean[j]
		}
	}
	return dst
}

// copyInto copies X into dst (sized r×c, reused if it fits) unless they
// are the same matrix.
func copyInto(dst *mat.Dense, X mat.Matrix, r, c int) *mat.Dense {
	if xd, ok := X.(*mat.Dense); ok && xd == dst {
		return dst
	}
	dst = denseDst(dst, r, c)
	dst.Copy(X)
	return dst
}

// MinMaxScaler maps each column linearly onto FeatureRange (default
// [0, 1]) using the training minimum and maximum, as scikit-learn's
// MinMaxScaler does. A constant column maps to FeatureRange[0]. NaN
// values are ignored when fitting and kept by Transform.
type MinMaxScaler struct {
	// FeatureRange is the target interval; the zero value means [0, 1].
	FeatureRange [2]float64 `json:"feature_range" ml:"param"`
	// Clip clamps transformed values into FeatureRange.
	Clip bool `json:"clip" ml:"param"`

	DataMin []float64 `json:"data_min"`
	DataMax []float64 `json:"data_max"`
	// Scale and Min give Transform: X*Scale + Min.
	Scale []float64 `json:"scale"`
	Min   []float64 `json:"min"`
}

var _ Transformer = (*MinMaxScaler)(nil)

// NewMinMaxScaler returns a scaler onto [0, 1].
func NewMinMaxScaler() *MinMaxScaler { return &MinMaxScaler{FeatureRange: [2]float64{0, 1}} }

// Fit learns each column's minimum and maximum. It returns ErrEmpty if X
// has no rows, ErrNaN for an infinite value, and an error if
// FeatureRange is not increasing.
func (s *MinMaxScaler) Fit(X mat.Matrix) error {
	if s.FeatureRange == [2]float64{} {
		s.FeatureRange = [2]float64{0, 1}
	}
	lo, hi := s.FeatureRange[0], s.FeatureRange[1]
	if !(lo < hi) {
		return fmt.Errorf("ml: MinMaxScaler: feature_range %v is not increasing", s.FeatureRange)
	}
	Xd := dense(X)
	r, c := Xd.Dims()
	if r == 0 || c == 0 {
		return fmt.Errorf("MinMaxScaler: %w", ErrEmpty)
	}
	dmin := make([]float64, c)
	dmax := make([]float64, c)
	for j := range dmin {
		dmin[j], dmax[j] = math.Inf(1), math.Inf(-1)
	}
	for i := 0; i < r; i++ {
		for j, v := range Xd.RawRowView(i) {
			if math.IsNaN(v) {
				continue
			}
			if math.IsInf(v, 0) {
				return fmt.Errorf("MinMaxScaler: %w in X at row %d, column %d", ErrNaN, i, j)
			}
			dmin[j] = math.Min(dmin[j], v)
			dmax[j] = math.Max(dmax[j], v)
		}
	}
	scale := make([]float64, c)
	mn := make([]float64, c)
	for j := range dmin {
		if math.IsInf(dmin[j], 1) { // all missing: an identity-like map
			dmin[j], dmax[j] = 0, 0
		}
		rng := dmax[j] - dmin[j]
		if !(rng > 10*eps64) { // scikit-learn's _handle_zeros_in_scale
			rng = 1
		}
		scale[j] = (hi - lo) / rng
		mn[j] = lo - dmin[j]*scale[j]
	}
	s.DataMin, s.DataMax, s.Scale, s.Min = dmin, dmax, scale, mn
	return nil
}

// Transform writes X*Scale + Min into dst (allocated when nil or of the
// wrong shape) and returns it. It panics if the scaler is not fitted or
// X has the wrong number of columns.
func (s *MinMaxScaler) Transform(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	checkCols("MinMaxScaler", X, len(s.Scale))
	r, c := X.Dims()
	dst = copyInto(dst, X, r, c)
	lo, hi := s.FeatureRange[0], s.FeatureRange[1]
	for i := 0; i < r; i++ {
		row := dst.RawRowView(i)
		for j := range row {
			v := row[j]*s.Scale[j] + s.Min[j]
			if s.Clip {
				v = math.Min(math.Max(v, lo), hi)
			}
			row[j] = v
		}
	}
	return dst
}

// Imputation strategies for SimpleImputer.Strategy.
const (
	ImputeMean         = "mean"
	ImputeMedian       = "median"
	ImputeMostFrequent = "most_frequent"
	ImputeConstant     = "constant"
)

// SimpleImputer replaces missing values (NaN) column by column with the
// training mean, median, most frequent value (the smallest on ties) or
// a constant, as scikit-learn's SimpleImputer does.
type SimpleImputer struct {
	// Strategy is "mean" (the zero value means mean), "median",
	// "most_frequent" or "constant".
	Strategy string `json:"strategy" ml:"param"`
	// FillValue is the constant for Strategy "constant".
	FillValue float64 `json:"fill_value" ml:"param"`

	// Statistics holds the fitted fill value per column.
	Statistics []float64 `json:"statistics"`
}

var _ Transformer = (*SimpleImputer)(nil)

// Fit learns one fill value per column from its non-missing values. It
// returns an error for an unknown strategy, ErrEmpty for a column with
// no values under a strategy other than "constant" (scikit-learn drops
// such columns; sluice keeps shapes fixed and refuses), and ErrNaN for
// an infinite value.
func (s *SimpleImputer) Fit(X mat.Matrix) error {
	if s.Strategy == "" {
		s.Strategy = ImputeMean
	}
	Xd := dense(X)
	r, c := Xd.Dims()
	if r == 0 || c == 0 {
		return fmt.Errorf("SimpleImputer: %w", ErrEmpty)
	}
	switch s.Strategy {
	case ImputeMean, ImputeMedian, ImputeMostFrequent, ImputeConstant:
	default:
		return fmt.Errorf("ml: SimpleImputer: unknown strategy %q (want mean, median, most_frequent or constant)", s.Strategy)
	}
	stats := make([]float64, c)
	col := make([]float64, 0, r)
	for j := 0; j < c; j++ {
		col = col[:0]
		for i := 0; i < r; i++ {
			v := Xd.At(i, j)
			if math.IsInf(v, 0) {
				return fmt.Errorf("SimpleImputer: %w in X at row %d, column %d", ErrNaN, i, j)
			}
			if !math.IsNaN(v) {
				col = append(col, v)
			}
		}
		if s.Strategy == ImputeConstant {
			stats[j] = s.FillValue
			continue
		}
		if len(col) == 0 {
			return fmt.Errorf("SimpleImputer: column %d has only missing values: %w", j, ErrEmpty)
		}
		switch s.Strategy {
		case ImputeMean:
			var sum float64
			for _, v := range col {
				sum += v
			}
			stats[j] = sum / float64(len(col))
		case ImputeMedian:
			sort.Float64s(col)
			m := len(col) / 2
			if len(col)%2 == 1 {
				stats[j] = col[m]
			} else {
				stats[j] = (col[m-1] + col[m]) / 2
			}
		case ImputeMostFrequent:
			sort.Float64s(col)
			best, bestN := col[0], 0
			for i := 0; i < len(col); {
				k := i
				for k < len(col) && col[k] == col[i] {
					k++
				}
				if k-i > bestN { // strictly more: ties keep the smaller value
					best, bestN = col[i], k-i
				}
				i = k
			}
			stats[j] = best
		}
	}
	s.Statistics = stats
	return nil
}

// Transform writes X with each NaN replaced by its column's fill value
// into dst and returns it. It panics if the imputer is not fitted or X
// has the wrong number of columns.
func (s *SimpleImputer) Transform(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	checkCols("SimpleImputer", X, len(s.Statistics))
	r, c := X.Dims()
	dst = copyInto(dst, X, r, c)
	for i := 0; i < r; i++ {
		row := dst.RawRowView(i)
		for j, v := range row {
			if math.IsNaN(v) {
				row[j] = s.Statistics[j]
			}
		}
	}
	return dst
}
