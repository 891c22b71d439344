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
		t.buildHist(hist, rows, nil)
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
				t.buildHist(h, rows, t.batch)
			}
		}
		for _, f := range t.batch {
			var ne int
			if h != nil {
				ne = t.scan(h[b.off[f]*t.stats:b.off[f+1]*t.stats], nil, b.nbins[f], f, &best)
			} else {
				ne = t.sortScan(rows, f, &best)
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

// buildHist adds rows' statistics into h for features fs (nil: all).
func (t *treeBuilder) buildHist(h []float64, rows []int32, fs []int) {
	b := t.bins
	d, S, off, codes := b.d, t.stats, b.off, b.codes
	if fs == nil && t.w == nil {
		if t.p.crit == treeMSE {
			for _, s := range rows {
				row := codes[int(s)*d : int(s)*d+d]
				y := t.yr[s]
				for f, c := range row {
					i := (off[f] + int(c)) * 2
					h[i] += y
					h[i+1]++
				}
			}
			return
		}
		for _, s := range rows {
			row := codes[int(s)*d : int(s)*d+d]
			y := int(t.yc[s])
			for f, c := range row {
				h[(off[f]+int(c))*S+y]++
			}
		}
		return
	}
	if fs == nil {
		fs = t.feats // every feature, in some order
	}
	cnt := S - 1
	for _, s := range rows {
		row := codes[int(s)*d : int(s)*d+d]
		w := 1.0
		if t.w != nil {
			w = t.w[s]
		}
		if t.p.crit == treeMSE {
			wy := w * t.yr[s]
			for _, f := range fs {
				i := (off[f] + int(row[f])) * S
				h[i] += wy
				h[i+1] += w
				if t.needCount {
					h[i+cnt]++
				}
			}
			continue
		}
		y := int(t.yc[s])
		for _, f := range fs {
			i := (off[f] + int(row[f])) * S
			h[i+y] += w
			if t.needCount {
				h[i+cnt]++
			}
		}
	}
}

// childHists derives the children's histograms from their parent's h:
// the smaller child's is built, the larger's is h minus it. A child small
// enough to be split by sorting gets none.
func (t *treeBuilder) childHists(h []float64, left, right []int32) (hl, hr []float64) {
	d, nb := t.bins.d, t.bins.off[t.bins.d]
	wantL := t.histCost(len(left), d, nb, false) < t.sortCost(len(left), d)
	wantR := t.histCost(len(right), d, nb, false) < t.sortCost(len(right), d)
	if !wantL && !wantR {
		t.freeHist(h)
		return nil, nil
	}
	small, smallRows := &hl, left
	large := &hr
	if len(right) < len(left) {
		small, smallRows, large = &hr, right, &hl
	}
	s := t.newHist()
	t.buildHist(s, smallRows, nil)
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

// sortScan finds splits on feature f by sorting the node's codes, and
// returns the number of distinct codes.
func (t *treeBuilder) sortScan(rows []int32, f int, best *treeSplit) int {
	d, codes := t.bins.d, t.bins.codes
	m := len(rows)
	if cap(t.keys) < m {
		t.keys = make([]uint64, m)
	}
	keys := t.keys[:m]
	for i, s := range rows {
		keys[i] = uint64(codes[int(s)*d+f])<<32 | uint64(s)
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
