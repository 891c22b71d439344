// One concern, the estimator's state in a model file of format 2: an
// estimator made of decision trees packed as columns ("trees-1"), any
// other as JSON ("json"). modelcodec.go has the file around it (header,
// checksum, compression) and the format's description.

package stages

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/sluice-ml/sluice/ml"
)

// treeSlots returns the trees an estimator is made of, in a fixed
// order, the JSON key they sit under, and (for boosting) how many trees
// each stage holds; ok is false for an estimator without trees.
func treeSlots(est ml.Estimator) (trees []*ml.Tree, key string, shape []int, ok bool) {
	switch m := est.(type) {
	case *ml.DecisionTreeClassifier:
		return []*ml.Tree{&m.Tree}, "tree", nil, true
	case *ml.DecisionTreeRegressor:
		return []*ml.Tree{&m.Tree}, "tree", nil, true
	case *ml.RandomForestClassifier:
		return ptrs(m.Trees), "estimators", nil, true
	case *ml.RandomForestRegressor:
		return ptrs(m.Trees), "estimators", nil, true
	case *ml.GradientBoostingClassifier:
		out, shape := ptrs2(m.Trees)
		return out, "estimators", shape, true
	case *ml.GradientBoostingRegressor:
		return ptrs(m.Trees), "estimators", nil, true
	}
	return nil, "", nil, false
}

func ptrs(ts []ml.Tree) []*ml.Tree {
	out := make([]*ml.Tree, len(ts))
	for i := range ts {
		out[i] = &ts[i]
	}
	return out
}

func ptrs2(ts [][]ml.Tree) ([]*ml.Tree, []int) {
	var out []*ml.Tree
	shape := make([]int, len(ts))
	for i := range ts {
		shape[i] = len(ts[i])
		out = append(out, ptrs(ts[i])...)
	}
	return out, shape
}

// withoutTrees returns a shallow copy of a tree model with its trees
// left out, so its JSON costs nothing for them (the trees are packed
// apart); other estimators are returned as they are.
func withoutTrees(est ml.Estimator) ml.Estimator {
	switch m := est.(type) {
	case *ml.DecisionTreeClassifier:
		c := *m
		c.Tree = ml.Tree{}
		return &c
	case *ml.DecisionTreeRegressor:
		c := *m
		c.Tree = ml.Tree{}
		return &c
	case *ml.RandomForestClassifier:
		c := *m
		c.Trees = nil
		return &c
	case *ml.RandomForestRegressor:
		c := *m
		c.Trees = nil
		return &c
	case *ml.GradientBoostingClassifier:
		c := *m
		c.Trees = nil
		return &c
	case *ml.GradientBoostingRegressor:
		c := *m
		c.Trees = nil
		return &c
	}
	return est
}

// setTrees puts decoded trees into a fresh estimator of the type
// treeSlots took them from.
func setTrees(est ml.Estimator, trees []ml.Tree, shape []int) error {
	nest := func() ([][]ml.Tree, error) {
		out := make([][]ml.Tree, len(shape))
		at := 0
		for i, n := range shape {
			if n < 0 || n > len(trees)-at {
				return nil, errors.New("tree shape does not match the trees present")
			}
			out[i] = trees[at : at+n : at+n]
			at += n
		}
		if at != len(trees) {
			return nil, errors.New("tree shape does not match the trees present")
		}
		return out, nil
	}
	one := func() (ml.Tree, error) {
		if len(trees) != 1 || shape != nil {
			return ml.Tree{}, fmt.Errorf("%d trees for a single tree", len(trees))
		}
		return trees[0], nil
	}
	var err error
	switch m := est.(type) {
	case *ml.DecisionTreeClassifier:
		m.Tree, err = one()
	case *ml.DecisionTreeRegressor:
		m.Tree, err = one()
	case *ml.RandomForestClassifier:
		if shape != nil {
			return errors.New("a forest with a boosting shape")
		}
		m.Trees = trees
	case *ml.RandomForestRegressor:
		if shape != nil {
			return errors.New("a forest with a boosting shape")
		}
		m.Trees = trees
	case *ml.GradientBoostingClassifier:
		m.Trees, err = nest()
	case *ml.GradientBoostingRegressor:
		if shape != nil {
			return errors.New("a regressor with a boosting shape")
		}
		m.Trees = trees
	default:
		return fmt.Errorf("%T holds no trees", est)
	}
	return err
}

// packState serialises an estimator's state: packed trees for tree
// models, JSON for the rest.
func packState(est ml.Estimator) ([]byte, string, error) {
	trees, key, shape, ok := treeSlots(est)
	full, err := json.Marshal(withoutTrees(est))
	if err != nil {
		return nil, "", fmt.Errorf("serialise estimator: %w", err)
	}
	if !ok {
		return full, stateJSON, nil
	}
	// The estimator's JSON without its trees (encoding/json sorts map
	// keys, so the bytes are stable).
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(full, &fields); err != nil {
		return nil, "", err
	}
	delete(fields, key)
	skel, err := json.Marshal(fields)
	if err != nil {
		return nil, "", err
	}
	var w packWriter
	w.uvarint(uint64(len(skel)))
	w.buf = append(w.buf, skel...)
	packTrees(&w, trees, shape)
	return w.buf, stateTrees, nil
}

// unpackState fills est from raw, in the given encoding. Unknown fields
// are refused, and each tree is checked by ml.Tree.Init.
func unpackState(est ml.Estimator, encoding string, raw []byte) error {
	switch encoding {
	case stateJSON:
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		return dec.Decode(est)
	case stateTrees:
	default:
		return fmt.Errorf("unknown state encoding %q", encoding)
	}
	if _, _, _, ok := treeSlots(est); !ok {
		return fmt.Errorf("%T is not a tree model", est)
	}
	r := packReader{buf: raw}
	n, err := r.count(len(raw), "estimator JSON")
	if err != nil {
		return err
	}
	skel, err := r.bytes(n)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(skel))
	dec.DisallowUnknownFields()
	if err := dec.Decode(est); err != nil {
		return err
	}
	trees, shape, err := unpackTrees(&r)
	if err != nil {
		return err
	}
	if len(r.buf) != 0 {
		return fmt.Errorf("%d bytes after the trees", len(r.buf))
	}
	return setTrees(est, trees, shape)
}

// packTrees writes the trees as columns (see the format comment).
func packTrees(w *packWriter, trees []*ml.Tree, shape []int) {
	w.uvarint(uint64(len(trees)))
	if shape == nil {
		w.uvarint(0)
	} else {
		w.uvarint(uint64(len(shape)) + 1)
		for _, n := range shape {
			w.uvarint(uint64(n))
		}
	}
	var nodes, internal int
	integral := true
	for _, t := range trees {
		w.uvarint(uint64(len(t.Feature)))
		w.uvarint(uint64(t.NValues))
		nodes += len(t.Feature)
		for _, f := range t.Feature {
			if f >= 0 {
				internal++
			}
		}
		for _, v := range t.Value {
			if v < 0 || v >= 1<<53 || v != math.Trunc(v) || (v == 0 && math.Signbit(v)) {
				integral = false
			}
		}
	}
	// Leaf bitmap over every node of every tree.
	bits := make([]byte, (nodes+7)/8)
	i := 0
	for _, t := range trees {
		for _, f := range t.Feature {
			if f < 0 {
				bits[i/8] |= 1 << (i % 8)
			}
			i++
		}
	}
	w.buf = append(w.buf, bits...)
	for _, t := range trees {
		for _, f := range t.Feature {
			if f >= 0 {
				w.uvarint(uint64(f))
			}
		}
	}
	thr := make([]float64, 0, internal)
	for _, t := range trees {
		for j, f := range t.Feature {
			if f >= 0 {
				thr = append(thr, t.Threshold[j])
			}
		}
	}
	w.floats(thr)
	if integral {
		w.buf = append(w.buf, 0)
		for _, t := range trees {
			for _, v := range t.Value {
				w.uvarint(uint64(v))
			}
		}
		return
	}
	w.buf = append(w.buf, 1)
	var vals []float64
	for _, t := range trees {
		vals = append(vals, t.Value...)
	}
	w.floats(vals)
}

// unpackTrees reads what packTrees wrote. Every count is held to the
// bytes that remain before anything is allocated from it.
func unpackTrees(r *packReader) ([]ml.Tree, []int, error) {
	ntrees, err := r.count(len(r.buf)/2, "trees")
	if err != nil {
		return nil, nil, err
	}
	nshape, err := r.count(len(r.buf), "boosting stages")
	if err != nil {
		return nil, nil, err
	}
	var shape []int
	if nshape > 0 {
		shape = make([]int, nshape-1)
		for i := range shape {
			if shape[i], err = r.count(ntrees, "trees of a stage"); err != nil {
				return nil, nil, err
			}
		}
	}
	trees := make([]ml.Tree, ntrees)
	nodes := 0
	for i := range trees {
		// Each node takes at least one bit of the bitmap and, for a
		// leaf, one byte of values.
		n, err := r.count(8*len(r.buf), "nodes")
		if err != nil {
			return nil, nil, err
		}
		nv, err := r.count(len(r.buf)+1, "values per node")
		if err != nil {
			return nil, nil, err
		}
		if n == 0 || nv == 0 {
			return nil, nil, fmt.Errorf("tree %d: %d nodes of %d values", i, n, nv)
		}
		if nodes += n; nodes > 8*len(r.buf) {
			return nil, nil, fmt.Errorf("%d nodes exceed the %d bytes present", nodes, len(r.buf))
		}
		trees[i].NValues = nv
		trees[i].Feature = make([]int, n)
	}
	bits, err := r.bytes((nodes + 7) / 8)
	if err != nil {
		return nil, nil, err
	}
	internal := 0
	at := 0
	for ti := range trees {
		t := &trees[ti]
		n := len(t.Feature)
		t.Left, t.Right = make([]int, n), make([]int, n)
		var stack []int // internal nodes waiting for their right child
		for j := 0; j < n; j++ {
			leaf := bits[at/8]&(1<<(at%8)) != 0
			at++
			if j > 0 {
				if t.Feature[j-1] >= 0 { // the previous node's left child
					t.Left[j-1] = j
				} else {
					if len(stack) == 0 {
						return nil, nil, fmt.Errorf("tree %d: node %d has no parent", ti, j)
					}
					t.Right[stack[len(stack)-1]] = j
					stack = stack[:len(stack)-1]
				}
			}
			if leaf {
				t.Feature[j], t.Left[j], t.Right[j] = -1, -1, -1
				continue
			}
			t.Feature[j] = 0 // set below; >= 0 marks it internal
			internal++
			stack = append(stack, j)
		}
		if len(stack) != 0 || t.Feature[n-1] >= 0 {
			return nil, nil, fmt.Errorf("tree %d: the leaf bitmap does not close the tree", ti)
		}
	}
	for ti := range trees {
		for j, f := range trees[ti].Feature {
			if f < 0 {
				continue
			}
			v, err := r.count(math.MaxInt32-1, "feature")
			if err != nil {
				return nil, nil, err
			}
			trees[ti].Feature[j] = v
		}
	}
	thr, err := r.floats(internal)
	if err != nil {
		return nil, nil, fmt.Errorf("thresholds: %v", err)
	}
	k := 0
	for ti := range trees {
		t := &trees[ti]
		t.Threshold = make([]float64, len(t.Feature))
		for j, f := range t.Feature {
			if f >= 0 {
				t.Threshold[j] = thr[k]
				k++
			}
		}
	}
	mode, err := r.bytes(1)
	if err != nil {
		return nil, nil, err
	}
	// A whole-number value takes at least one byte, a float64 eight.
	budget := len(r.buf)
	if mode[0] == 1 {
		budget /= 8
	}
	total := 0
	for ti := range trees {
		t := &trees[ti]
		if t.NValues > (budget-total)/len(t.Feature) {
			return nil, nil, fmt.Errorf("tree %d: %d values per node exceed the %d bytes present", ti, t.NValues, len(r.buf))
		}
		total += len(t.Feature) * t.NValues
	}
	switch mode[0] {
	case 0:
		for ti := range trees {
			t := &trees[ti]
			t.Value = make([]float64, len(t.Feature)*t.NValues)
			for j := range t.Value {
				v, err := r.uvarint()
				if err != nil {
					return nil, nil, err
				}
				if v >= 1<<53 {
					return nil, nil, fmt.Errorf("tree %d: node value %d out of range", ti, v)
				}
				t.Value[j] = float64(v)
			}
		}
	case 1:
		vals, err := r.floats(total)
		if err != nil {
			return nil, nil, fmt.Errorf("node values: %v", err)
		}
		at := 0
		for ti := range trees {
			t := &trees[ti]
			n := len(t.Feature) * t.NValues
			t.Value = vals[at : at+n : at+n]
			at += n
		}
	default:
		return nil, nil, fmt.Errorf("node values stored as %d", mode[0])
	}
	for ti := range trees {
		if err := trees[ti].Init(); err != nil {
			return nil, nil, fmt.Errorf("tree %d: %v", ti, err)
		}
	}
	return trees, shape, nil
}

// packWriter appends packed values.
type packWriter struct{ buf []byte }

func (w *packWriter) uvarint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }

// floats writes float64s with their bytes transposed: every value's
// first byte, then every second byte, and so on.
func (w *packWriter) floats(v []float64) {
	n := len(v)
	start := len(w.buf)
	w.buf = append(w.buf, make([]byte, 8*n)...)
	out := w.buf[start:]
	for i, x := range v {
		b := math.Float64bits(x)
		for k := 0; k < 8; k++ {
			out[k*n+i] = byte(b >> (8 * k))
		}
	}
}

// packReader consumes packed values, failing on any that runs past the
// end.
type packReader struct{ buf []byte }

var errShort = errors.New("the state ends early")

func (r *packReader) uvarint() (uint64, error) {
	v, k := binary.Uvarint(r.buf)
	if k <= 0 {
		return 0, errShort
	}
	r.buf = r.buf[k:]
	return v, nil
}

// count reads an unsigned varint that must not exceed limit.
func (r *packReader) count(limit int, what string) (int, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(max(limit, 0)) {
		return 0, fmt.Errorf("%d %s exceed what the %d bytes present can hold", v, what, len(r.buf))
	}
	return int(v), nil
}

func (r *packReader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(r.buf) {
		return nil, errShort
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b, nil
}

func (r *packReader) floats(n int) ([]float64, error) {
	if n < 0 || n > len(r.buf)/8 {
		return nil, errShort
	}
	b := r.buf[:8*n]
	r.buf = r.buf[8*n:]
	out := make([]float64, n)
	for i := range out {
		var u uint64
		for k := 0; k < 8; k++ {
			u |= uint64(b[k*n+i]) << (8 * k)
		}
		out[i] = math.Float64frombits(u)
	}
	return out, nil
}
