package ml

import (
	"math"
	"math/bits"
	"slices"
)

// treeClassImpurity is the Gini index or the entropy (in bits) of class
// weights c summing to w.
func treeClassImpurity(crit int, c []float64, w float64) float64 {
	if crit == treeEntropy {
		var h float64
		for _, v := range c {
			if v > 0 {
				p := v / w
				h -= p * math.Log2(p)
			}
		}
		return h
	}
	var g float64
	for _, v := range c {
		p := v / w
		g += p * p
	}
	return 1 - g
}

// histCost and sortCost estimate the work of finding splits on nf
// features of a node of m rows with nb bins among them, by histogram or
// by sorting the node's codes.
func (t *treeBuilder) histCost(m, nf, nb int, build bool) float64 {
	c := float64(nb * t.stats)
	if build {
		c += 1.5 * float64(m*nf)
	}
	return c
}

func (t *treeBuilder) sortCost(m, nf int) float64 {
	return float64(nf*m) * (2 + float64(bits.Len(uint(m))))
}

// findSplit draws features as scikit-learn's best splitter does and
// returns the best split over them (feature -1 if none), the constant
// features for the children, and the node's histogram when it has one
// for all features (to derive the children's).
func (t *treeBuilder) findSplit(task treeTask, rows []int32) (treeSplit, []uint64, []float64) {
	b := t.bins
	d := b.d
	best := treeSplit{proxy: math.Inf(-1), feature: -1}
	consts := task.consts
	nKnown := 0
	for _, wd := range consts {
		nKnown += bits.OnesCount64(wd)
	}
	t.found = t.found[:0]
	hist := task.hist
	exhaustive := t.p.maxFeat >= d
	if exhaustive && hist == nil && t.histCost(t.m, d, b.off[d], true) < t.sortCost(t.m, d) {
		hist = t.newHist()
		t.buildHist(hist, task.start, task.end, nil)
	}

	visited, nonConst := 0, 0
	remaining := d - nKnown
	i := 0
	for remaining > 0 && (visited < t.p.maxFeat || nonConst == 0) {
		t.batch = t.batch[:0]
		for remaining > len(t.batch) && (visited < t.p.maxFeat || (nonConst == 0 && len(t.batch) == 0)) {
			j := i + t.rng.IntN(d-i)
			t.feats[i], t.feats[j] = t.feats[j], t.feats[i]
			f := t.feats[i]
			i++
			visited++
			if consts[f>>6]&(1<<(f&63)) != 0 {
				continue
			}
			t.batch = append(t.batch, f)
		}
		remaining -= len(t.batch)
		h := hist
		if h == nil {
			nb := 0
			for _, f := range t.batch {
				nb += b.nbins[f]
			}
			if t.histCost(t.m, len(t.batch), nb, true) < t.sortCost(t.m, len(t.batch)) {
				if t.scratch == nil {
					t.scratch = make([]float64, b.off[d]*t.stats)
				}
				h = t.scratch
				for _, f := range t.batch {
					clear(h[b.off[f]*t.stats : b.off[f+1]*t.stats])
				}
				t.buildHist(h, task.start, task.end, t.batch)
			}
		}
		for _, f := range t.batch {
			var ne int
			if h != nil {
				ne = t.scan(h[b.off[f]*t.stats:b.off[f+1]*t.stats], nil, b.nbins[f], f, &best)
			} else {
				ne = t.sortScan(task.start, rows, f, &best)
			}
			if ne <= 1 {
				t.found = append(t.found, f)
			} else {
				nonConst++
			}
		}
	}
	if len(t.found) > 0 {
		consts = slices.Clone(consts)
		for _, f := range t.found {
			consts[f>>6] |= 1 << (f & 63)
		}
	}
	if !exhaustive {
		hist = nil
	}
	return best, consts, hist
}

// buildHist adds the statistics of the rows at positions [lo, hi) into h
// for features fs (nil: all).
func (t *treeBuilder) buildHist(h []float64, lo, hi int, fs []int) {
	if fs == nil {
		fs = t.feats // every feature, in some order
	}
	b, S := t.bins, t.stats
	pk := b.pack
	nw := pk.nw
	// A block of rows at a time, feature by feature, so the block's data
	// is read from memory once.
	const block = 512
	for b0 := lo; b0 < hi; b0 += block {
		b1 := min(b0+block, hi)
		g := t.g[b0*nw : b1*nw]
		var ws []float64
		if t.gw != nil {
			ws = t.gw[b0:b1]
		}
		for _, f := range fs {
			hf := h[b.off[f]*S : b.off[f+1]*S]
			wi, sh := pk.at(f)
			if t.p.crit == treeMSE {
				treeHistMSE(hf, g[wi:], nw, sh, pk.mask, t.gyr[b0:b1], ws, S, t.needCount)
			} else {
				treeHistClass(hf, g[wi:], nw, sh, pk.mask, t.gyc[b0:b1], ws, S, t.needCount)
			}
		}
	}
}

// treeHistMSE adds (sum of w·y, sum of w[, count]) of each row to h at its
// code (S floats per code); row p's code is g[p*nw] >> sh & mask, its
// target ys[p] and weight ws[p] (ws nil: all 1).
func treeHistMSE(h []float64, g []uint64, nw int, sh uint, mask uint64, ys, ws []float64, S int, count bool) {
	if len(ys) == 0 {
		return
	}
	_ = g[(len(ys)-1)*nw]
	if ws == nil {
		for p, y := range ys {
			i := int(g[p*nw]>>sh&mask) * S
			h[i] += y
			h[i+1]++
		}
		return
	}
	ws = ws[:len(ys)]
	cnt := S - 1
	for p, y := range ys {
		i := int(g[p*nw]>>sh&mask) * S
		w := ws[p]
		wy := w * y
		h[i] += wy
		h[i+1] += w
		if count {
			h[i+cnt]++
		}
	}
}

// treeHistClass adds each row's weight (ws nil: 1) to h at its code and
// class (S floats per code, the last the count when count is set); rows
// are read as in treeHistMSE.
func treeHistClass(h []float64, g []uint64, nw int, sh uint, mask uint64, ys []int32, ws []float64, S int, count bool) {
	if len(ys) == 0 {
		return
	}
	_ = g[(len(ys)-1)*nw]
	if ws == nil {
		for p, y := range ys {
			h[int(g[p*nw]>>sh&mask)*S+int(y)]++
		}
		return
	}
	ws = ws[:len(ys)]
	cnt := S - 1
	for p, y := range ys {
		i := int(g[p*nw]>>sh&mask) * S
		h[i+int(y)] += ws[p]
		if count {
			h[i+cnt]++
		}
	}
}

// childHists derives the children's histograms from their parent's h:
// the smaller child's is built, the larger's is h minus it. A child small
// enough to be split by sorting gets none.
func (t *treeBuilder) childHists(h []float64, lo, mid, hi int) (hl, hr []float64) {
	d, nb := t.bins.d, t.bins.off[t.bins.d]
	nl, nr := mid-lo, hi-mid
	wantL := t.histCost(nl, d, nb, false) < t.sortCost(nl, d)
	wantR := t.histCost(nr, d, nb, false) < t.sortCost(nr, d)
	if !wantL && !wantR {
		t.freeHist(h)
		return nil, nil
	}
	small, slo, shi := &hl, lo, mid
	large := &hr
	if nr < nl {
		small, slo, shi, large = &hr, mid, hi, &hl
	}
	s := t.newHist()
	t.buildHist(s, slo, shi, nil)
	for i, v := range s {
		h[i] -= v
	}
	*small, *large = s, h
	if !wantL {
		t.freeHist(hl)
		hl = nil
	}
	if !wantR {
		t.freeHist(hr)
		hr = nil
	}
	return hl, hr
}

// sortScan finds splits on feature f by sorting the codes of the node's
// rows (at positions lo on), and returns the number of distinct codes.
func (t *treeBuilder) sortScan(lo int, rows []int32, f int, best *treeSplit) int {
	m := len(rows)
	if cap(t.keys) < m {
		t.keys = make([]uint64, m)
	}
	keys := t.keys[:m]
	pk := t.bins.pack
	wi, sh := pk.at(f)
	g := t.g[lo*pk.nw:]
	for i, s := range rows {
		keys[i] = g[i*pk.nw+wi]>>sh&pk.mask<<32 | uint64(s)
	}
	slices.Sort(keys)
	if keys[0]>>32 == keys[m-1]>>32 {
		return 1
	}
	S := t.stats
	if cap(t.ent) < m*S {
		t.ent = make([]float64, m*S)
		t.entC = make([]int32, m)
	}
	ent, entC := t.ent[:m*S], t.entC[:m]
	n := -1
	prev := int32(-1)
	cnt := S - 1
	for _, k := range keys {
		c, s := int32(k>>32), int32(uint32(k))
		if c != prev {
			n++
			clear(ent[n*S : n*S+S])
			entC[n] = c
			prev = c
		}
		e := ent[n*S : n*S+S]
		w := 1.0
		if t.w != nil {
			w = t.w[s]
		}
		if t.p.crit == treeMSE {
			e[0] += w * t.yr[s]
			e[1] += w
		} else {
			e[t.yc[s]] += w
		}
		if t.needCount {
			e[cnt]++
		}
	}
	n++
	return t.scan(ent[:n*S], entC[:n], n, f, best)
}

// scan evaluates the splits between consecutive non-empty entries of st
// (S floats each; entry j has code codes[j], or j when codes is nil),
// updates best and returns the number of non-empty entries.
func (t *treeBuilder) scan(st []float64, codes []int32, n, f int, best *treeSplit) int {
	S := t.stats
	minLeaf := float64(t.p.minLeaf)
	W := t.wTot
	M := W
	if t.needCount {
		M = float64(t.m)
	}
	var lw, lc float64
	prev, nonEmpty := -1, 0
	code := func(j int) int {
		if codes == nil {
			return j
		}
		return int(codes[j])
	}
	if t.p.crit == treeMSE {
		tot := t.tot[0]
		var ls float64
		for j := 0; j < n; j++ {
			e := st[j*S : j*S+S]
			ew := e[1]
			if ew == 0 {
				continue
			}
			nonEmpty++
			if prev >= 0 && lc >= minLeaf && M-lc >= minLeaf {
				// ls²/lw + rs²/rw > best, without dividing.
				rs, rw := tot-ls, W-lw
				num, den := ls*ls*rw+rs*rs*lw, lw*rw
				if num > best.proxy*den {
					*best = treeSplit{proxy: num / den, feature: f, lo: code(prev), hi: code(j)}
				}
			}
			ls += e[0]
			lw += ew
			if t.needCount {
				lc += e[S-1]
			} else {
				lc = lw
			}
			prev = j
		}
		return nonEmpty
	}
	k := t.p.k
	left := t.left[:k]
	clear(left)
	tot := t.tot[:k]
	entropy := t.p.crit == treeEntropy
	for j := 0; j < n; j++ {
		e := st[j*S : j*S+k]
		var ew float64
		for _, v := range e {
			ew += v
		}
		if ew == 0 {
			continue
		}
		nonEmpty++
		if prev >= 0 && lc >= minLeaf && M-lc >= minLeaf {
			rw := W - lw
			if entropy {
				var proxy float64
				for c, l := range left {
					proxy += treeXlogX(l) + treeXlogX(tot[c]-l)
				}
				proxy -= treeXlogX(lw) + treeXlogX(rw)
				if proxy > best.proxy {
					*best = treeSplit{proxy: proxy, feature: f, lo: code(prev), hi: code(j)}
				}
			} else {
				// Σl²/lw + Σr²/rw > best, without dividing.
				var sl, sr float64
				for c, l := range left {
					r := tot[c] - l
					sl += l * l
					sr += r * r
				}
				num, den := sl*rw+sr*lw, lw*rw
				if num > best.proxy*den {
					*best = treeSplit{proxy: num / den, feature: f, lo: code(prev), hi: code(j)}
				}
			}
		}
		for c, v := range e {
			left[c] += v
		}
		lw += ew
		if t.needCount {
			lc += st[j*S+S-1]
		} else {
			lc = lw
		}
		prev = j
	}
	return nonEmpty
}

func treeXlogX(x float64) float64 {
	if x <= 0 {
		return 0
	}
	return x * math.Log(x)
}
