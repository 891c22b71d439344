package ml

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// treeTestMatrix returns an n×d row-major matrix whose feature f has
// about distinct[f] distinct values.
func treeTestMatrix(r *rand.Rand, n int, distinct []int) []float64 {
	d := len(distinct)
	x := make([]float64, n*d)
	for i := range n {
		for f, k := range distinct {
			x[i*d+f] = float64(r.IntN(k)) + 0.25*float64(f)
		}
	}
	return x
}

// TestTreeBinsCodes checks the packed codes against each feature's edges,
// with one-byte codes (and features straddling a word) and with two-byte
// codes when a feature needs more than 256.
func TestTreeBinsCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name     string
		distinct []int
		maxBins  int
		bits     uint
	}{
		{"bytes, 11 features", []int{2, 300, 5, 256, 1000, 7, 3, 9, 40, 1, 600}, 256, 8},
		{"two bytes, 6 features", []int{2, 300, 5, 1000, 7, 3}, 1000, 16},
		{"exact, 1 feature", []int{17}, 0, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 6000
			d := len(tc.distinct)
			x := treeTestMatrix(r, n, tc.distinct)
			b, err := newTreeBins(x, n, d, d, tc.maxBins)
			if err != nil {
				t.Fatal(err)
			}
			if b.pack.bits != tc.bits {
				t.Fatalf("codes of %d bits, want %d", b.pack.bits, tc.bits)
			}
			if want := (d*int(tc.bits) + 63) / 64; b.pack.nw != want || len(b.words) != n*want {
				t.Fatalf("%d words per row, %d in all; want %d, %d", b.pack.nw, len(b.words), want, n*want)
			}
			for s := range n {
				for f := range d {
					want := sort.SearchFloat64s(b.edges[f], x[s*d+f])
					if got := b.code(f, s); got != want {
						t.Fatalf("row %d feature %d: code %d, want %d", s, f, got, want)
					}
					if want >= b.nbins[f] {
						t.Fatalf("feature %d: code %d of %d bins", f, want, b.nbins[f])
					}
				}
			}
		})
	}
}

// TestTreeBuilderGathered checks that growing a tree moves each row's
// gathered codes, class or target and weight with the row: afterwards
// position p holds row samples[p]'s data, and every node's positions are
// the rows that reach it.
func TestTreeBuilderGathered(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 3000
	distinct := []int{300, 4, 1000, 9, 50, 2, 700, 30, 12, 5}
	d := len(distinct)
	x := treeTestMatrix(r, n, distinct)
	yc := make([]int32, n)
	yr := make([]float64, n)
	w := make([]float64, n)
	for i := range n {
		yc[i] = int32(int(x[i*d]+x[i*d+2]) % 3)
		yr[i] = x[i*d+1]*2 - x[i*d+6] + r.NormFloat64()
		w[i] = float64(r.IntN(3))
	}
	for _, maxBins := range []int{256, 0} {
		b, err := newTreeBins(x, n, d, d, maxBins)
		if err != nil {
			t.Fatal(err)
		}
		for _, crit := range []int{treeGini, treeMSE} {
			for _, weighted := range []bool{false, true} {
				p := treeParams{crit: crit, k: 3, minSplit: 2, minLeaf: 1, maxFeat: 3, maxBins: maxBins}
				if crit == treeMSE {
					p.k = 0
				}
				tb := newTreeBuilder(p, b, yc, yr)
				var rows []int32
				var ws []float64
				for i := range n {
					if !weighted || w[i] > 0 {
						rows = append(rows, int32(i))
					}
				}
				if weighted {
					ws = w
				}
				tf := tb.grow(rows, ws, rand.New(rand.NewPCG(7, 8)))
				if len(tf.Feature) < 50 {
					t.Fatalf("a tree of %d nodes", len(tf.Feature))
				}
				nw := b.pack.nw
				for pos, s := range rows {
					if !slices.Equal(tb.g[pos*nw:pos*nw+nw], b.words[int(s)*nw:int(s)*nw+nw]) {
						t.Fatalf("bins %d crit %d: position %d holds other codes than row %d", maxBins, crit, pos, s)
					}
					if crit == treeMSE && tb.gyr[pos] != yr[s] || crit != treeMSE && tb.gyc[pos] != yc[s] {
						t.Fatalf("bins %d crit %d: position %d holds another target than row %d", maxBins, crit, pos, s)
					}
					if weighted && tb.gwBuf[pos] != w[s] {
						t.Fatalf("bins %d crit %d: position %d holds another weight than row %d", maxBins, crit, pos, s)
					}
				}
				for i := range tf.Feature {
					if tf.Feature[i] >= 0 {
						continue
					}
					for _, s := range rows[tf.start[i]:tf.end[i]] {
						if got := tf.leafBinned(b, int(s)); got != i {
							t.Fatalf("bins %d crit %d: row %d is in leaf %d's rows but reaches leaf %d", maxBins, crit, s, i, got)
						}
					}
				}
			}
		}
	}
}

// TestForestBootstrap checks the byte counts of forestBootstrap against
// counting in floats, and its fallback when a row is drawn limit times.
func TestForestBootstrap(t *testing.T) {
	for _, n := range []int{1, 2, 7, 1000} {
		for _, limit := range []uint8{255, 1} {
			for stream := range uint64(3) {
				want := make([]float64, n)
				ref := rand.New(rand.NewPCG(9, stream))
				for range n {
					want[ref.IntN(n)]++
				}
				var wantRows []int32
				for j, c := range want {
					if c > 0 {
						wantRows = append(wantRows, int32(j))
					}
				}
				w := make([]float64, n)
				cnt := make([]uint8, n)
				rows, rng := forestBootstrap(9, stream, rand.New(rand.NewPCG(9, stream)), cnt, w, make([]int32, n), limit)
				if !slices.Equal(w, want) || !slices.Equal(rows, wantRows) {
					t.Fatalf("n %d limit %d stream %d: weights or rows differ from counting in floats", n, limit, stream)
				}
				if rng.Uint64() != ref.Uint64() {
					t.Fatalf("n %d limit %d stream %d: the generator is not where the draws left it", n, limit, stream)
				}
			}
		}
	}
}
