package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Losses of histogram boosting.
const (
	hgbSquared = iota
	hgbBinomial
	hgbMultinomial
)

// PCG streams of histogram boosting's random draws.
const (
	hgbStreamBins       = 0x686762696e73 // "hgbins"
	hgbStreamValidation = 0x686762766171 // "hgbvaq"
)

// hgbInputs checks X and y: panics on a length mismatch, ErrEmpty,
// ErrNaN for an infinite feature value or a non-finite target. NaN
// features are allowed.
func hgbInputs(name string, X mat.Matrix, y []float64) (*treeIn, error) {
	checkXy(name, X, y)
	if len(y) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	Xd := dense(X)
	g := Xd.RawMatrix()
	if g.Rows >= math.MaxInt32 {
		return nil, fmt.Errorf("ml: %s: %d rows is more than a tree takes", name, g.Rows)
	}
	for i := range g.Rows {
		for j, v := range g.Data[i*g.Stride : i*g.Stride+g.Cols] {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: %w at row %d, column %d", name, ErrNaN, i, j)
			}
		}
	}
	if err := checkFiniteVec("y", y); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &treeIn{x: g.Data, n: g.Rows, d: g.Cols, stride: g.Stride, y: y}, nil
}

// hgbFit is one histogram boosting fit in progress.
type hgbFit struct {
	name     string
	loss     int
	k        int // trees per iteration
	in       *treeIn
	lr       float64
	maxIter  int
	p        hgbParams
	maxBins  int
	early    bool
	valFrac  float64
	noChange int
	tol      float64
	seed     uint64

	init  []float64
	trees [][]HistTree
}

func hgbSetup(name string, loss int, lr float64, maxIter, maxLeaves, maxDepth, minLeaf int, l2 float64, maxBins int,
	early string, valFrac float64, noChange int, tol float64, seed uint64, in *treeIn) (*hgbFit, error) {
	var errs []string
	if !(lr > 0) || math.IsInf(lr, 0) {
		errs = append(errs, fmt.Sprintf("learning_rate must be > 0 (got %v)", lr))
	}
	if maxIter < 1 {
		errs = append(errs, fmt.Sprintf("max_iter must be >= 1 (got %d)", maxIter))
	}
	if maxLeaves != 0 && maxLeaves < 2 {
		errs = append(errs, fmt.Sprintf("max_leaf_nodes must be >= 2 or unlimited (got %d)", maxLeaves))
	}
	if maxDepth < 0 {
		errs = append(errs, fmt.Sprintf("max_depth must be >= 1 or unlimited (got %d)", maxDepth))
	}
	if minLeaf < 1 {
		errs = append(errs, fmt.Sprintf("min_samples_leaf must be >= 1 (got %d)", minLeaf))
	}
	if !(l2 >= 0) || math.IsInf(l2, 0) {
		errs = append(errs, fmt.Sprintf("l2_regularization must be >= 0 (got %v)", l2))
	}
	if maxBins < 2 || maxBins > 255 {
		errs = append(errs, fmt.Sprintf("max_bins must be from 2 to 255 (got %d)", maxBins))
	}
	if !(valFrac > 0 && valFrac < 1) {
		errs = append(errs, fmt.Sprintf("validation_fraction must be in (0, 1) (got %v)", valFrac))
	}
	if noChange < 1 {
		errs = append(errs, fmt.Sprintf("n_iter_no_change must be >= 1 (got %d)", noChange))
	}
	if !(tol >= 0) {
		errs = append(errs, fmt.Sprintf("tol must be >= 0 (got %v)", tol))
	}
	var on bool
	switch strings.ToLower(early) {
	case "auto", "":
		on = in.n > 10000
	case "true":
		on = true
	case "false":
		on = false
	default:
		errs = append(errs, fmt.Sprintf("early_stopping must be auto, true or false (got %q)", early))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ml: %s: %s", name, strings.Join(errs, "; "))
	}
	f := &hgbFit{name: name, loss: loss, k: 1, in: in, lr: lr, maxIter: maxIter,
		p:       hgbParams{maxLeaves: maxLeaves, maxDepth: maxDepth, minLeaf: minLeaf, l2: l2, minHess: 1e-3},
		maxBins: maxBins, early: on, valFrac: valFrac, noChange: noChange, tol: tol, seed: seed}
	if loss == hgbMultinomial {
		f.k = in.k
	}
	return f, nil
}

// split returns the training and validation rows, each ascending: nil
// (every row) and nil without early stopping, else a random
// validation_fraction held out (stratified by class for classifiers).
func (f *hgbFit) split() (train, val []int32, err error) {
	n := f.in.n
	if !f.early {
		return nil, nil, nil
	}
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	rng := rand.New(rand.NewPCG(f.seed, hgbStreamValidation))
	rng.Shuffle(n, func(i, j int) { all[i], all[j] = all[j], all[i] })
	hold := make([]bool, n)
	if f.loss == hgbSquared {
		nv := int(math.Ceil(f.valFrac * float64(n)))
		for _, r := range all[:min(nv, n)] {
			hold[r] = true
		}
	} else {
		counts := make([]int, f.in.k)
		for _, c := range f.in.y {
			counts[int(c)]++
		}
		want := make([]int, f.in.k)
		for c, m := range counts {
			want[c] = int(math.Round(f.valFrac * float64(m)))
		}
		for _, r := range all {
			c := int(f.in.y[r])
			if want[c] > 0 {
				hold[r] = true
				want[c]--
			}
		}
	}
	train, val = all[:0:0], nil
	for i := range n {
		if hold[i] {
			val = append(val, int32(i))
		} else {
			train = append(train, int32(i))
		}
	}
	if len(train) == 0 || len(val) == 0 {
		return nil, nil, fmt.Errorf("%s: early stopping on %d rows leaves %d to fit and %d to validate on: %w",
			f.name, n, len(train), len(val), ErrTooFewSamples)
	}
	return train, val, nil
}

// run fits the iterations.
func (f *hgbFit) run(progress Progress) error {
	in, K := f.in, f.k
	train, val, err := f.split()
	if err != nil {
		return err
	}
	binner := newHgbBinner(in.x, in.n, in.stride, in.d, train, f.maxBins, f.seed)
	codes, hasMiss := binner.codes(in.x, in.n, in.stride, train)
	var vcodes []uint8
	if val != nil {
		vcodes, _ = binner.codes(in.x, in.n, in.stride, val)
	}
	n, nv := len(train), len(val)
	if train == nil {
		n = in.n
	}
	// Targets of the training and validation rows.
	// Without a validation split the training rows are all rows, in order.
	// For classifiers they are the class codes as float64.
	y := in.y
	var yv []float64
	if val != nil {
		y, yv = make([]float64, n), make([]float64, nv)
		for i, r := range train {
			y[i] = in.y[r]
		}
		for i, r := range val {
			yv[i] = in.y[r]
		}
	}
	f.init = hgbInit(f.loss, K, y)
	// Only the codes are needed from here on: drop the reference to the
	// float64 input, so a copy made from a matrix that was not dense can
	// be collected.
	in.x = nil
	// The training rows' raw scores are kept in float32, summed in float64
	// where they are used: for one score per row (squared error, binary
	// log-loss) as offsets from the initial score; for K classes as the
	// K−1 differences between class k's offset and the last class's
	// (class k's at delta[k*n:]), which is all the class probabilities
	// depend on. The validation rows' (a fraction of them) are kept in
	// float64, every class's.
	nd := K
	if f.loss == hgbMultinomial {
		nd = K - 1
	}
	delta, rawv := make([]float32, nd*n), make([]float64, K*nv)
	for k := range K {
		for i := range nv {
			rawv[k*nv+i] = f.init[k]
		}
	}
	// Gradients in float32, as scikit-learn and LightGBM keep them
	// (histogram sums are float64), for one tree at a time. No stored
	// hessians: 1 for the squared error, |g|(1 − |g|) for the log-losses.
	// The classes' trees of an iteration all fit the gradients at the
	// iteration's start, so their additions to the scores wait until the
	// last class's tree is grown.
	g := make([]float32, n)
	grower := newHgbGrower(f.p, codes, n, in.d, binner, hasMiss, f.loss == hgbSquared)
	defer grower.close()
	var scores []float64
	if f.early {
		scores = append(scores, -hgbLoss(f.loss, K, rawv, yv))
	}
	f.trees = make([][]HistTree, 0, f.maxIter)
	for it := range f.maxIter {
		row := make([]HistTree, K)
		for k := range K {
			hgbGradients(grower.pool, f.loss, k, f.init, delta, y, g)
			tree := grower.grow(g, f.lr)
			if nv > 0 {
				colv := rawv[k*nv : (k+1)*nv]
				for i := range colv {
					colv[i] += tree.Value[tree.leafBinned(vcodes, nv, i, f.maxBins)]
				}
			}
			row[k] = *tree
		}
		if f.loss != hgbMultinomial {
			tree := &row[0]
			grower.leafRows(tree, func(leaf int, rows []int32) {
				v := float32(tree.Value[leaf])
				for _, r := range rows {
					delta[r] += v
				}
			})
		} else {
			// Each row's leaves are found again from the codes, row by
			// row, so each tree reads its features' codes in order.
			routers := make([]hgbRouter, K)
			for k := range routers {
				routers[k] = newHgbRouter(&row[k], n, f.maxBins)
			}
			last := &routers[K-1]
			grower.pool.blocks(n, hgbChunk, func(lo, hi int) {
				var ll, lk [hgbRouteBlock]int32
				for a := lo; a < hi; a += hgbRouteBlock {
					m := min(hgbRouteBlock, hi-a)
					last.leaves(codes, n, a, ll[:m], f.maxBins)
					for k := range K - 1 {
						rt := &routers[k]
						rt.leaves(codes, n, a, lk[:m], f.maxBins)
						col := delta[k*n+a : k*n+a+m]
						for i := range col {
							col[i] = float32(float64(col[i]) + rt.tree.Value[lk[i]] - last.tree.Value[ll[i]])
						}
					}
				}
			})
		}
		for k := range row {
			row[k].bins = nil
		}
		f.trees = append(f.trees, row)
		if progress != nil {
			if err := progress(it+1, f.maxIter); err != nil {
				f.trees = nil
				return fmt.Errorf("%s stopped after %d of %d iterations: %w", f.name, it+1, f.maxIter, err)
			}
		}
		if f.early {
			scores = append(scores, -hgbLoss(f.loss, K, rawv, yv))
			if hgbShouldStop(scores, f.noChange, f.tol) {
				break
			}
		}
	}
	return nil
}

// hgbShouldStop is scikit-learn's rule: stop when none of the last
// noChange scores beats the one before them by more than tol.
func hgbShouldStop(scores []float64, noChange int, tol float64) bool {
	ref := noChange + 1
	if len(scores) < ref {
		return false
	}
	base := scores[len(scores)-ref] + tol
	for _, s := range scores[len(scores)-ref+1:] {
		if s > base {
			return false
		}
	}
	return true
}

// hgbInit returns the initial raw scores: the mean target, the log-odds
// of class 1, or the centred log class priors, with probabilities clipped
// to [eps, 1-eps].
func hgbInit(loss, K int, y []float64) []float64 {
	const eps = 0x1p-52
	switch loss {
	case hgbSquared:
		var s float64
		for _, v := range y {
			s += v
		}
		return []float64{s / float64(len(y))}
	case hgbBinomial:
		var s float64
		for _, c := range y {
			s += c
		}
		p := math.Min(math.Max(s/float64(len(y)), eps), 1-eps)
		return []float64{math.Log(p / (1 - p))}
	}
	out := make([]float64, K)
	for _, c := range y {
		out[int(c)]++
	}
	var mean float64
	for k := range out {
		p := math.Min(math.Max(out[k]/float64(len(y)), eps), 1-eps)
		out[k] = math.Log(p)
		mean += out[k]
	}
	mean /= float64(K)
	for k := range out {
		out[k] -= mean
	}
	return out
}

// hgbGradients sets g to the gradients of the loss for the scores of
// class k at row i (init[k] + delta[i] for one score per row; for K
// classes, the differences init[j] − init[K−1] + delta[j*n+i] to the last
// class, from which the probabilities follow), on all cores.
func hgbGradients(pool *workPool, loss, k int, init []float64, delta []float32, y []float64, g []float32) {
	n := len(g)
	// c[j] = init[j] − init[K−1], class j's initial score less the last's.
	K := len(init)
	c := make([]float64, K)
	for j := range K {
		c[j] = init[j] - init[K-1]
	}
	pool.blocks(n, hgbChunk, func(lo, hi int) {
		switch loss {
		case hgbSquared:
			for i := lo; i < hi; i++ {
				g[i] = float32(init[0] + float64(delta[i]) - y[i])
			}
		case hgbBinomial:
			for i := lo; i < hi; i++ {
				p := 1 / (1 + math.Exp(-(init[0] + float64(delta[i]))))
				g[i] = float32(p - y[i])
			}
		default:
			// r_j, class j's raw score less the last class's, is
			// c[j] + delta[j*n+i] (0 for the last class);
			// p_k = 1 / Σ_j exp(r_j − r_k), which an overflow makes 0.
			for i := lo; i < hi; i++ {
				rk, s := 0.0, 1.0 // the last class: exp(0 − 0)
				if k < K-1 {
					rk = c[k] + float64(delta[k*n+i])
					s = math.Exp(-rk)
				}
				for j := range K - 1 {
					if j == k {
						s++
					} else {
						s += math.Exp(c[j] + float64(delta[j*n+i]) - rk)
					}
				}
				q := 1 / s
				if int(y[i]) == k {
					q--
				}
				g[i] = float32(q)
			}
		}
	})
}

// hgbLoss is the mean loss at raw: half the squared error, the log-loss.
func hgbLoss(loss, K int, raw, y []float64) float64 {
	n := len(raw) / K
	var s float64
	switch loss {
	case hgbSquared:
		for i, v := range y {
			d := v - raw[i]
			s += d * d / 2
		}
	case hgbBinomial:
		for i, c := range y {
			r := raw[i]
			s += math.Max(r, 0) + math.Log1p(math.Exp(-math.Abs(r))) - c*r
		}
	default:
		for i, c := range y {
			mx := raw[i]
			for k := 1; k < K; k++ {
				mx = max(mx, raw[k*n+i])
			}
			var e float64
			for k := range K {
				e += math.Exp(raw[k*n+i] - mx)
			}
			s += mx + math.Log(e) - raw[int(c)*n+i]
		}
	}
	return s / float64(n)
}
