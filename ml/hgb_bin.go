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
	padded  [][hgbHistBins]float64
}

// newHgbBinner finds the thresholds of each feature of the rows of x
// (row-major, stride columns apart) listed in rows (nil: all n rows), on
// all cores.
func newHgbBinner(x []float64, n, stride, d int, rows []int32, maxBins int, seed uint64) *hgbBinner {
	b := &hgbBinner{maxBins: maxBins, thr: make([][]float64, d)}
	if rows == nil && n > hgbBinSample {
		rows = make([]int32, n)
		for i := range rows {
			rows[i] = int32(i)
		}
	}
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
	b.padded = make([][hgbHistBins]float64, d)
	treeParallelBlocks(d, 1, func(lo, hi int) {
		m := len(sample)
		if sample == nil {
			m = n
		}
		col := make([]float64, 0, m)
		var keys, tmp []uint64
		for f := lo; f < hi; f++ {
			col = col[:0]
			if sample == nil {
				for i := range n {
					if v := x[i*stride+f]; !math.IsNaN(v) {
						col = append(col, v)
					}
				}
			}
			for _, r := range sample {
				if v := x[int(r)*stride+f]; !math.IsNaN(v) {
					col = append(col, v)
				}
			}
			keys, tmp = hgbSortFloats(col, keys, tmp)
			b.thr[f] = hgbThresholds(col, maxBins)
			p := &b.padded[f]
			copy(p[:], b.thr[f])
			for i := len(b.thr[f]); i < len(p); i++ {
				p[i] = math.Inf(1)
			}
		}
	})
	return b
}

// hgbSortFloats sorts v (no NaN) ascending with a radix sort on its bits
// (eight passes of a byte), using keys and tmp as scratch, and returns
// them for reuse.
func hgbSortFloats(v []float64, keys, tmp []uint64) ([]uint64, []uint64) {
	n := len(v)
	if n < 256 {
		slices.Sort(v)
		return keys, tmp
	}
	if cap(keys) < n {
		keys, tmp = make([]uint64, n), make([]uint64, n)
	}
	keys, tmp = keys[:n], tmp[:n]
	for i, x := range v {
		// Order-preserving map of a float's bits: flip every bit of a
		// negative number, only the sign bit of a positive one.
		u := math.Float64bits(x + 0) // -0 becomes +0
		u ^= uint64(int64(u)>>63) | 1<<63
		keys[i] = u
	}
	var count [256]int
	for shift := uint(0); shift < 64; shift += 8 {
		clear(count[:])
		for _, k := range keys {
			count[byte(k>>shift)]++
		}
		if count[byte(keys[0]>>shift)] == n {
			continue // every key has this byte
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range keys {
			b := byte(k >> shift)
			tmp[count[b]] = k
			count[b]++
		}
		keys, tmp = tmp, keys
	}
	for i, u := range keys {
		u ^= ^uint64(int64(u)>>63) | 1<<63
		v[i] = math.Float64frombits(u)
	}
	return keys, tmp
}

// hgbThresholds returns the bin thresholds of the sorted non-missing
// values col.
func hgbThresholds(col []float64, maxBins int) []float64 {
	if len(col) == 0 {
		return nil
	}
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
	// Count the thresholds below v by halving steps over the thresholds
	// padded with +Inf to 255: no branch to mispredict.
	t := &b.padded[f]
	i := 0
	for step := 128; step > 0; step >>= 1 {
		if t[i+step-1] < v {
			i += step
		}
	}
	return uint8(i)
}

// codes bins the listed rows of x (nil: all n rows) into a column-major
// matrix: the code of rows[i] for feature f at out[f*len(rows)+i]. It
// also reports which features had a missing value among those rows.
func (b *hgbBinner) codes(x []float64, n, stride int, rows []int32) (out []uint8, missing []bool) {
	d := len(b.thr)
	if rows != nil {
		n = len(rows)
	}
	out = make([]uint8, d*n)
	missing = make([]bool, d)
	treeParallelBlocks(d, 1, func(lo, hi int) {
		for f := lo; f < hi; f++ {
			col := out[f*n : (f+1)*n]
			for i := range col {
				r := i
				if rows != nil {
					r = int(rows[i])
				}
				c := b.code(f, x[r*stride+f])
				col[i] = c
				if int(c) == b.maxBins {
					missing[f] = true
				}
			}
		}
	})
	return out, missing
}
