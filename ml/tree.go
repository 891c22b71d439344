package ml

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Tree is one fitted binary decision tree in flat arrays: node 0 is the
// root and nodes are in depth-first order, so a node's left child is the
// node after it (Left[i] == i+1) and its right child follows the left
// subtree. Internal node i sends a row x left when x[Feature[i]] <=
// Threshold[i] (a NaN goes right: prediction does not check for NaN).
// Leaves have Feature, Left and Right -1.
//
// Value holds NValues numbers per node: the weighted count of training
// rows of each class for classification trees (divide by their sum for
// probabilities), the mean target for regression trees, and the Newton
// step for gradient boosting trees.
type Tree struct {
	Feature   []int     `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int     `json:"left"`
	Right     []int     `json:"right"`
	Value     []float64 `json:"value"`
	NValues   int       `json:"n_values"`

	nodes []treeNode // packed copy for prediction; nil for trees not made by Fit or decoding
	prob  []float64  // Value normalised per node, for classification trees
	maxF  int        // largest feature tested, -1 if none; valid when nodes != nil
}

// treeNode is a node packed into 16 bytes for prediction; its left child
// is the next node.
type treeNode struct {
	thr   float64
	feat  int32 // -1 at leaves
	right int32
}

// pack fills t.nodes from the exported arrays, which must be valid.
func (t *Tree) pack() {
	t.nodes = make([]treeNode, len(t.Feature))
	t.maxF = -1
	for i, f := range t.Feature {
		t.maxF = max(t.maxF, f)
		t.nodes[i] = treeNode{thr: t.Threshold[i], feat: int32(f), right: int32(t.Right[i])}
	}
	if t.NValues > 1 {
		t.prob = slices.Clone(t.Value)
		for i := range t.Feature {
			treeNormalize(t.prob[i*t.NValues : (i+1)*t.NValues])
		}
	}
}

// nodeProba returns node i's class fractions.
func (t *Tree) nodeProba(i int, buf []float64) []float64 {
	if t.prob != nil {
		return t.prob[i*t.NValues : (i+1)*t.NValues]
	}
	copy(buf, t.NodeValue(i))
	treeNormalize(buf)
	return buf
}

// UnmarshalJSON decodes a tree and checks that its arrays describe one:
// equal lengths, children after their parent, left child next.
func (t *Tree) UnmarshalJSON(b []byte) error {
	type plain Tree
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = Tree(p)
	return t.Init()
}

// Init checks that the exported arrays describe a tree (equal lengths,
// children after their parent, left child next) and readies it for
// prediction. A decoder that fills the arrays itself calls it; on error
// the tree is left unusable for prediction.
func (t *Tree) Init() error {
	p := t
	t.nodes, t.prob = nil, nil
	n := len(p.Feature)
	// n_values is checked by division: a product can overflow (n_values
	// 2^62 on 4 nodes multiplies to 0).
	if n == 0 || len(p.Threshold) != n || len(p.Left) != n || len(p.Right) != n || p.NValues < 1 || len(p.Value)%n != 0 || len(p.Value)/n != p.NValues {
		return fmt.Errorf("ml: tree arrays of inconsistent lengths")
	}
	if n >= math.MaxInt32 {
		return fmt.Errorf("ml: tree of %d nodes is too large", n)
	}
	for i, f := range p.Feature {
		l, r := p.Left[i], p.Right[i]
		if f >= math.MaxInt32 {
			return fmt.Errorf("ml: tree node %d: feature %d out of range", i, f)
		}
		if f < 0 {
			if f != -1 || l != -1 || r != -1 {
				return fmt.Errorf("ml: tree node %d: leaf with feature %d, children %d and %d", i, f, l, r)
			}
			continue
		}
		if l != i+1 || r <= l || r >= n {
			return fmt.Errorf("ml: tree node %d: children %d and %d out of order", i, l, r)
		}
	}
	t.pack()
	return nil
}

// maxFeature returns the largest feature index the tree tests, or -1.
func (t *Tree) maxFeature() int {
	if t.nodes != nil {
		return t.maxF
	}
	m := -1
	for _, f := range t.Feature {
		m = max(m, f)
	}
	return m
}

// NodeCount returns the number of nodes, internal and leaves.
func (t *Tree) NodeCount() int { return len(t.Feature) }

// Leaf returns the index of the leaf that row x reaches.
func (t *Tree) Leaf(x []float64) int {
	if nd := t.nodes; nd != nil {
		i := 0
		for {
			n := &nd[i]
			if n.feat < 0 {
				return i
			}
			next := i + 1
			if !(x[n.feat] <= n.thr) {
				next = int(n.right)
			}
			i = next
		}
	}
	i := 0
	for t.Left[i] >= 0 {
		if x[t.Feature[i]] <= t.Threshold[i] {
			i = t.Left[i]
		} else {
			i = t.Right[i]
		}
	}
	return i
}

// leafBlock sets leaf[i] to the leaf that rows[i] reaches. Packed trees
// walk four rows at a time, so their memory reads overlap.
func (t *Tree) leafBlock(rows [][]float64, leaf []int32) {
	nd := t.nodes
	if nd == nil {
		for i, x := range rows {
			leaf[i] = int32(t.Leaf(x))
		}
		return
	}
	i := 0
	for ; i+4 <= len(rows); i += 4 {
		x0, x1, x2, x3 := rows[i], rows[i+1], rows[i+2], rows[i+3]
		var j0, j1, j2, j3 int32
		for {
			n0, n1, n2, n3 := &nd[j0], &nd[j1], &nd[j2], &nd[j3]
			if n0.feat < 0 && n1.feat < 0 && n2.feat < 0 && n3.feat < 0 {
				break
			}
			if n0.feat >= 0 {
				if x0[n0.feat] <= n0.thr {
					j0++
				} else {
					j0 = n0.right
				}
			}
			if n1.feat >= 0 {
				if x1[n1.feat] <= n1.thr {
					j1++
				} else {
					j1 = n1.right
				}
			}
			if n2.feat >= 0 {
				if x2[n2.feat] <= n2.thr {
					j2++
				} else {
					j2 = n2.right
				}
			}
			if n3.feat >= 0 {
				if x3[n3.feat] <= n3.thr {
					j3++
				} else {
					j3 = n3.right
				}
			}
		}
		leaf[i], leaf[i+1], leaf[i+2], leaf[i+3] = j0, j1, j2, j3
	}
	for ; i < len(rows); i++ {
		leaf[i] = int32(t.Leaf(rows[i]))
	}
}

// treeRows returns the rows lo..hi-1 of x as slices.
func treeRows(x *mat.Dense, lo, hi int) [][]float64 {
	rows := make([][]float64, hi-lo)
	for i := range rows {
		rows[i] = x.RawRowView(lo + i)
	}
	return rows
}

// NodeValue returns node i's values (a slice of Value).
func (t *Tree) NodeValue(i int) []float64 {
	return t.Value[i*t.NValues : (i+1)*t.NValues]
}

// Depth returns the length of the longest path from the root to a leaf.
func (t *Tree) Depth() int {
	if len(t.Feature) == 0 {
		return 0
	}
	depth := make([]int, len(t.Feature))
	maxd := 0
	for i, l := range t.Left {
		if l >= 0 {
			depth[l] = depth[i] + 1
			depth[t.Right[i]] = depth[i] + 1
			maxd = max(maxd, depth[i]+1)
		}
	}
	return maxd
}

// treeIn is a checked training set.
type treeIn struct {
	x      []float64 // row-major, row i at x[i*stride:]
	n, d   int
	stride int
	y      []float64
	yc     []int32 // class codes (classification)
	k      int     // classes (classification)
}

// treeInputs checks X and y for the estimator called name: panics on a
// length mismatch or a non-code class, ErrEmpty, ErrNaN.
func treeInputs(name string, X mat.Matrix, y []float64, classify bool) (*treeIn, error) {
	Xd, err := prepare(name, X, y)
	if err != nil {
		return nil, err
	}
	g := Xd.RawMatrix()
	if g.Rows >= math.MaxInt32 {
		return nil, fmt.Errorf("ml: %s: %d rows is more than a tree takes", name, g.Rows)
	}
	in := &treeIn{x: g.Data, n: g.Rows, d: g.Cols, stride: g.Stride, y: y}
	if classify {
		k, _, err := classCodes(name, y)
		if err != nil && !errors.Is(err, ErrOneClass) {
			return nil, err
		}
		in.k = k
		in.yc = make([]int32, len(y))
		for i, v := range y {
			in.yc[i] = int32(v)
		}
	}
	return in, nil
}

// treeSettings checks a tree's hyperparameters against the data.
func treeSettings(name, criterion string, maxDepth, minSplit, minLeaf int, maxFeatures, defFeatures string, maxBins int, in *treeIn) (treeParams, error) {
	p := treeParams{k: in.k, maxDepth: maxDepth, minSplit: minSplit, minLeaf: minLeaf, maxBins: maxBins}
	switch {
	case in.yc == nil && (criterion == "squared_error" || criterion == ""):
		p.crit = treeMSE
	case in.yc != nil && (criterion == "gini" || criterion == ""):
		p.crit = treeGini
	case in.yc != nil && (criterion == "entropy" || criterion == "log_loss"):
		p.crit = treeEntropy
	default:
		return p, fmt.Errorf("ml: %s: unknown criterion %q", name, criterion)
	}
	if maxDepth < 0 || minSplit < 2 || minLeaf < 1 {
		return p, fmt.Errorf("ml: %s: need max_depth >= 0, min_samples_split >= 2, min_samples_leaf >= 1 (got %d, %d, %d)", name, maxDepth, minSplit, minLeaf)
	}
	if maxBins != 0 && (maxBins < 2 || maxBins > TreeMaxBinsLimit) {
		return p, fmt.Errorf("ml: %s: need max_bins 0 (exact splits) or from 2 to %d (got %d)", name, TreeMaxBinsLimit, maxBins)
	}
	if maxFeatures == "" {
		maxFeatures = defFeatures
	}
	var err error
	p.maxFeat, err = treeMaxFeatures(maxFeatures, in.d)
	if err != nil {
		return p, fmt.Errorf("ml: %s: %w", name, err)
	}
	return p, nil
}

// treeMaxFeatures resolves a max_features setting for d features:
// "sqrt" and "log2" as in scikit-learn, "all" (or "none") every feature,
// an integer a count, a number with a point or exponent a fraction of d.
func treeMaxFeatures(s string, d int) (int, error) {
	switch strings.ToLower(s) {
	case "sqrt":
		return max(1, int(math.Sqrt(float64(d)))), nil
	case "log2":
		return max(1, int(math.Log2(float64(d)))), nil
	case "all", "none":
		return d, nil
	}
	if !strings.ContainsAny(s, ".eE") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > d {
			return 0, fmt.Errorf("max_features %q is not sqrt, log2, all, a count from 1 to %d or a fraction", s, d)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0 && f <= 1) {
		return 0, fmt.Errorf("max_features %q is not sqrt, log2, all, a count or a fraction in (0, 1]", s)
	}
	return max(1, int(f*float64(d))), nil
}

// treePredictInput checks X for prediction by a model fitted on d
// columns (nodes is 0 before Fit) and returns it as a *mat.Dense.
func treePredictInput(name string, X mat.Matrix, d, nodes int) *mat.Dense {
	if nodes == 0 {
		d = 0
	}
	checkCols(name, X, d)
	return dense(X)
}

// treeArgmax returns the index of the first largest value.
func treeArgmax(v []float64) int {
	b := 0
	for i, x := range v {
		if x > v[b] {
			b = i
		}
	}
	return b
}

// treeHyper adapts decoded parameters for SetParams on the tree models:
// a number for max_features becomes its string form (a whole number of
// an integer type a count, a float a fraction, as in scikit-learn), and a
// null max_depth means unlimited (0).
func treeHyper(params map[string]any) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = v
	}
	switch v := params["max_features"].(type) {
	case nil:
		if _, ok := params["max_features"]; ok {
			out["max_features"] = "all"
		}
	case int:
		out["max_features"] = strconv.Itoa(v)
	case int64:
		out["max_features"] = strconv.FormatInt(v, 10)
	case uint64:
		out["max_features"] = strconv.FormatUint(v, 10)
	case float64:
		f := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(f, ".eE") {
			f += ".0"
		}
		out["max_features"] = f
	}
	for _, k := range []string{"max_depth", "max_bins"} {
		if v, ok := params[k]; ok && v == nil {
			out[k] = 0 // None: unlimited depth, exact splits
		}
	}
	return out
}

// treeCheck panics unless every tree tests features below d and holds nv
// values per node.
func treeCheck(name string, trees []Tree, d, nv int) {
	for i := range trees {
		t := &trees[i]
		if t.NValues != nv || len(t.Value) != nv*len(t.Feature) {
			panic(fmt.Sprintf("ml: %s: tree %d holds %d values per node, want %d", name, i, t.NValues, nv))
		}
		if f := t.maxFeature(); f >= d {
			panic(fmt.Sprintf("ml: %s: tree %d tests feature %d of %d", name, i, f, d))
		}
	}
}
