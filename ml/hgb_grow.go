package ml

import (
	"math"
	"runtime"
	"unsafe"
)

// hgbBin is one bin of a node's gradient histogram for one feature.
type hgbBin struct {
	g, h float64
	n    uint32
}

// hgbHistBins is the stride of one feature's histogram: every code,
// value bins and the missing bin, fits a byte.
const hgbHistBins = 256

// hgbParams are the tree-shape settings of a histogram boosting fit.
type hgbParams struct {
	maxLeaves int // 0: unlimited
	maxDepth  int // 0: unlimited
	minLeaf   int
	l2        float64
	minHess   float64
}

// hgbSplit is the best split found for a node.
type hgbSplit struct {
	gain     float64
	feat     int
	bin      int  // codes 0..bin go left
	missLeft bool // the missing bin goes left
	gl, hl   float64
	nl       int
}

// hgbNode is a node while its tree grows.
type hgbNode struct {
	start, end int // its rows: grower.rows[start:end]
	depth      int
	g, h       float64
	hist       []hgbBin // d × hgbHistBins; nil when not needed
	split      hgbSplit // split.gain > 0 when it can be split
}

// hgbGrower grows the trees of one fit on a column-major binned matrix.
// It is reused from tree to tree: its buffers are sized once.
type hgbGrower struct {
	p         hgbParams
	binner    *hgbBinner
	codes     []uint8 // column-major n×d
	n, d      int
	nbins     []int // value bins per feature
	missBin   int
	hasMiss   []bool // per feature: a missing value among the training rows
	constHess bool   // every hessian is 1: histograms count instead of summing
	workers   int
	pool      *workPool // the workers; close returns them

	g       []float32 // this tree's gradients, per row
	rows    []int32   // row indices, partitioned node by node
	scratch []int32   // the partition's buffer: the smaller side of a node, at most n/2 rows
	og      []float32 // gradients of a smaller child's rows, in its order (in scratch's memory)
	nodes   []hgbNode
	free    [][]hgbBin
	bestA   []hgbSplit // per feature, scratch for the parallel search
	bestB   []hgbSplit

	// The root's sums of each block of hgbChunk rows.
	blockG []float64
	blockH []float64
}

func newHgbGrower(p hgbParams, codes []uint8, n, d int, b *hgbBinner, hasMiss []bool, constHess bool) *hgbGrower {
	t := &hgbGrower{
		p: p, binner: b, codes: codes, n: n, d: d, missBin: b.maxBins, hasMiss: hasMiss, constHess: constHess,
		nbins:   make([]int, d),
		workers: max(1, min(runtime.GOMAXPROCS(0), d)),
		rows:    make([]int32, n),
		scratch: make([]int32, n/2+2),
		bestA:   make([]hgbSplit, d),
		bestB:   make([]hgbSplit, d),

		blockG: make([]float64, n/hgbChunk+1),
		blockH: make([]float64, n/hgbChunk+1),
	}
	// The smaller child's gradients are gathered after the partition is
	// done with the scratch rows: they share its memory (both
	// pointer-free, the same size).
	t.og = unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(t.scratch))), n/2+2)
	for f := range d {
		t.nbins[f] = len(b.thr[f]) + 1
	}
	t.pool = newWorkPool(t.workers)
	return t
}

// close stops the grower's workers.
func (t *hgbGrower) close() { t.pool.close() }

func (t *hgbGrower) newHist() []hgbBin {
	if k := len(t.free); k > 0 {
		h := t.free[k-1]
		t.free = t.free[:k-1]
		return h
	}
	return make([]hgbBin, t.d*hgbHistBins)
}

func (t *hgbGrower) freeHist(h []hgbBin) {
	if h != nil {
		t.free = append(t.free, h)
	}
}

// eachFeaturePair calls fn(f, m) for features f to f+m−1, m 2 (or 1
// for the last of an odd number), for every feature, on all of the
// grower's workers: a histogram pass over a node's rows fills two
// features' histograms at once, reading each row's gradient once. Each
// feature is handled by one call, so what fn computes per feature does
// not depend on the number of workers.
func (t *hgbGrower) eachFeaturePair(fn func(f, m int)) {
	t.pool.run((t.d+1)/2, func(i int) {
		fn(2*i, min(2, t.d-2*i))
	})
}

// splittable reports whether a node may be split at all.
func (t *hgbGrower) splittable(nd *hgbNode) bool {
	return (t.p.maxDepth == 0 || nd.depth < t.p.maxDepth) &&
		nd.end-nd.start >= 2*t.p.minLeaf && nd.h >= 2*t.p.minHess
}

// grow grows one tree on gradients g and returns it with leaf values
// -lr·G/(H+l2). The hessians are 1 for the squared error (constHess);
// for the log-losses, whose gradient is g = p − y with y 0 or 1, they
// are p(1 − p) = |g|(1 − |g|), taken from g where they are summed rather
// than stored. After grow, leafRows gives each leaf's training rows.
func (t *hgbGrower) grow(g []float32, lr float64) *HistTree {
	t.g = g
	t.nodes = t.nodes[:0]
	root := hgbNode{start: 0, end: t.n}
	root.g, root.h = t.rootSums(g)
	t.nodes = append(t.nodes, root)
	tree := &HistTree{}
	tree.add()
	open := []int{} // nodes that can be split, by index
	if t.splittable(&t.nodes[0]) {
		nd := &t.nodes[0]
		nd.hist = t.newHist()
		hist := nd.hist
		t.eachFeaturePair(func(f, m int) {
			clear(hist[f*hgbHistBins : (f+m)*hgbHistBins])
			t.build(hist, f, m, nil, g)
			for e := f; e < f+m; e++ {
				t.bestA[e] = t.search(hist[e*hgbHistBins:(e+1)*hgbHistBins], e, &t.nodes[0])
			}
		})
		nd.split = t.reduce(t.bestA)
		if nd.split.gain > 0 {
			open = append(open, 0)
		} else {
			t.freeHist(nd.hist)
			nd.hist = nil
		}
	}
	leaves := 1
	for len(open) > 0 && (t.p.maxLeaves == 0 || leaves < t.p.maxLeaves) {
		// Best first: the open node with the largest gain, the earliest
		// on ties.
		bi := 0
		for i := 1; i < len(open); i++ {
			if t.nodes[open[i]].split.gain > t.nodes[open[bi]].split.gain {
				bi = i
			}
		}
		id := open[bi]
		open = append(open[:bi], open[bi+1:]...)
		t.splitNode(tree, id)
		leaves++
		last := t.p.maxLeaves > 0 && leaves == t.p.maxLeaves
		left, right := tree.Left[id], tree.Right[id]
		for _, c := range []int32{left, right} {
			if !last && t.nodes[c].split.gain > 0 {
				open = append(open, int(c))
			} else {
				t.freeHist(t.nodes[c].hist)
				t.nodes[c].hist = nil
			}
		}
	}
	for _, id := range open {
		t.freeHist(t.nodes[id].hist)
		t.nodes[id].hist = nil
	}
	for i := range t.nodes {
		if tree.Feature[i] < 0 {
			nd := &t.nodes[i]
			tree.Value[i] = -lr * nd.g / (nd.h + t.p.l2 + 1e-15)
		}
	}
	return tree
}

// rootSums numbers the rows in order and returns the sums of the
// gradients and the hessians over every row, on all cores: each block of
// hgbChunk rows is summed on its own and the blocks' sums are added in
// order, so the sums do not depend on the number of cores.
func (t *hgbGrower) rootSums(g []float32) (G, H float64) {
	g = g[:t.n]
	t.pool.blocks(t.n, hgbChunk, func(lo, hi int) {
		var bg, bh float64
		for i := lo; i < hi; i++ {
			t.rows[i] = int32(i)
			bg += float64(g[i])
		}
		if !t.constHess {
			for _, u := range hgbBits(g[lo:hi]) {
				bh += hgbHessBits(u)
			}
		}
		t.blockG[lo/hgbChunk], t.blockH[lo/hgbChunk] = bg, bh
	})
	for b := range (t.n + hgbChunk - 1) / hgbChunk {
		G += t.blockG[b]
		H += t.blockH[b]
	}
	if t.constHess {
		H = float64(t.n)
	}
	return G, H
}

// splitNode partitions node id by its split, appends its children to the
// tree and the grower's nodes, and finds the children's best splits: the
// smaller child's histogram is built from its rows, the larger's is the
// parent's minus the smaller's (in the parent's buffer).
func (t *hgbGrower) splitNode(tree *HistTree, id int) {
	P := t.nodes[id]
	s := P.split
	mid := t.partition(P.start, P.end, s)
	L := hgbNode{start: P.start, end: mid, depth: P.depth + 1, g: s.gl, h: s.hl}
	R := hgbNode{start: mid, end: P.end, depth: P.depth + 1, g: P.g - s.gl, h: P.h - s.hl}
	if t.constHess {
		L.h, R.h = float64(L.end-L.start), float64(R.end-R.start)
	}
	li, ri := len(t.nodes), len(t.nodes)+1
	t.nodes = append(t.nodes, L, R)
	tree.add()
	tree.add()
	tree.Feature[id] = int32(s.feat)
	tree.bins[id] = uint8(s.bin)
	tree.MissingLeft[id] = s.missLeft
	tree.Left[id], tree.Right[id] = int32(li), int32(ri)
	// Threshold: the upper threshold of bin s.bin, or the largest float
	// when every value goes left and only the missing ones right.
	tree.Threshold[id] = math.MaxFloat64
	if s.bin < t.nbins[s.feat]-1 {
		tree.Threshold[id] = t.thr(s.feat, s.bin)
	}
	t.nodes[id].hist = nil

	sl, sr := t.splittable(&t.nodes[li]), t.splittable(&t.nodes[ri])
	if !sl && !sr {
		t.freeHist(P.hist)
		return
	}
	small, large := li, ri
	if R.end-R.start < L.end-L.start {
		small, large = ri, li
	}
	sh, lh := t.newHist(), P.hist
	t.nodes[small].hist, t.nodes[large].hist = sh, lh
	ns, nl := &t.nodes[small], &t.nodes[large]
	ss, ls := t.splittable(ns), t.splittable(nl)
	rows := t.rows[ns.start:ns.end]
	og := t.og[:len(rows)]
	t.pool.blocks(len(rows), hgbChunk, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			og[j] = t.g[rows[j]]
		}
	})
	t.eachFeaturePair(func(f0, m int) {
		clear(sh[f0*hgbHistBins : (f0+m)*hgbHistBins])
		t.build(sh, f0, m, rows, og)
		for f := f0; f < f0+m; f++ {
			fs := sh[f*hgbHistBins : (f+1)*hgbHistBins]
			fl := lh[f*hgbHistBins : (f+1)*hgbHistBins]
			for b := range fl {
				fl[b].g -= fs[b].g
				fl[b].h -= fs[b].h
				fl[b].n -= fs[b].n
			}
			t.bestA[f], t.bestB[f] = hgbSplit{}, hgbSplit{}
			if ss {
				t.bestA[f] = t.search(fs, f, ns)
			}
			if ls {
				t.bestB[f] = t.search(fl, f, nl)
			}
		}
	})
	if ss {
		ns.split = t.reduce(t.bestA)
	}
	if ls {
		nl.split = t.reduce(t.bestB)
	}
}

// thr is the upper threshold of bin b of feature f.
func (t *hgbGrower) thr(f, b int) float64 { return t.binner.thr[f][b] }

// hgbHessBits is the hessian p(1 − p) of a log-loss whose gradient
// g = p − y (y 0 or 1) has the float32 bits u: |g|(1 − |g|) either way.
// The histograms read the gradients' bits, which clear the sign more
// cheaply than math.Abs of a float.
func hgbHessBits(u uint32) float64 {
	a := float64(math.Float32frombits(u &^ (1 << 31)))
	return a * (1 - a)
}

// hgbBits is the bits of the float32s of g, in g's memory.
func hgbBits(g []float32) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(g))), len(g))
}

// build adds the rows of a node to the histograms in hist of features f
// to f+m−1 (m 1 or 2): rows nil means every row in order, with g indexed
// by row; otherwise g holds the gradients of rows in order. Each bin
// sums its rows in their order, whichever features share the pass.
func (t *hgbGrower) build(hist []hgbBin, f, m int, rows []int32, g []float32) {
	if m == 1 {
		t.build1((*[hgbHistBins]hgbBin)(hist[f*hgbHistBins:]), t.codes[f*t.n:(f+1)*t.n], rows, g)
		return
	}
	ha := (*[hgbHistBins]hgbBin)(hist[f*hgbHistBins:])
	hb := (*[hgbHistBins]hgbBin)(hist[(f+1)*hgbHistBins:])
	ca := t.codes[f*t.n : (f+1)*t.n]
	cb := t.codes[(f+1)*t.n : (f+2)*t.n]
	switch {
	case rows == nil && t.constHess:
		g, cb = g[:len(ca)], cb[:len(ca)]
		for i, c := range ca {
			v := float64(g[i])
			hgbCountPair(&ha[c], &hb[cb[i]], v)
		}
	case rows == nil:
		gb, cb := hgbBits(g[:len(ca)]), cb[:len(ca)]
		for i, c := range ca {
			u := gb[i]
			v, h := float64(math.Float32frombits(u)), hgbHessBits(u)
			hgbAddPair(&ha[c], &hb[cb[i]], v, h)
		}
	case t.constHess:
		g = g[:len(rows)]
		for j, r := range rows {
			v := float64(g[j])
			hgbCountPair(&ha[ca[r]], &hb[cb[r]], v)
		}
	default:
		gb := hgbBits(g[:len(rows)])
		for j, r := range rows {
			u := gb[j]
			v, h := float64(math.Float32frombits(u)), hgbHessBits(u)
			hgbAddPair(&ha[ca[r]], &hb[cb[r]], v, h)
		}
	}
	if t.constHess {
		for i := range ha {
			ha[i].h = float64(ha[i].n)
			hb[i].h = float64(hb[i].n)
		}
	}
}

// hgbAddPair adds a row with gradient v and hessian h to a bin of each
// of two features.
func hgbAddPair(a, b *hgbBin, v, h float64) {
	a.g += v
	a.h += h
	a.n++
	b.g += v
	b.h += h
	b.n++
}

// hgbCountPair adds a row with gradient v to a bin of each of two
// features, counting it where the hessians are all 1.
func hgbCountPair(a, b *hgbBin, v float64) {
	a.g += v
	a.n++
	b.g += v
	b.n++
}

// build1 is build for one feature: its histogram and codes.
func (t *hgbGrower) build1(hist *[hgbHistBins]hgbBin, col []uint8, rows []int32, g []float32) {
	switch {
	case rows == nil && t.constHess:
		g = g[:len(col)]
		for i, c := range col {
			b := &hist[c]
			b.g += float64(g[i])
			b.n++
		}
	case rows == nil:
		gb := hgbBits(g[:len(col)])
		for i, c := range col {
			u := gb[i]
			b := &hist[c]
			b.g += float64(math.Float32frombits(u))
			b.h += hgbHessBits(u)
			b.n++
		}
	case t.constHess:
		g = g[:len(rows)]
		for j, r := range rows {
			b := &hist[col[r]]
			b.g += float64(g[j])
			b.n++
		}
	default:
		gb := hgbBits(g[:len(rows)])
		for j, r := range rows {
			u := gb[j]
			b := &hist[col[r]]
			b.g += float64(math.Float32frombits(u))
			b.h += hgbHessBits(u)
			b.n++
		}
	}
	if t.constHess {
		for i := range hist {
			hist[i].h = float64(hist[i].n)
		}
	}
}

// search returns the best split of node nd on feature f from its
// histogram fh: the split with the largest gain
// GL²/(HL+λ) + GR²/(HR+λ) − G²/(H+λ) among those that leave each side
// min_samples_leaf rows and the minimum hessian. Missing values are tried
// on the right (scanning bins upwards) and, when the feature had missing
// values in training, on the left; a feature without missing values in
// training sends them to the side with more rows.
func (t *hgbGrower) search(fh []hgbBin, f int, nd *hgbNode) hgbSplit {
	best := hgbSplit{feat: f}
	nb := t.nbins[f]
	l2, minLeaf, minHess := t.p.l2, t.p.minLeaf, t.p.minHess
	G, H, N := nd.g, nd.h, nd.end-nd.start
	parent := G * G / (H + l2)
	miss := fh[t.missBin]
	top := nb - 1
	if miss.n > 0 {
		top = nb // also: every value left, missing right
	}
	var gl, hl float64
	var nl int
	for b := 0; b < top; b++ {
		gl += fh[b].g
		hl += fh[b].h
		nl += int(fh[b].n)
		nr, hr := N-nl, H-hl
		if nl < minLeaf || hl < minHess {
			continue
		}
		if nr < minLeaf || hr < minHess {
			break
		}
		gr := G - gl
		gain := gl*gl/(hl+l2) + gr*gr/(hr+l2) - parent
		if gain > best.gain {
			best = hgbSplit{gain: gain, feat: f, bin: b, gl: gl, hl: hl, nl: nl}
		}
	}
	if miss.n > 0 && t.hasMiss[f] {
		gl, hl, nl = miss.g, miss.h, int(miss.n)
		for b := 0; b < nb-1; b++ {
			gl += fh[b].g
			hl += fh[b].h
			nl += int(fh[b].n)
			nr, hr := N-nl, H-hl
			if nl < minLeaf || hl < minHess {
				continue
			}
			if nr < minLeaf || hr < minHess {
				break
			}
			gr := G - gl
			gain := gl*gl/(hl+l2) + gr*gr/(hr+l2) - parent
			if gain > best.gain {
				best = hgbSplit{gain: gain, feat: f, bin: b, missLeft: true, gl: gl, hl: hl, nl: nl}
			}
		}
	}
	if !t.hasMiss[f] {
		best.missLeft = best.nl > N-best.nl
	}
	return best
}

// reduce returns the best of the per-feature splits, the first feature
// on ties.
func (t *hgbGrower) reduce(per []hgbSplit) hgbSplit {
	best := per[0]
	for _, s := range per[1:] {
		if s.gain > best.gain {
			best = s
		}
	}
	return best
}

// hgbChunk is the block of rows gathered by one goroutine.
const hgbChunk = 8192

// partition reorders grower.rows[start:end] so the rows going left come
// first, each side keeping its order, and returns where the right side
// starts. The side with fewer rows (s.nl says how many go left) goes to
// the scratch rows, the other is moved within rows: so the scratch needs
// half as many rows as the training set. One pass on one core: the
// result depends only on the rows and the split.
func (t *hgbGrower) partition(start, end int, s hgbSplit) int {
	var left [hgbHistBins]int
	for c := 0; c <= s.bin; c++ {
		left[c] = 1
	}
	if s.missLeft {
		left[t.missBin] = 1
	}
	col := t.codes[s.feat*t.n : (s.feat+1)*t.n]
	rows := t.rows[start:end]
	nl := s.nl
	nr := len(rows) - nl
	if nl <= nr {
		// From the end: the right rows move to the end of rows, in
		// order; the left rows go to the scratch in reverse order.
		sc := t.scratch[:nl+1]
		w, k := len(rows)-1, 0
		for i := len(rows) - 1; i >= 0; i-- {
			r := rows[i]
			l := left[col[r]]
			rows[w] = r
			sc[k] = r
			w -= 1 - l
			k += l
		}
		if k != nl {
			panic("ml: histogram boosting partition: left count differs from the histogram's")
		}
		for j := range nl {
			rows[j] = sc[nl-1-j]
		}
	} else {
		// From the start: the left rows move to the start of rows, the
		// right rows go to the scratch, both in order.
		sc := t.scratch[:nr+1]
		w, k := 0, 0
		for _, r := range rows {
			l := left[col[r]]
			rows[w] = r
			sc[k] = r
			w += l
			k += 1 - l
		}
		if k != nr {
			panic("ml: histogram boosting partition: right count differs from the histogram's")
		}
		copy(rows[nl:], sc[:nr])
	}
	return start + nl
}

// leafRows calls fn with each leaf of the last grown tree and its
// training rows, on all cores (the leaves' rows are disjoint).
func (t *hgbGrower) leafRows(tree *HistTree, fn func(leaf int, rows []int32)) {
	var leaves []int
	for i := range t.nodes {
		if tree.Feature[i] < 0 {
			leaves = append(leaves, i)
		}
	}
	t.pool.blocks(len(leaves), 1, func(lo, hi int) {
		for _, i := range leaves[lo:hi] {
			fn(i, t.rows[t.nodes[i].start:t.nodes[i].end])
		}
	})
}
