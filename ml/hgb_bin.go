package ml

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Histogram gradient boosting quantises every feature once per fit into
// at most 255 bins, one byte per value, stored column by column so a
// node's histogram for one feature reads one contiguous column.
//
// Thresholds follow scikit-learn's HistGradientBoosting: a feature with at
// most maxBins distinct (non-missing) values gets a bin per value, cut at
// the midpoints between neighbours; any other feature is cut at its
// 1/maxBins, 2/maxBins, ... quantiles (the midpoint of the two order
// statistics around each). The quantiles come from at most hgbBinSample
// rows drawn with the fit's seed. A value x falls in bin b = the number of
// thresholds below x, so x <= thr[b] exactly for the values in bins 0..b.
// NaN, the missing value, has its own bin, maxBins, after all others.
const hgbBinSample = 200_000

// hgbBinner maps raw feature values to bin codes.
type hgbBinner struct {
	maxBins int         // bins for values; code maxBins is the missing bin
	thr     [][]float64 // per feature, ascending; len(thr[f])+1 value bins
}

// newHgbBinner finds the thresholds of each feature of the rows of x
// (row-major, stride columns apart) listed in rows, on all cores.
func newHgbBinner(x []float64, stride, d int, rows []int32, maxBins int, seed uint64) *hgbBinner {
	b := &hgbBinner{maxBins: maxBins, thr: make([][]float64, d)}
	sample := rows
	if len(rows) > hgbBinSample {
		rng := rand.New(rand.NewPCG(seed, hgbStreamBins))
		sample = slices.Clone(rows)
		for i := range hgbBinSample {
			j := i + rng.IntN(len(sample)-i)
			sample[i], sample[j] = sample[j], sample[i]
		}
		sample = sample[:hgbBinSample]
		slices.Sort(sample)
	}
	treeParallelBlocks(d, 1, func(lo, hi int) {
		col := make([]float64, 0, len(sample))
		for f := lo; f < hi; f++ {
			col = col[:0]
			for _, r := range sample {
				if v := x[int(r)*stride+f]; !math.IsNaN(v) {
					col = append(col, v)
				}
			}
			b.thr[f] = hgbThresholds(col, maxBins)
		}
	})
	return b
}

// hgbThresholds returns the bin thresholds of the non-missing values col
// (reordered in place).
func hgbThresholds(col []float64, maxBins int) []float64 {
	if len(col) == 0 {
		return nil
	}
	slices.Sort(col)
	distinct := 1
	for i := 1; i < len(col); i++ {
		if col[i] != col[i-1] {
			distinct++
		}
	}
	var thr []float64
	if distinct <= maxBins {
		thr = make([]float64, 0, distinct-1)
		for i := 1; i < len(col); i++ {
			if col[i] != col[i-1] {
				thr = append(thr, treeMid(col[i-1], col[i]))
			}
		}
	} else {
		// numpy's percentile with method "midpoint".
		thr = make([]float64, maxBins-1)
		last := float64(len(col) - 1)
		for q := range thr {
			pos := float64(q+1) / float64(maxBins) * last
			lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
			thr[q] = col[lo]/2 + col[hi]/2
		}
	}
	// An infinite threshold would make the last bin unreachable; keep
	// them finite as scikit-learn does.
	for i, t := range thr {
		thr[i] = math.Min(t, math.MaxFloat64)
	}
	return thr
}

// code returns the bin of v for feature f.
func (b *hgbBinner) code(f int, v float64) uint8 {
	if math.IsNaN(v) {
		return uint8(b.maxBins)
	}
	t := b.thr[f]
	lo, hi := 0, len(t)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if v <= t[m] {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return uint8(lo)
}

// codes bins the listed rows of x into a column-major matrix: the code of
// rows[i] for feature f at out[f*len(rows)+i]. It also reports which
// features had a missing value among those rows.
func (b *hgbBinner) codes(x []float64, stride int, rows []int32) (out []uint8, missing []bool) {
	d, n := len(b.thr), len(rows)
	out = make([]uint8, d*n)
	missing = make([]bool, d)
	treeParallelBlocks(d, 1, func(lo, hi int) {
		for f := lo; f < hi; f++ {
			col := out[f*n : (f+1)*n]
			for i, r := range rows {
				c := b.code(f, x[int(r)*stride+f])
				col[i] = c
				if int(c) == b.maxBins {
					missing[f] = true
				}
			}
		}
	})
	return out, missing
}
