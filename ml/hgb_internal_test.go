package ml

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHgbSortFloats(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 255, 256, 1000, 5000} {
		v := make([]float64, n)
		for i := range v {
			switch i % 5 {
			case 0:
				v[i] = r.NormFloat64() * 1e6
			case 1:
				v[i] = -r.ExpFloat64()
			case 2:
				v[i] = float64(r.IntN(7)) // ties
			case 3:
				v[i] = math.Copysign(0, -1)
			default:
				v[i] = []float64{math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.SmallestNonzeroFloat64}[r.IntN(4)]
			}
		}
		want := slices.Clone(v)
		slices.Sort(want)
		hgbSortFloats(v, nil, nil)
		for i := range v {
			if v[i] != want[i] {
				t.Fatalf("n=%d: element %d is %v, want %v", n, i, v[i], want[i])
			}
		}
	}
}

// TestHgbCode checks the branch-free bin search against counting the
// thresholds below a value.
func TestHgbCode(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, nthr := range []int{0, 1, 2, 7, 128, 253, 254} {
		x := make([]float64, 3000)
		for i := range x {
			x[i] = math.Round(r.NormFloat64()*40) / 4
		}
		rows := make([]int32, len(x))
		for i := range rows {
			rows[i] = int32(i)
		}
		b := newHgbBinner(x, len(x), 1, 1, rows, nthr+1, 1)
		if len(b.thr[0]) > nthr {
			t.Fatalf("%d thresholds for max_bins %d", len(b.thr[0]), nthr+1)
		}
		probe := append(slices.Clone(b.thr[0]), x...)
		probe = append(probe, math.Inf(-1), math.Inf(1), math.MaxFloat64)
		for _, v := range probe {
			want := 0
			for _, th := range b.thr[0] {
				if th < v {
					want++
				}
			}
			if got := int(b.code(0, v)); got != want {
				t.Fatalf("max_bins %d: code(%v) = %d, want %d", nthr+1, v, got, want)
			}
		}
		if got := int(b.code(0, math.NaN())); got != nthr+1 {
			t.Errorf("code(NaN) = %d, want the missing bin %d", got, nthr+1)
		}
	}
}

// TestHgbRouter checks the table routing of training rows against the
// tree walk on the codes, for small trees (tables) and a tree too large
// for them (the walk), with missing values sent both ways; and the
// partition: each leaf's rows, ascending, are the rows the walk sends
// there, every row once.
func TestHgbRouter(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, d, maxBins = 6000, 4, 32
	x := make([]float64, n*d)
	for i := range x {
		x[i] = math.Round(r.NormFloat64() * 20)
		if r.IntN(10) == 0 {
			x[i] = math.NaN()
		}
	}
	b := newHgbBinner(x, n, d, d, nil, maxBins, 1)
	codes, hasMiss := b.codes(x, n, d, nil)
	g := make([]float32, n)
	for i := range g {
		g[i] = float32(r.Float64()*2 - 1)
	}
	for _, tt := range []struct {
		depth, minLeaf int
		table          bool
	}{{1, 1, true}, {3, 20, true}, {6, 5, true}, {0, 1, false}} {
		p := hgbParams{maxDepth: tt.depth, minLeaf: tt.minLeaf, minHess: 1e-3}
		grower := newHgbGrower(p, codes, n, d, b, hasMiss, false)
		defer grower.close()
		tree := grower.grow(g, 0.1)
		seen := make([]int, n)
		grower.leafRows(tree, func(leaf int, rows []int32) {
			for k, r := range rows {
				seen[r]++
				if k > 0 && rows[k-1] >= r {
					t.Errorf("depth %d: leaf %d rows out of order at %d", tt.depth, leaf, k)
				}
				if want := tree.leafBinned(codes, n, int(r), maxBins); want != leaf {
					t.Errorf("depth %d: row %d partitioned to leaf %d, its leaf is %d", tt.depth, r, leaf, want)
				}
			}
		})
		for r, c := range seen {
			if c != 1 {
				t.Fatalf("depth %d: row %d in %d leaves", tt.depth, r, c)
			}
		}
		rt := newHgbRouter(tree, n, maxBins)
		if (rt.hop != nil) != tt.table {
			t.Fatalf("depth %d: %d nodes routed by table %v, want %v", tt.depth, len(tree.Feature), rt.hop != nil, tt.table)
		}
		leaf := make([]int32, 1000)
		for lo := 0; lo < n; lo += len(leaf) {
			rt.leaves(codes, n, lo, leaf, maxBins)
			for i, j := range leaf {
				if want := tree.leafBinned(codes, n, lo+i, maxBins); int(j) != want {
					t.Fatalf("depth %d: row %d routed to %d, want leaf %d", tt.depth, lo+i, j, want)
				}
			}
		}
	}
}
