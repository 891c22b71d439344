package ml

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"
)

// KMeans is scikit-learn's KMeans with Lloyd's algorithm: NInit runs from
// different starting centers, each alternating between assigning rows to
// their nearest center and moving centers to the mean of their rows, until
// no label changes, the centers move less than Tol (relative to the mean
// feature variance, squared shift summed over centers), or MaxIter
// iterations; the run with the lowest inertia (sum of squared distances of
// rows to their centers) is kept. Starting centers come from greedy
// k-means++ (2 + ln k candidates per center, the one lowering the
// potential most kept) or are random distinct rows ("random"). A cluster
// left empty takes the row farthest from its center, as in scikit-learn.
//
// Rows are centered on their mean while fitting, as scikit-learn does.
// Runs go on all cores; run i draws from a generator seeded with (Seed,
// i), so the result does not depend on the number of cores.
//
// KMeans is a Transformer (Transform gives distances to the centers), and
// Predict gives cluster ids.
type KMeans struct {
	NClusters int     `json:"n_clusters" ml:"param"`
	Init      string  `json:"init" ml:"param"` // "k-means++" or "random"
	NInit     int     `json:"n_init" ml:"param"`
	MaxIter   int     `json:"max_iter" ml:"param"`
	Tol       float64 `json:"tol" ml:"param"`
	Seed      uint64  `json:"seed" ml:"param"`

	NFeatures      int         `json:"n_features_in"`
	ClusterCenters [][]float64 `json:"cluster_centers"`
	Labels         []int       `json:"labels"` // cluster of each training row
	Inertia        float64     `json:"inertia"`
	NIter          int         `json:"n_iter"` // iterations of the best run

	progress Progress
}

var (
	_ Transformer = (*KMeans)(nil)
	_ Progressor  = (*KMeans)(nil)
)

// NewKMeans returns a model with scikit-learn 1.2's defaults: 8 clusters,
// k-means++, 10 runs, at most 300 iterations, tol 1e-4.
func NewKMeans() *KMeans {
	return &KMeans{NClusters: 8, Init: "k-means++", NInit: 10, MaxIter: 300, Tol: 1e-4}
}

// SetParams sets hyperparameters by scikit-learn name (n_clusters, init,
// n_init, max_iter, tol, seed); see SetParams.
func (m *KMeans) SetParams(params map[string]any) error { return SetParams(m, params) }

// SetProgress sets a hook called as runs finish with (runs done, NInit),
// from one goroutine. An error from it stops Fit, which returns it
// wrapped.
func (m *KMeans) SetProgress(p Progress) { m.progress = p }

// Fit clusters the rows of X. It returns ErrEmpty for no rows, ErrNaN for
// a non-finite value, ErrTooFewSamples for fewer rows than NClusters, an
// error for an out-of-range hyperparameter, or the progress hook's error.
func (m *KMeans) Fit(X mat.Matrix) error {
	const name = "KMeans"
	Xd := dense(X)
	n, d := Xd.Dims()
	if n == 0 || d == 0 {
		return fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	if err := checkFinite(Xd); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	k := m.NClusters
	if k < 1 || m.NInit < 1 || m.MaxIter < 1 || !(m.Tol >= 0) || (m.Init != "k-means++" && m.Init != "random") {
		return fmt.Errorf("ml: %s: need n_clusters, n_init, max_iter >= 1, tol >= 0, init k-means++ or random (got %d, %d, %d, %v, %q)", name, k, m.NInit, m.MaxIter, m.Tol, m.Init)
	}
	if n < k {
		return fmt.Errorf("%s: %w: %d rows for %d clusters", name, ErrTooFewSamples, n, k)
	}
	km := newKMeansData(Xd, m.Tol)
	runs := make([]*kmeansRun, m.NInit)
	var next atomic.Int64
	var stop atomic.Bool
	done := make(chan struct{}, m.NInit)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), m.NInit) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= m.NInit {
					return
				}
				rng := rand.New(rand.NewPCG(m.Seed, uint64(i)))
				var centers []float64
				if m.Init == "random" {
					centers = km.randomInit(k, rng)
				} else {
					centers = km.plusPlus(k, rng)
				}
				runs[i] = km.lloyd(centers, m.MaxIter, &stop)
				if runs[i] == nil {
					return
				}
				done <- struct{}{}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	var hookErr error
	finished := 0
	for range done {
		finished++
		if m.progress != nil && hookErr == nil {
			if err := m.progress(finished, m.NInit); err != nil {
				hookErr = err
				stop.Store(true)
			}
		}
	}
	if hookErr != nil {
		return fmt.Errorf("%s stopped after %d of %d runs: %w", name, finished, m.NInit, hookErr)
	}
	best := runs[0]
	for _, r := range runs[1:] {
		if r.inertia < best.inertia {
			best = r
		}
	}
	m.NFeatures = d
	m.ClusterCenters = make([][]float64, k)
	for c := range k {
		m.ClusterCenters[c] = make([]float64, d)
		for l := range d {
			m.ClusterCenters[c][l] = best.centers[c*d+l] + km.mean[l]
		}
	}
	m.Labels = make([]int, n)
	for i, c := range best.labels {
		m.Labels[i] = int(c)
	}
	m.Inertia, m.NIter = best.inertia, best.nIter
	return nil
}

// Predict writes the id of the nearest cluster center of each row of X
// into dst (allocated when its length is not the number of rows) and
// returns it; ties go to the lower id. It panics if the model is not
// fitted or X has the wrong number of columns.
func (m *KMeans) Predict(dst []float64, X mat.Matrix) []float64 {
	c := m.centers()
	checkCols("KMeans", X, m.NFeatures)
	g := dense(X).RawMatrix()
	dst = predictDst(dst, g.Rows)
	ix := newKNNIndex(c, len(m.ClusterCenters), m.NFeatures, "brute")
	dist := make([]float64, g.Rows)
	ind := make([]int32, g.Rows)
	ix.query(g.Data, g.Rows, g.Stride, 1, dist, ind)
	for i, v := range ind {
		dst[i] = float64(v)
	}
	return dst
}

// Transform writes the Euclidean distance of each row of X to each
// cluster center (one column per cluster) into dst (allocated unless it
// is r×NClusters or empty) and returns it. It panics if the model is not
// fitted or X has the wrong number of columns.
func (m *KMeans) Transform(dst *mat.Dense, X mat.Matrix) *mat.Dense {
	c := m.centers()
	checkCols("KMeans", X, m.NFeatures)
	x := dense(X)
	r, d := x.Dims()
	k := len(m.ClusterCenters)
	dst = denseDst(dst, r, k)
	treeParallel(r, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row, out := x.RawRowView(i), dst.RawRowView(i)
			for j := range k {
				var s float64
				for l, v := range c[j*d : (j+1)*d] {
					s += (row[l] - v) * (row[l] - v)
				}
				out[j] = math.Sqrt(s)
			}
		}
	})
	return dst
}

// centers returns the cluster centers row-major, panicking if the model
// is not fitted or malformed.
func (m *KMeans) centers() []float64 {
	d := m.NFeatures
	if len(m.ClusterCenters) == 0 || d == 0 {
		panic("ml: KMeans used before Fit")
	}
	c := make([]float64, 0, len(m.ClusterCenters)*d)
	for i, row := range m.ClusterCenters {
		if len(row) != d {
			panic(fmt.Sprintf("ml: KMeans: cluster center %d has %d values, want %d", i, len(row), d))
		}
		c = append(c, row...)
	}
	return c
}

// kmeansData is a training set prepared for the runs, shared read-only.
type kmeansData struct {
	n, d  int
	x     []float64 // rows centered on mean, row-major
	mean  []float64
	qp    []float64 // x packed for the nearest-center kernel
	xnorm []float64 // squared row norms
	tol   float64   // absolute tolerance on the squared center shift
}

func newKMeansData(X *mat.Dense, tol float64) *kmeansData {
	n, d := X.Dims()
	km := &kmeansData{n: n, d: d, x: make([]float64, n*d), mean: make([]float64, d), xnorm: make([]float64, n)}
	for i := range n {
		for l, v := range X.RawRowView(i) {
			km.mean[l] += v
		}
	}
	for l := range km.mean {
		km.mean[l] /= float64(n)
	}
	var varSum float64
	for i := range n {
		row := km.x[i*d : (i+1)*d]
		var s float64
		for l, v := range X.RawRowView(i) {
			c := v - km.mean[l]
			row[l] = c
			s += c * c
			varSum += c * c
		}
		km.xnorm[i] = s
	}
	// scikit-learn: tol times the mean over features of their variance.
	km.tol = tol * varSum / float64(n) / float64(d)
	km.qp = knnPackQueries(km.x, d, 0, n, d)
	return km
}

// plusPlus picks k starting centers by greedy k-means++.
func (km *kmeansData) plusPlus(k int, rng *rand.Rand) []float64 {
	n, d := km.n, km.d
	centers := make([]float64, 0, k*d)
	trials := 2 + int(math.Log(float64(k)))
	first := rng.IntN(n)
	centers = append(centers, km.x[first*d:(first+1)*d]...)
	closest := make([]float64, n)
	km.sqDists(closest, km.x[first*d:(first+1)*d])
	var pot float64
	for _, v := range closest {
		pot += v
	}
	cum := make([]float64, n)
	cand := make([][]float64, trials)
	for t := range cand {
		cand[t] = make([]float64, n)
	}
	ids := make([]int, trials)
	for len(centers) < k*d {
		var s float64
		for i, v := range closest {
			s += v
			cum[i] = s
		}
		for t := range trials {
			v := rng.Float64() * pot
			ids[t] = min(sort.SearchFloat64s(cum, v), n-1)
		}
		best, bestPot := -1, math.Inf(1)
		for t, id := range ids {
			dt := cand[t]
			km.sqDists(dt, km.x[id*d:(id+1)*d])
			var p float64
			for i, v := range dt {
				dt[i] = min(v, closest[i])
				p += dt[i]
			}
			if p < bestPot {
				best, bestPot = t, p
			}
		}
		copy(closest, cand[best])
		pot = bestPot
		centers = append(centers, km.x[ids[best]*d:(ids[best]+1)*d]...)
	}
	return centers
}

// randomInit picks k distinct random rows as starting centers.
func (km *kmeansData) randomInit(k int, rng *rand.Rand) []float64 {
	d := km.d
	perm := rng.Perm(km.n)
	centers := make([]float64, 0, k*d)
	for _, i := range perm[:k] {
		centers = append(centers, km.x[i*d:(i+1)*d]...)
	}
	return centers
}

// sqDists sets dst[i] to the squared distance from row i to c.
func (km *kmeansData) sqDists(dst, c []float64) {
	d := km.d
	for i := range dst {
		row := km.x[i*d : (i+1)*d]
		var s float64
		for l, v := range row {
			s += (v - c[l]) * (v - c[l])
		}
		dst[i] = s
	}
}

// kmeansRun is the outcome of one run of Lloyd's algorithm.
type kmeansRun struct {
	centers []float64
	labels  []int32
	inertia float64
	nIter   int
}

// lloyd runs Lloyd's algorithm from centers, as scikit-learn's
// _kmeans_single_lloyd does. It returns nil if stop is set meanwhile.
func (km *kmeansData) lloyd(centers []float64, maxIter int, stop *atomic.Bool) *kmeansRun {
	n, d := km.n, km.d
	k := len(centers) / d
	labels := make([]int32, n)
	old := make([]int32, n)
	for i := range old {
		old[i] = -1
	}
	dist := make([]float64, n)
	sums := make([]float64, k*d)
	counts := make([]float64, k)
	next := make([]float64, k*d)
	strict := false
	it := 0
	for ; it < maxIter; it++ {
		if stop.Load() {
			return nil
		}
		km.assign(centers, labels, dist)
		clear(sums)
		clear(counts)
		for i, c := range labels {
			s := sums[int(c)*d : int(c+1)*d]
			for l, v := range km.x[i*d : (i+1)*d] {
				s[l] += v
			}
			counts[c]++
		}
		km.relocateEmpty(centers, labels, sums, counts)
		var shift float64
		for c := range k {
			for l := range d {
				v := sums[c*d+l]
				if counts[c] > 0 {
					v /= counts[c]
				}
				next[c*d+l] = v
				shift += (v - centers[c*d+l]) * (v - centers[c*d+l])
			}
		}
		centers, next = next, centers
		if slices.Equal(labels, old) {
			strict = true
			break
		}
		if shift <= km.tol {
			break
		}
		copy(old, labels)
	}
	if it == maxIter {
		it--
	}
	if !strict {
		km.assign(centers, labels, dist)
	}
	var inertia float64
	for i, c := range labels {
		row, ce := km.x[i*d:(i+1)*d], centers[int(c)*d:int(c+1)*d]
		for l, v := range row {
			inertia += (v - ce[l]) * (v - ce[l])
		}
	}
	return &kmeansRun{centers: centers, labels: labels, inertia: inertia, nIter: it + 1}
}

// assign sets each row's label to its nearest center (ties to the lower
// index) and dist to |c|² - 2 x·c.
func (km *kmeansData) assign(centers []float64, labels []int32, dist []float64) {
	ix := newKNNIndex(centers, len(centers)/km.d, km.d, "brute")
	ix.nearest(km.qp, km.n, dist, labels)
}

// relocateEmpty gives each empty cluster the row farthest from its
// (old) center, taking it out of its cluster's sums, as scikit-learn
// does; labels are left as they are.
func (km *kmeansData) relocateEmpty(centers []float64, labels []int32, sums, counts []float64) {
	var empty []int
	for c, v := range counts {
		if v == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return
	}
	d := km.d
	far := make([]int, km.n)
	dd := make([]float64, km.n)
	for i, c := range labels {
		row, ce := km.x[i*d:(i+1)*d], centers[int(c)*d:int(c+1)*d]
		var s float64
		for l, v := range row {
			s += (v - ce[l]) * (v - ce[l])
		}
		dd[i], far[i] = s, i
	}
	slices.SortStableFunc(far, func(a, b int) int {
		switch {
		case dd[a] > dd[b]:
			return -1
		case dd[a] < dd[b]:
			return 1
		}
		return 0
	})
	for j, c := range empty {
		f := far[j]
		row := km.x[f*d : (f+1)*d]
		o := labels[f]
		for l, v := range row {
			sums[int(o)*d+l] -= v
			sums[c*d+l] = v
		}
		counts[o]--
		counts[c] = 1
	}
}
