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

// hgbRouter finds the leaf of a training row from its codes like
// leafBinned, without a branch on the codes: a table per internal node
// says, for each code, whether it goes to the right child, which follows
// the left one.
type hgbRouter struct {
	tree  *HistTree
	right [][hgbHistBins]uint8 // per node; nil: use leafBinned
}

// hgbRouteMax is the most internal nodes given a table (256 bytes each).
const hgbRouteMax = 256

func newHgbRouter(t *HistTree, missBin int) hgbRouter {
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
	r.right = make([][hgbHistBins]uint8, len(t.Feature))
	for j, f := range t.Feature {
		if f < 0 {
			continue
		}
		tab := &r.right[j]
		for c := int(t.bins[j]) + 1; c < hgbHistBins; c++ {
			tab[c] = 1
		}
		tab[missBin] = 1
		if t.MissingLeft[j] {
			tab[missBin] = 0
		}
	}
	return r
}

// leaf returns the leaf reached by row i of the column-major codes (n
// rows).
func (r *hgbRouter) leaf(codes []uint8, n, i, missBin int) int {
	t := r.tree
	if r.right == nil {
		return t.leafBinned(codes, n, i, missBin)
	}
	j := 0
	for f := t.Feature[0]; f >= 0; f = t.Feature[j] {
		j = int(t.Left[j]) + int(r.right[j][codes[int(f)*n+i]])
	}
	return j
}
