package stages

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sluice-ml/sluice/ml"
)

// treeData is a small seeded classification problem: 300 rows, 6
// features, 3 classes.
func treeData() (*mat.Dense, []float64) {
	r := rand.New(rand.NewPCG(3, 4))
	X := mat.NewDense(300, 6, nil)
	y := make([]float64, 300)
	for i := range 300 {
		for j := range 6 {
			X.Set(i, j, r.NormFloat64())
		}
		switch {
		case X.At(i, 0)+0.5*X.At(i, 1) > 0.3:
			y[i] = 2
		case X.At(i, 2) > 0:
			y[i] = 1
		}
	}
	return X, y
}

// fittedTreeModels fits one estimator of every kind format 2 packs.
func fittedTreeModels(t *testing.T) map[string]ml.Estimator {
	t.Helper()
	X, y := treeData()
	rf := ml.NewRandomForestClassifier()
	rf.NEstimators = 7
	rfr := ml.NewRandomForestRegressor()
	rfr.NEstimators = 5
	gb := ml.NewGradientBoostingClassifier()
	gb.NEstimators = 4
	gbr := ml.NewGradientBoostingRegressor()
	gbr.NEstimators = 4
	out := map[string]ml.Estimator{
		"random_forest_classifier":     rf,
		"random_forest_regressor":      rfr,
		"gradient_boosting_classifier": gb,
		"gradient_boosting_regressor":  gbr,
		"decision_tree_classifier":     ml.NewDecisionTreeClassifier(),
		"decision_tree_regressor":      ml.NewDecisionTreeRegressor(),
	}
	for name, est := range out {
		if err := est.Fit(X, y); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return out
}

// TestPackedStateRoundTrip packs each tree model and unpacks it into a
// fresh estimator: the JSON of the two (every learned value) and their
// predictions are identical, and packing is deterministic.
func TestPackedStateRoundTrip(t *testing.T) {
	X, _ := treeData()
	for name, est := range fittedTreeModels(t) {
		t.Run(name, func(t *testing.T) {
			raw, enc, err := packState(est)
			if err != nil {
				t.Fatal(err)
			}
			if enc != stateTrees {
				t.Fatalf("encoding %q, want %q", enc, stateTrees)
			}
			again, _, _ := packState(est)
			if !bytes.Equal(raw, again) {
				t.Fatal("packing the same model twice gave different bytes")
			}
			def, _ := estimatorByName(name)
			got := def.new()
			if err := unpackState(got, enc, raw); err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(est)
			have, _ := json.Marshal(got)
			if !bytes.Equal(want, have) {
				t.Fatalf("state after a round trip differs (%d vs %d bytes of JSON)", len(have), len(want))
			}
			p1, p2 := est.Predict(nil, X), got.Predict(nil, X)
			for i := range p1 {
				if p1[i] != p2[i] {
					t.Fatalf("row %d: predicted %v, the original %v", i, p2[i], p1[i])
				}
			}
			if len(raw) >= len(want) {
				t.Errorf("packed state of %d bytes is not smaller than its %d bytes of JSON", len(raw), len(want))
			}
		})
	}
}

// TestPackedStateNeverTrustsItsCounts cuts a packed forest short at
// every length and inflates each count it declares: unpacking fails
// with an error, never a panic or an allocation the bytes do not back.
func TestPackedStateNeverTrustsItsCounts(t *testing.T) {
	est := fittedTreeModels(t)["random_forest_classifier"]
	raw, _, err := packState(est)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := estimatorByName("random_forest_classifier")
	try := func(b []byte) (err error) {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("panic: %v", p)
			}
		}()
		return unpackState(def.new(), stateTrees, b)
	}
	for n := 0; n < len(raw); n += max(1, len(raw)/500) {
		if try(raw[:n]) == nil {
			t.Fatalf("a state cut to %d of %d bytes unpacked", n, len(raw))
		}
	}
	// The counts after the estimator's JSON: trees, boosting stages,
	// then each tree's nodes and values per node.
	r := packReader{buf: raw}
	skel, _ := r.count(len(raw), "")
	head := len(raw) - len(r.buf) + skel
	for _, big := range []uint64{1 << 20, 1 << 40, 1 << 62, 1<<64 - 1} {
		for field := 0; field < 4; field++ {
			b := append([]byte(nil), raw[:head]...)
			rest := packReader{buf: raw[head:]}
			for i := 0; i < 4; i++ {
				v, _ := rest.uvarint()
				if i == field {
					v = big
				}
				b = binary.AppendUvarint(b, v)
			}
			b = append(b, rest.buf...)
			if err := try(b); err == nil {
				t.Errorf("count %d set to %d: unpacked", field, big)
			}
		}
	}
}

// TestPackedStatePerClassForest round-trips a forest of per-class trees
// (one value per node, NClasses trees per member) and checks the size
// check takes it and refuses one whose trees do not divide by the
// classes.
func TestPackedStatePerClassForest(t *testing.T) {
	X, y := treeData()
	est := ml.NewRandomForestClassifier()
	est.NEstimators, est.PerClassTrees = 4, true
	if err := est.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	raw, enc, err := packState(est)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := estimatorByName("random_forest_classifier")
	got := def.new().(*ml.RandomForestClassifier)
	if err := unpackState(got, enc, raw); err != nil {
		t.Fatal(err)
	}
	if len(got.Trees) != 12 || !got.PerClassTrees {
		t.Fatalf("unpacked %d trees (per-class %v), want 12 per-class trees", len(got.Trees), got.PerClassTrees)
	}
	want, have := est.PredictProba(nil, X).RawMatrix().Data, got.PredictProba(nil, X).RawMatrix().Data
	for i := range want {
		if want[i] != have[i] {
			t.Fatalf("probability %d: %v after the round trip, %v before", i, have[i], want[i])
		}
	}
	if err := checkDeclaredSizes(got, 6, 3); err != nil {
		t.Errorf("size check refuses a per-class forest: %v", err)
	}
	got.Trees = got.Trees[:11]
	if err := checkDeclaredSizes(got, 6, 3); err == nil {
		t.Error("size check takes 11 per-class trees for 3 classes")
	}
}
