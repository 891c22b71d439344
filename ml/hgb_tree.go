package ml

import (
	"encoding/json"
	"fmt"
	"math"
)

// HistTree is one tree of a histogram gradient boosting model, in flat
// arrays with node 0 the root. Internal node i sends a row x to
// Left[i] when x[Feature[i]] <= Threshold[i], to Right[i] when it is
// greater, and a missing value (NaN) to Left[i] when MissingLeft[i], else
// to Right[i]. Leaves have Feature, Left and Right -1 and hold in Value
// their contribution to the raw score (the learning rate applied);
// Value is 0 at internal nodes. Children always come after their parent.
type HistTree struct {
	Feature     []int32   `json:"feature"`
	Threshold   []float64 `json:"threshold"`
	MissingLeft []bool    `json:"missing_left"`
	Left        []int32   `json:"left"`
	Right       []int32   `json:"right"`
	Value       []float64 `json:"value"`

	bins []uint8 // per node, the bin a split keeps on the left; only while fitting
}

// add appends a leaf.
func (t *HistTree) add() {
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.MissingLeft = append(t.MissingLeft, false)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Value = append(t.Value, 0)
	t.bins = append(t.bins, 0)
}

// UnmarshalJSON decodes a tree and checks its shape: equal lengths, a
// root, children after their parent and within the tree, leaves without
// children. It does not know the number of features; prediction checks
// that.
func (t *HistTree) UnmarshalJSON(b []byte) error {
	type plain HistTree
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	n := len(p.Feature)
	if n == 0 || len(p.Threshold) != n || len(p.MissingLeft) != n || len(p.Left) != n || len(p.Right) != n || len(p.Value) != n {
		return fmt.Errorf("ml: histogram tree arrays of unequal length or empty")
	}
	for i, f := range p.Feature {
		l, r := p.Left[i], p.Right[i]
		switch {
		case f < 0:
			if f != -1 || l != -1 || r != -1 {
				return fmt.Errorf("ml: histogram tree node %d: a leaf with children", i)
			}
		case int(l) <= i || int(r) <= i || int(l) >= n || int(r) >= n || l == r:
			return fmt.Errorf("ml: histogram tree node %d: children %d and %d out of order", i, l, r)
		case math.IsNaN(p.Threshold[i]):
			return fmt.Errorf("ml: histogram tree node %d: NaN threshold", i)
		}
		if math.IsNaN(p.Value[i]) || math.IsInf(p.Value[i], 0) {
			return fmt.Errorf("ml: histogram tree node %d: value %v", i, p.Value[i])
		}
	}
	*t = HistTree(p)
	return nil
}

// maxFeature returns the largest feature index tested, -1 if none.
func (t *HistTree) maxFeature() int {
	m := -1
	for _, f := range t.Feature {
		m = max(m, int(f))
	}
	return m
}

// leaf returns the leaf reached by row x.
func (t *HistTree) leaf(x []float64) int {
	i := 0
	for {
		f := t.Feature[i]
		if f < 0 {
			return i
		}
		v := x[f]
		switch {
		case v <= t.Threshold[i]:
			i = int(t.Left[i])
		case v > t.Threshold[i]:
			i = int(t.Right[i])
		case t.MissingLeft[i]:
			i = int(t.Left[i])
		default:
			i = int(t.Right[i])
		}
	}
}

// leafBinned returns the leaf reached by row i of the column-major codes
// (n rows) while fitting.
func (t *HistTree) leafBinned(codes []uint8, n, i, missBin int) int {
	j := 0
	for {
		f := t.Feature[j]
		if f < 0 {
			return j
		}
		c := int(codes[int(f)*n+i])
		switch {
		case c == missBin:
			if t.MissingLeft[j] {
				j = int(t.Left[j])
			} else {
				j = int(t.Right[j])
			}
		case c <= int(t.bins[j]):
			j = int(t.Left[j])
		default:
			j = int(t.Right[j])
		}
	}
}

// hgbRouter finds the leaves of training rows from their codes like
// leafBinned, a block of rows at a time and level by level, without a
// branch on the codes: each row moves from node j to hop[j].next +
// hop[j].right[code], right a table saying for each code of the node's
// feature (whose column starts at hop[j].off) whether it goes to the
// right child, which follows the left one; a leaf stays where it is
// (next = j, a table of zeros).
type hgbRouter struct {
	tree  *HistTree
	hop   []hgbHop // nil: the tree is too large, use leafBinned
	depth int
}

type hgbHop struct {
	off   int
	next  int32
	right *[hgbHistBins]uint8
}

// hgbRouteMax is the most internal nodes given a table (256 bytes each).
const hgbRouteMax = 256

// hgbRouteBlock is the rows routed together.
const hgbRouteBlock = 256

var hgbStay [hgbHistBins]uint8

func newHgbRouter(t *HistTree, n, missBin int) hgbRouter {
	r := hgbRouter{tree: t}
	internal := 0
	for j, f := range t.Feature {
		if f >= 0 {
			internal++
			if t.Right[j] != t.Left[j]+1 {
				return r
			}
		}
	}
	if internal > hgbRouteMax {
		return r
	}
	m := len(t.Feature)
	r.hop = make([]hgbHop, m)
	tabs := make([][hgbHistBins]uint8, internal)
	depth := make([]int, m)
	for j, f := range t.Feature {
		if f < 0 {
			r.hop[j] = hgbHop{next: int32(j), right: &hgbStay}
			r.depth = max(r.depth, depth[j])
			continue
		}
		depth[t.Left[j]], depth[t.Right[j]] = depth[j]+1, depth[j]+1
		tab := &tabs[0]
		tabs = tabs[1:]
		for c := int(t.bins[j]) + 1; c < hgbHistBins; c++ {
			tab[c] = 1
		}
		tab[missBin] = 1
		if t.MissingLeft[j] {
			tab[missBin] = 0
		}
		r.hop[j] = hgbHop{off: int(f) * n, next: t.Left[j], right: tab}
	}
	return r
}

// leaves sets leaf[i] to the leaf reached by row lo+i of the
// column-major codes (n rows), for the len(leaf) rows from lo.
func (r *hgbRouter) leaves(codes []uint8, n, lo int, leaf []int32, missBin int) {
	if r.hop == nil {
		for i := range leaf {
			leaf[i] = int32(r.tree.leafBinned(codes, n, lo+i, missBin))
		}
		return
	}
	clear(leaf)
	codes = codes[lo:]
	for range r.depth {
		for i, j := range leaf {
			h := &r.hop[j]
			leaf[i] = h.next + int32(h.right[codes[h.off+i]])
		}
	}
}
