package ml

import (
	"math/rand/v2"
	"slices"
)

// Split criteria.
const (
	treeGini = iota
	treeEntropy
	treeMSE
)

// treeParams are a tree's growth settings, defaults resolved.
type treeParams struct {
	crit     int
	k        int // classes; 0 for regression
	maxDepth int // <= 0: unlimited
	minSplit int
	minLeaf  int
	maxFeat  int // features drawn per node, 1..d
	maxBins  int // 0: exact splits; else bins per feature (see newTreeBins)
}

// treeFit is a tree as grown, with what the ensembles need besides the
// exported arrays.
type treeFit struct {
	Tree
	binThr   []int     // highest code going left, per internal node
	impurity []float64 // per node
	weight   []float64 // weighted rows per node
	start    []int     // rows of node i are samples[start[i]:end[i]]
	end      []int
}

// treeSplit is the best split found so far at a node.
type treeSplit struct {
	proxy   float64
	feature int
	lo, hi  int // highest code left, lowest code right
}

// treeTask is a node waiting to be grown.
type treeTask struct {
	start, end int
	depth      int
	parent     int // -1 for the root
	hist       []float64
	consts     []uint64 // features known to be constant in this node
}

// treeBuilder grows one tree at a time on binned data. It keeps its
// scratch space between trees, so a worker reuses one builder.
type treeBuilder struct {
	p    treeParams
	bins *treeBins
	yc   []int32   // class codes, classification
	yr   []float64 // targets, regression
	w    []float64 // row weights; nil means all 1

	stats     int  // floats per bin: k class weights or (sum wy, w), then a count if needCount
	needCount bool // weights are not counts of rows and min leaf matters
	rng       *rand.Rand

	samples []int32
	out     *treeFit

	// The rows' data gathered by position in samples: position p holds
	// row samples[p]'s codes, class or target and weight, and partition
	// moves them with the row, so every node reads contiguous memory
	// instead of its rows' entries scattered over the training set.
	g     []uint64  // codes: position p's words at [p*nw, p*nw+nw) (see treeBins)
	gyc   []int32   // class codes, classification
	gyr   []float64 // targets, regression
	gw    []float64 // weights; nil when w is nil
	gwBuf []float64

	// node state
	m       int
	wTot    float64
	tot     []float64
	left    []float64
	feats   []int
	batch   []int
	found   []int
	keys    []uint64
	ent     []float64
	entC    []int32
	pool    [][]float64
	stack   []treeTask
	scratch []float64 // histograms for drawn features
}

func newTreeBuilder(p treeParams, bins *treeBins, yc []int32, yr []float64) *treeBuilder {
	t := &treeBuilder{p: p, bins: bins, yc: yc, yr: yr}
	t.feats = make([]int, bins.d)
	for i := range t.feats {
		t.feats[i] = i
	}
	k := max(p.k, 2)
	t.tot = make([]float64, k+1)
	t.left = make([]float64, k+1)
	return t
}

// grow fits a tree on rows samples with weights w (nil: all 1), drawing
// features with rng. samples is reordered: afterwards each node's rows
// are samples[start[i]:end[i]].
func (t *treeBuilder) grow(samples []int32, w []float64, rng *rand.Rand) *treeFit {
	t.samples, t.w, t.rng = samples, w, rng
	t.gather()
	for i := range t.feats {
		t.feats[i] = i
	}
	t.needCount = w != nil && t.p.minLeaf > 1
	if t.p.crit == treeMSE {
		t.stats = 2
	} else {
		t.stats = t.p.k
	}
	if t.needCount {
		t.stats++
	}
	nv := 1
	if t.p.crit != treeMSE {
		nv = t.p.k
	}
	t.out = &treeFit{Tree: Tree{NValues: nv}}
	nw := (t.bins.d + 63) / 64
	t.stack = append(t.stack[:0], treeTask{start: 0, end: len(samples), parent: -1, consts: make([]uint64, nw)})
	for len(t.stack) > 0 {
		task := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.node(task)
	}
	out := t.out
	t.out, t.samples, t.w, t.rng, t.gw = nil, nil, nil, nil, nil
	return out
}

// gather copies the codes, classes or targets and weights of the rows in
// t.samples into the builder's arrays, by position.
func (t *treeBuilder) gather() {
	b, rows := t.bins, t.samples
	nw := b.pack.nw
	if cap(t.g) < len(rows)*nw {
		t.g = make([]uint64, len(rows)*nw)
	}
	t.g = t.g[:len(rows)*nw]
	if nw == 1 {
		treeGather(t.g, b.words, rows)
	} else {
		for p, s := range rows {
			copy(t.g[p*nw:p*nw+nw], b.words[int(s)*nw:int(s)*nw+nw])
		}
	}
	if t.p.crit == treeMSE {
		t.gyr = treeGather(t.gyr, t.yr, rows)
	} else {
		t.gyc = treeGather(t.gyc, t.yc, rows)
	}
	t.gw = nil
	if t.w != nil {
		t.gwBuf = treeGather(t.gwBuf, t.w, rows)
		t.gw = t.gwBuf
	}
}

// treeGather returns dst (reallocated if short) with dst[p] = src[rows[p]].
func treeGather[T any](dst, src []T, rows []int32) []T {
	if cap(dst) < len(rows) {
		dst = make([]T, len(rows))
	}
	dst = dst[:len(rows)]
	for p, s := range rows {
		dst[p] = src[s]
	}
	return dst
}

func (t *treeBuilder) newHist() []float64 {
	if n := len(t.pool); n > 0 {
		h := t.pool[n-1]
		t.pool = t.pool[:n-1]
		clear(h)
		return h
	}
	return make([]float64, t.bins.off[t.bins.d]*t.stats)
}

func (t *treeBuilder) freeHist(h []float64) {
	if h != nil {
		t.pool = append(t.pool, h)
	}
}

// node grows the node for task: records it, and splits it or leaves it a
// leaf.
func (t *treeBuilder) node(task treeTask) {
	o := t.out
	id := len(o.Feature)
	if task.parent >= 0 {
		if o.Left[task.parent] < 0 {
			o.Left[task.parent] = id
		} else {
			o.Right[task.parent] = id
		}
	}
	rows := t.samples[task.start:task.end]
	t.m = len(rows)
	imp := t.nodeStats(task.start, task.end)
	o.Feature = append(o.Feature, -1)
	o.Threshold = append(o.Threshold, 0)
	o.Left = append(o.Left, -1)
	o.Right = append(o.Right, -1)
	o.binThr = append(o.binThr, -1)
	o.impurity = append(o.impurity, imp)
	o.weight = append(o.weight, t.wTot)
	o.start = append(o.start, task.start)
	o.end = append(o.end, task.end)
	if t.p.crit == treeMSE {
		o.Value = append(o.Value, t.tot[0]/t.wTot)
	} else {
		o.Value = append(o.Value, t.tot[:t.p.k]...)
	}

	if !t.maySplit(task.depth, t.m) || imp <= 0x1p-52 {
		t.freeHist(task.hist)
		return
	}
	best, consts, hist := t.findSplit(task, rows)
	if best.feature < 0 {
		t.freeHist(hist)
		return
	}
	thr, code := t.bins.split(best.feature, best.lo, best.hi)
	o.Feature[id] = best.feature
	o.Threshold[id] = thr
	o.binThr[id] = code
	nl := t.partition(task.start, task.end, best.feature, code)
	mid := task.start + nl

	var hl, hr []float64
	if hist != nil {
		if t.maySplit(task.depth+1, nl) || t.maySplit(task.depth+1, t.m-nl) {
			hl, hr = t.childHists(hist, task.start, mid, task.end)
		} else {
			t.freeHist(hist)
		}
	}
	t.stack = append(t.stack,
		treeTask{start: mid, end: task.end, depth: task.depth + 1, parent: id, hist: hr, consts: consts},
		treeTask{start: task.start, end: mid, depth: task.depth + 1, parent: id, hist: hl, consts: consts})
}

// maySplit reports whether a node of m rows at depth may be split, as far
// as its depth and size tell.
func (t *treeBuilder) maySplit(depth, m int) bool {
	return (t.p.maxDepth <= 0 || depth < t.p.maxDepth) && m >= t.p.minSplit && m >= 2*t.p.minLeaf
}

// nodeStats sets t.tot and t.wTot for the rows at positions [lo, hi) and
// returns their impurity.
func (t *treeBuilder) nodeStats(lo, hi int) float64 {
	tot := t.tot
	clear(tot)
	var ws []float64
	if t.gw != nil {
		ws = t.gw[lo:hi]
	}
	if t.p.crit == treeMSE {
		ys := t.gyr[lo:hi]
		var sw, swy float64
		if ws == nil {
			for _, y := range ys {
				swy += y
			}
			sw = float64(len(ys))
		} else {
			ws = ws[:len(ys)]
			for p, y := range ys {
				w := ws[p]
				sw += w
				swy += w * y
			}
		}
		mean := swy / sw
		var ss float64
		if ws == nil {
			for _, y := range ys {
				d := y - mean
				ss += d * d
			}
		} else {
			for p, y := range ys {
				d := y - mean
				ss += ws[p] * d * d
			}
		}
		tot[0], tot[1] = swy, sw
		t.wTot = sw
		return ss / sw
	}
	k := t.p.k
	ys := t.gyc[lo:hi]
	if ws == nil {
		for _, y := range ys {
			tot[y]++
		}
	} else {
		ws = ws[:len(ys)]
		for p, y := range ys {
			tot[y] += ws[p]
		}
	}
	var sw float64
	for _, v := range tot[:k] {
		sw += v
	}
	t.wTot = sw
	return treeClassImpurity(t.p.crit, tot[:k], sw)
}

// partition reorders the rows at positions [lo, hi), and their gathered
// data, so those with code <= c on feature f come first, and returns
// their number.
func (t *treeBuilder) partition(lo, hi, f, c int) int {
	rows, g := t.samples, t.g
	pk := t.bins.pack
	nw := pk.nw
	wi, sh := pk.at(f)
	mse := t.p.crit == treeMSE
	// Each step swaps row i with j when it goes right (j then moves
	// left) and with itself when it stays (i moves right): the same swaps
	// as testing and swapping, without a branch that the codes make
	// unpredictable.
	i, j := lo, hi-1
	for i <= j {
		r := 0
		if int(g[i*nw+wi]>>sh&pk.mask) > c {
			r = 1
		}
		k := i + r*(j-i)
		rows[i], rows[k] = rows[k], rows[i]
		if nw == 1 {
			g[i], g[k] = g[k], g[i]
		} else {
			gi, gk := g[i*nw:i*nw+nw], g[k*nw:k*nw+nw]
			for q := range gi {
				gi[q], gk[q] = gk[q], gi[q]
			}
		}
		if mse {
			t.gyr[i], t.gyr[k] = t.gyr[k], t.gyr[i]
		} else {
			t.gyc[i], t.gyc[k] = t.gyc[k], t.gyc[i]
		}
		if t.gw != nil {
			t.gw[i], t.gw[k] = t.gw[k], t.gw[i]
		}
		i += 1 - r
		j -= r
	}
	return i - lo
}

// compact returns t with its arrays copied to their exact lengths, and
// packed for prediction.
func (t Tree) compact() Tree {
	c := Tree{
		Feature:   slices.Clone(t.Feature),
		Threshold: slices.Clone(t.Threshold),
		Left:      slices.Clone(t.Left),
		Right:     slices.Clone(t.Right),
		Value:     slices.Clone(t.Value),
		NValues:   t.NValues,
	}
	c.pack()
	return c
}

// importances adds to imp each feature's weighted impurity decrease over
// the tree, divided by the root's weight (scikit-learn's unnormalised
// feature importances).
func (tf *treeFit) importances(imp []float64) {
	if len(tf.Feature) == 0 {
		return
	}
	for i, f := range tf.Feature {
		if f < 0 {
			continue
		}
		l, r := tf.Left[i], tf.Right[i]
		imp[f] += (tf.weight[i]*tf.impurity[i] - tf.weight[l]*tf.impurity[l] - tf.weight[r]*tf.impurity[r]) / tf.weight[0]
	}
}

// leafBinned returns the leaf that training row s reaches, following the
// binned thresholds.
func (tf *treeFit) leafBinned(b *treeBins, s int) int {
	i := 0
	for tf.Left[i] >= 0 {
		if b.code(tf.Feature[i], s) <= tf.binThr[i] {
			i = tf.Left[i]
		} else {
			i = tf.Right[i]
		}
	}
	return i
}

// treeNormalize scales v to sum to 1, leaving it all zero if it sums to 0.
func treeNormalize(v []float64) {
	var s float64
	for _, x := range v {
		s += x
	}
	if s > 0 {
		for i := range v {
			v[i] /= s
		}
	}
}
