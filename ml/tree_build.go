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
	t.out, t.samples, t.w, t.rng = nil, nil, nil, nil
	return out
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
	imp := t.nodeStats(rows)
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

	if (t.p.maxDepth > 0 && task.depth >= t.p.maxDepth) || t.m < t.p.minSplit ||
		t.m < 2*t.p.minLeaf || imp <= 0x1p-52 {
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
	nl := t.partition(rows, best.feature, code)
	mid := task.start + nl

	var hl, hr []float64
	if hist != nil {
		hl, hr = t.childHists(hist, rows[:nl], rows[nl:])
	}
	t.stack = append(t.stack,
		treeTask{start: mid, end: task.end, depth: task.depth + 1, parent: id, hist: hr, consts: consts},
		treeTask{start: task.start, end: mid, depth: task.depth + 1, parent: id, hist: hl, consts: consts})
}

// nodeStats sets t.tot and t.wTot for rows and returns their impurity.
func (t *treeBuilder) nodeStats(rows []int32) float64 {
	tot := t.tot
	clear(tot)
	if t.p.crit == treeMSE {
		var sw, swy float64
		if t.w == nil {
			for _, s := range rows {
				swy += t.yr[s]
			}
			sw = float64(len(rows))
		} else {
			for _, s := range rows {
				w := t.w[s]
				sw += w
				swy += w * t.yr[s]
			}
		}
		mean := swy / sw
		var ss float64
		if t.w == nil {
			for _, s := range rows {
				d := t.yr[s] - mean
				ss += d * d
			}
		} else {
			for _, s := range rows {
				d := t.yr[s] - mean
				ss += t.w[s] * d * d
			}
		}
		tot[0], tot[1] = swy, sw
		t.wTot = sw
		return ss / sw
	}
	k := t.p.k
	if t.w == nil {
		for _, s := range rows {
			tot[t.yc[s]]++
		}
	} else {
		for _, s := range rows {
			tot[t.yc[s]] += t.w[s]
		}
	}
	var sw float64
	for _, v := range tot[:k] {
		sw += v
	}
	t.wTot = sw
	return treeClassImpurity(t.p.crit, tot[:k], sw)
}

// partition reorders rows so those with code <= c on feature f come
// first, and returns their number.
func (t *treeBuilder) partition(rows []int32, f, c int) int {
	d, codes := t.bins.d, t.bins.codes
	i, j := 0, len(rows)-1
	for i <= j {
		if int(codes[int(rows[i])*d+f]) <= c {
			i++
		} else {
			rows[i], rows[j] = rows[j], rows[i]
			j--
		}
	}
	return i
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
	row := b.codes[s*b.d : s*b.d+b.d]
	i := 0
	for tf.Left[i] >= 0 {
		if int(row[tf.Feature[i]]) <= tf.binThr[i] {
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
