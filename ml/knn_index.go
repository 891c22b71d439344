package ml

import (
	"math"
	mbits "math/bits"
	"slices"
)

// Nearest-neighbour search for the k-NN models and k-means.
//
// Two exact searches, both ordering neighbours by squared Euclidean
// distance and then by training row (so ties go to the earlier row, as
// scikit-learn's stable sorts do):
//
//   - brute force for more than knnKDMaxDims features: distances as
//     |x|² - 2 q·x (scikit-learn's formulation) for blocks of 4 queries
//     against panels of 8 training rows, in AVX2 and FMA instructions on
//     amd64 processors that have them and in Go with math.FMA otherwise
//     (the same results), with the training rows visited in cache-sized
//     chunks and a running k-th distance that skips most rows at once;
//   - a k-d tree (median splits on the widest feature, leaves of at most
//     knnLeafSize rows, bounding-box pruning) for few features, where it
//     visits a small fraction of the rows.
//
// Queries are searched in blocks on all cores; each query's result does
// not depend on the others, so neither does it depend on the core count.
const (
	knnKDMaxDims = 6
	knnLeafSize  = 30
	knnBlockRows = 256 // query rows per parallel block
)

// knnIndex is a search structure over n training rows of d features.
type knnIndex struct {
	n, d int
	x    []float64 // row-major training rows

	// brute force: panels of 8 rows, feature-interleaved; squared norms,
	// +Inf for padding rows
	panels []float64
	norms  []float64
	np     int

	kd *knnKD
}

// newKNNIndex builds the search structure for x (n×d, row-major) with
// algorithm "auto", "brute" or "kd_tree".
func newKNNIndex(x []float64, n, d int, algorithm string) *knnIndex {
	ix := &knnIndex{n: n, d: d, x: x}
	if algorithm == "kd_tree" || (algorithm != "brute" && d <= knnKDMaxDims) {
		ix.kd = newKNNKD(x, n, d)
		return ix
	}
	ix.np = (n + 7) / 8
	ix.panels = make([]float64, ix.np*8*d)
	ix.norms = make([]float64, ix.np*8)
	treeParallelBlocks(ix.np, knnBlockRows, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			pan := ix.panels[p*8*d : (p+1)*8*d]
			for j := range 8 {
				i := p*8 + j
				if i >= n {
					ix.norms[i] = math.Inf(1)
					continue
				}
				var s float64
				for l, v := range x[i*d : i*d+d] {
					pan[l*8+j] = v
					s += v * v
				}
				ix.norms[i] = s
			}
		}
	})
	return ix
}

// query finds the k nearest training rows of each of the nq rows of q
// (row i at q[i*stride:]) and writes their squared distances and indices,
// nearest first, to dist[i*k:] and ind[i*k:].
func (ix *knnIndex) query(q []float64, nq, stride, k int, dist []float64, ind []int32) {
	treeParallelBlocks(nq, knnBlockRows, func(lo, hi int) {
		if ix.kd != nil {
			for i := lo; i < hi; i++ {
				ix.kd.search(q[i*stride:i*stride+ix.d], k, dist[i*k:(i+1)*k], ind[i*k:(i+1)*k])
			}
			return
		}
		ix.bruteBlock(q, stride, lo, hi, k, dist, ind)
	})
}

// bruteBlock searches query rows lo..hi-1 by brute force.
func (ix *knnIndex) bruteBlock(q []float64, stride, lo, hi, k int, dist []float64, ind []int32) {
	qp := knnPackQueries(q, stride, lo, hi, ix.d)
	bd, bi := dist[lo*k:hi*k], ind[lo*k:hi*k]
	ix.bruteScan(qp, hi-lo, k, bd, bi)
	// Distances so far lack |q|².
	d := ix.d
	for r := range hi - lo {
		row := q[(lo+r)*stride : (lo+r)*stride+d]
		var s float64
		for _, v := range row {
			s += v * v
		}
		for j := range k {
			bd[r*k+j] = max(0, bd[r*k+j]+s)
		}
	}
}

// knnPackQueries returns query rows lo..hi-1 of q packed for the kernel:
// quads of rows, feature-interleaved, the last quad padded with zeros.
func knnPackQueries(q []float64, stride, lo, hi, d int) []float64 {
	nb := hi - lo
	qp := make([]float64, (nb+3)/4*4*d)
	for r := range nb {
		row := q[(lo+r)*stride : (lo+r)*stride+d]
		base := (r / 4) * 4 * d
		for l, v := range row {
			qp[base+l*4+r%4] = v
		}
	}
	return qp
}

// bruteScan finds the k nearest training rows of the nb queries packed in
// qp, writing |x|² - 2 q·x and the row index, nearest first, to bd[r*k:]
// and bi[r*k:] for query r.
func (ix *knnIndex) bruteScan(qp []float64, nb, k int, bd []float64, bi []int32) {
	d := ix.d
	quads := (nb + 3) / 4
	cnt := make([]int, nb)
	chunk := max(1, 4096/d) // panels per chunk: about 256 KB of rows
	var thr [4]float64
	var out [32]float64
	for c0 := 0; c0 < ix.np; c0 += chunk {
		c1 := min(c0+chunk, ix.np)
		for qd := range quads {
			for i := range 4 {
				r := qd*4 + i
				switch {
				case r >= nb:
					thr[i] = math.Inf(-1)
				case cnt[r] < k:
					thr[i] = math.Inf(1)
				default:
					thr[i] = bd[r*k+k-1]
				}
			}
			qq := qp[qd*4*d : (qd+1)*4*d]
			for p := c0; p < c1; {
				adv, mask := knnScan(qq, ix.panels[p*8*d:c1*8*d], ix.norms[p*8:c1*8], d, c1-p, &thr, &out)
				p += adv
				if mask == 0 {
					break
				}
				for i := range 4 {
					bits := (mask >> (8 * i)) & 0xff
					r := qd*4 + i
					for bits != 0 {
						j := mbits.TrailingZeros64(bits)
						bits &= bits - 1
						v := out[i*8+j]
						if !(v < thr[i]) {
							continue
						}
						cnt[r] = knnInsert(bd[r*k:(r+1)*k], bi[r*k:(r+1)*k], cnt[r], v, int32(p*8+j))
						if cnt[r] == k {
							thr[i] = bd[r*k+k-1]
						}
					}
				}
				p++
			}
		}
	}
}

// knnInsert inserts (v, j) into the sorted first cnt of bd, bi (capacity
// k = len(bd)), dropping the last when full, and returns the new count.
// The caller has checked that (v, j) beats the last when full.
func knnInsert(bd []float64, bi []int32, cnt int, v float64, j int32) int {
	pos := cnt
	if cnt == len(bd) {
		pos--
	} else {
		cnt++
	}
	for pos > 0 && (bd[pos-1] > v || (bd[pos-1] == v && bi[pos-1] > j)) {
		bd[pos], bi[pos] = bd[pos-1], bi[pos-1]
		pos--
	}
	bd[pos], bi[pos] = v, j
	return cnt
}

// knnScanGo is the brute-force kernel. q holds 4 query rows interleaved
// (q[l*4+i] is feature l of query i), panels np panels of 8 training rows
// interleaved (panel[l*8+j]), norms their squared norms. For each panel p
// in turn it computes v[i*8+j] = norms[j] - 2·Σ_l q[l*4+i]·panel[l*8+j],
// summing fused multiply-adds in l order, and stops at the first panel
// where some v[i*8+j] < thr[i]: it copies v to out and returns p and the
// mask of those (i*8+j) bits. It returns np, 0 if there is none.
func knnScanGo(q, panels, norms []float64, d, np int, thr *[4]float64, out *[32]float64) (int, uint64) {
	for p := range np {
		pan := panels[p*8*d : (p+1)*8*d]
		var acc [32]float64
		for l := range d {
			t := pan[l*8 : l*8+8]
			for i := range 4 {
				qi := q[l*4+i]
				a := acc[i*8 : i*8+8]
				for j, tj := range t {
					a[j] = math.FMA(qi, tj, a[j])
				}
			}
		}
		nm := norms[p*8 : p*8+8]
		var mask uint64
		for i := range 4 {
			for j := range 8 {
				v := nm[j] - (acc[i*8+j] + acc[i*8+j])
				acc[i*8+j] = v
				if v < thr[i] {
					mask |= 1 << (i*8 + j)
				}
			}
		}
		if mask != 0 {
			*out = acc
			return p, mask
		}
	}
	return np, 0
}

// knnDistsGo computes the values of knnScanGo for all np panels, without
// thresholds: panel p's 32 values go to out[p*32:].
func knnDistsGo(q, panels, norms []float64, d, np int, out []float64) {
	for p := range np {
		var o [32]float64
		pan := panels[p*8*d : (p+1)*8*d]
		var acc [32]float64
		for l := range d {
			t := pan[l*8 : l*8+8]
			for i := range 4 {
				qi := q[l*4+i]
				a := acc[i*8 : i*8+8]
				for j, tj := range t {
					a[j] = math.FMA(qi, tj, a[j])
				}
			}
		}
		nm := norms[p*8 : p*8+8]
		for i := range 4 {
			for j := range 8 {
				o[i*8+j] = nm[j] - (acc[i*8+j] + acc[i*8+j])
			}
		}
		copy(out[p*32:], o[:])
	}
}

// knnMinGo computes the values of knnDistsGo and keeps, for each panel p
// and query i, the smallest in minv[p*4+i] and the lowest point j (0..7)
// holding it in mini[p*4+i].
func knnMinGo(q, panels, norms []float64, d, np int, minv []float64, mini []int64) {
	var out [32]float64
	for p := range np {
		knnDistsGo(q, panels[p*8*d:(p+1)*8*d], norms[p*8:(p+1)*8], d, 1, out[:])
		for i := range 4 {
			best, bj := out[i*8], 0
			for j, v := range out[i*8+1 : i*8+8] {
				if v < best {
					best, bj = v, j+1
				}
			}
			minv[p*4+i], mini[p*4+i] = best, int64(bj)
		}
	}
}

// nearest sets, for each of the nb queries packed in qp, ind to its
// nearest training row (ties to the lower index) and dist to |x|² - 2 q·x
// for it. It suits few training rows (k-means centers): it computes all
// distances.
func (ix *knnIndex) nearest(qp []float64, nb int, dist []float64, ind []int32) {
	d := ix.d
	minv := make([]float64, ix.np*4)
	mini := make([]int64, ix.np*4)
	for qd := range (nb + 3) / 4 {
		knnMin(qp[qd*4*d:(qd+1)*4*d], ix.panels, ix.norms, d, ix.np, minv, mini)
		for i := range min(4, nb-qd*4) {
			best, bi := minv[i], int32(mini[i])
			for p := 1; p < ix.np; p++ {
				if v := minv[p*4+i]; v < best {
					best, bi = v, int32(p*8)+int32(mini[p*4+i])
				}
			}
			dist[qd*4+i], ind[qd*4+i] = best, bi
		}
	}
}

// knnKD is a k-d tree over training rows.
type knnKD struct {
	d     int
	pts   []float64 // rows in tree order
	idx   []int32   // training row of each
	start []int32   // node i holds pts rows start[i]:end[i]
	end   []int32
	right []int32   // right child, -1 at leaves; the left child is i+1
	lo    []float64 // bounding box, d per node
	hi    []float64
}

func newKNNKD(x []float64, n, d int) *knnKD {
	t := &knnKD{d: d, pts: slices.Clone(x[:n*d]), idx: make([]int32, n)}
	for i := range t.idx {
		t.idx[i] = int32(i)
	}
	t.build(0, n)
	return t
}

// build adds the node for rows s..e-1 and its subtree, depth first.
func (t *knnKD) build(s, e int) {
	d := t.d
	id := len(t.start)
	t.start = append(t.start, int32(s))
	t.end = append(t.end, int32(e))
	t.right = append(t.right, -1)
	lo := slices.Clone(t.pts[s*d : s*d+d])
	hi := slices.Clone(lo)
	for i := s + 1; i < e; i++ {
		for l, v := range t.pts[i*d : i*d+d] {
			lo[l] = min(lo[l], v)
			hi[l] = max(hi[l], v)
		}
	}
	t.lo = append(t.lo, lo...)
	t.hi = append(t.hi, hi...)
	if e-s <= knnLeafSize {
		return
	}
	dim := 0
	for l := range d {
		if hi[l]-lo[l] > hi[dim]-lo[dim] {
			dim = l
		}
	}
	if hi[dim] == lo[dim] {
		return // all rows equal
	}
	mid := (s + e) / 2
	t.selectNth(s, e, mid, dim)
	t.build(s, mid)
	t.right[id] = int32(len(t.start))
	t.build(mid, e)
}

// selectNth reorders rows s..e-1 so row m has the value on dim it would
// have sorted, with no larger values before it and no smaller after.
func (t *knnKD) selectNth(s, e, m, dim int) {
	d := t.d
	val := func(i int) float64 { return t.pts[i*d+dim] }
	swap := func(i, j int) {
		if i == j {
			return
		}
		a, b := t.pts[i*d:i*d+d], t.pts[j*d:j*d+d]
		for l := range a {
			a[l], b[l] = b[l], a[l]
		}
		t.idx[i], t.idx[j] = t.idx[j], t.idx[i]
	}
	for e-s > 1 {
		// Median of three as pivot, moved to e-1.
		a, b, c := s, (s+e)/2, e-1
		if val(a) > val(b) {
			a, b = b, a
		}
		if val(b) > val(c) {
			b = c
			if val(a) > val(b) {
				b = a
			}
		}
		swap(b, e-1)
		pv := val(e - 1)
		st := s
		for i := s; i < e-1; i++ {
			if val(i) < pv {
				swap(i, st)
				st++
			}
		}
		swap(st, e-1)
		switch {
		case m < st:
			e = st
		case m > st:
			s = st + 1
		default:
			return
		}
	}
}

// search writes the k nearest rows to q (squared distances, indices),
// nearest first; ties go to the lower index.
func (t *knnKD) search(q []float64, k int, bd []float64, bi []int32) {
	d := t.d
	cnt := 0
	worst := math.Inf(1)
	type item struct {
		node int32
		lb   float64
	}
	stack := make([]item, 1, 64)
	stack[0] = item{0, t.boxDist(0, q)}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.lb > worst {
			continue
		}
		n := int(it.node)
		if r := t.right[n]; r < 0 {
			for i := t.start[n]; i < t.end[n]; i++ {
				p := t.pts[int(i)*d : int(i)*d+d]
				var s float64
				for l, v := range p {
					x := q[l] - v
					s += x * x
				}
				j := t.idx[i]
				if cnt == k && (s > worst || (s == worst && j > bi[k-1])) {
					continue
				}
				cnt = knnInsert(bd, bi, cnt, s, j)
				if cnt == k {
					worst = bd[k-1]
				}
			}
			continue
		}
		l, r := int32(n+1), t.right[n]
		ll, lr := t.boxDist(int(l), q), t.boxDist(int(r), q)
		if ll <= lr {
			l, r, ll, lr = r, l, lr, ll
		}
		// Push the farther child first, so the nearer is searched first.
		if ll <= worst {
			stack = append(stack, item{l, ll})
		}
		if lr <= worst {
			stack = append(stack, item{r, lr})
		}
	}
}

// boxDist is the squared distance from q to node n's bounding box.
func (t *knnKD) boxDist(n int, q []float64) float64 {
	d := t.d
	lo, hi := t.lo[n*d:n*d+d], t.hi[n*d:n*d+d]
	var s float64
	for l, v := range q {
		var x float64
		if v < lo[l] {
			x = lo[l] - v
		} else if v > hi[l] {
			x = v - hi[l]
		}
		s += x * x
	}
	return s
}
