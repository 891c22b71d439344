package ml

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// Split finding in the tree models works on a quantised copy of the
// training matrix. Each feature's values are mapped to small integer
// codes once per fit (for a forest or a boosting run, once for all its
// trees), and a node is split by accumulating class counts or target sums
// per code.
//
// The max_bins setting chooses between exact and binned splits. With
// max_bins 0 every feature gets one code per distinct value: its splits
// are exactly scikit-learn's, thresholds at the midpoint between the
// largest value sent left and the smallest sent right among the node's
// rows. With max_bins m, so does a feature with at most m distinct values,
// and so does every feature when the training set has at most
// treeExactRows rows; other features are cut into m bins of about equal
// counts at midpoints between distinct values (as LightGBM and
// scikit-learn's HistGradientBoosting do) and split only at those cuts.
//
// Codes are 16 bits wide, so max_bins is at most TreeMaxBinsLimit and
// exact splits need at most that many distinct values per feature. A
// row's codes are packed into 64-bit words, a byte each when no feature
// has more than 256 codes (the default max_bins), else two bytes: a tree
// moves each row's codes with the row as it partitions the rows, so a
// node's codes are contiguous, and one row moves as a few words.
const (
	// TreeDefaultMaxBins is the tree models' default max_bins.
	TreeDefaultMaxBins = 256
	// TreeMaxBinsLimit is the largest max_bins, and the most distinct
	// values a feature may have for exact splits.
	TreeMaxBinsLimit = 1 << 16
	treeExactRows    = 5000
)

// treeBins is a training matrix quantised per feature.
type treeBins struct {
	n, d  int
	words []uint64 // row s's codes are words[s*nw : s*nw+nw], see treePack
	pack  treePack
	nbins []int       // bins per feature
	off   []int       // off[f] = sum of nbins before f; off[d] = all bins
	edges [][]float64 // per feature: code(x) = number of edges below x
	vals  [][]float64 // per feature: the distinct values when binned exactly, else nil
}

// treePack says where a feature's code is in a row's words.
type treePack struct {
	nw   int    // words per row
	lg   uint   // log2 of the codes per word: 3 or 2
	bits uint   // bits per code: 8 or 16
	mask uint64 // 1<<bits - 1
}

func newTreePack(d int, wide bool) treePack {
	if wide {
		return treePack{nw: (d + 3) / 4, lg: 2, bits: 16, mask: 1<<16 - 1}
	}
	return treePack{nw: (d + 7) / 8, lg: 3, bits: 8, mask: 1<<8 - 1}
}

// at returns feature f's word in the row and the code's shift in it.
func (p treePack) at(f int) (word int, shift uint) {
	return f >> p.lg, uint(f&(1<<p.lg-1)) * p.bits
}

// newTreeBins quantises the n×d row-major matrix x (row stride stride)
// with at most maxBins bins per binned feature (0: exact splits), on all
// cores. It returns an error when exact splits would need more than
// TreeMaxBinsLimit codes for a feature.
func newTreeBins(x []float64, n, d, stride, maxBins int) (*treeBins, error) {
	b := &treeBins{
		n: n, d: d,
		nbins: make([]int, d),
		off:   make([]int, d+1),
		edges: make([][]float64, d),
		vals:  make([][]float64, d),
	}
	errs := make([]error, d)
	workers := min(runtime.GOMAXPROCS(0), d)
	var wg sync.WaitGroup
	next := make(chan int, d)
	for f := range d {
		next <- f
	}
	close(next)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			col := make([]float64, n)
			for f := range next {
				errs[f] = b.binFeature(x, stride, f, maxBins, col)
			}
		}()
	}
	wg.Wait()
	wide := false
	for f := range d {
		if errs[f] != nil {
			return nil, errs[f]
		}
		b.off[f+1] = b.off[f] + b.nbins[f]
		wide = wide || b.nbins[f] > 1<<8
	}
	b.pack = newTreePack(d, wide)
	nw := b.pack.nw
	b.words = make([]uint64, n*nw)
	treeParallelBlocks(n, 4096, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			row := x[s*stride : s*stride+d]
			w := b.words[s*nw : s*nw+nw]
			for f, v := range row {
				i, sh := b.pack.at(f)
				w[i] |= uint64(sort.SearchFloat64s(b.edges[f], v)) << sh
			}
		}
	})
	return b, nil
}

// code returns row s's code for feature f.
func (b *treeBins) code(f, s int) int {
	i, sh := b.pack.at(f)
	return int(b.words[s*b.pack.nw+i] >> sh & b.pack.mask)
}

// binFeature sets feature f's edges (and distinct values when it is
// binned exactly), using col (n floats) as scratch.
func (b *treeBins) binFeature(x []float64, stride, f, maxBins int, col []float64) error {
	n := b.n
	for i := range n {
		col[i] = x[i*stride+f]
	}
	slices.Sort(col)
	distinct := 1
	for i := 1; i < n; i++ {
		if col[i] != col[i-1] {
			distinct++
		}
	}
	var edges []float64
	if maxBins <= 0 || distinct <= maxBins || n <= treeExactRows {
		if distinct > TreeMaxBinsLimit {
			return fmt.Errorf("exact splits on feature %d need %d codes, more than %d: set max_bins", f, distinct, TreeMaxBinsLimit)
		}
		vals := make([]float64, 0, distinct)
		vals = append(vals, col[0])
		for i := 1; i < n; i++ {
			if col[i] != col[i-1] {
				vals = append(vals, col[i])
			}
		}
		edges = make([]float64, distinct-1)
		for i := range edges {
			edges[i] = treeMid(vals[i], vals[i+1])
		}
		b.vals[f] = vals
	} else {
		// Close a bin at the first distinct value whose cumulative count
		// reaches the next of maxBins equal-count targets.
		edges = make([]float64, 0, maxBins-1)
		target := float64(n) / float64(maxBins)
		for i := 0; i < n-1 && len(edges) < maxBins-1; i++ {
			if col[i+1] == col[i] || float64(i+1) < target {
				continue
			}
			edges = append(edges, treeMid(col[i], col[i+1]))
			for float64(i+1) >= target {
				target += float64(n) / float64(maxBins)
			}
		}
	}
	b.edges[f] = edges
	b.nbins[f] = len(edges) + 1
	return nil
}

// split returns the threshold for splitting feature f between code lo (the
// highest code present on the left) and code hi (the lowest on the right),
// and the highest code that goes left under that threshold.
func (b *treeBins) split(f, lo, hi int) (thr float64, code int) {
	if v := b.vals[f]; v != nil {
		thr = treeMid(v[lo], v[hi])
		c := sort.SearchFloat64s(v, thr)
		if c < len(v) && v[c] == thr {
			return thr, c
		}
		return thr, c - 1
	}
	e := (lo + hi - 1) / 2
	return b.edges[f][e], e
}

// treeMid is the midpoint of a < b as scikit-learn computes thresholds:
// a itself when rounding would put the midpoint on b.
func treeMid(a, b float64) float64 {
	m := a/2 + b/2
	if m >= b || math.IsInf(m, 0) {
		return a
	}
	return m
}
