package stages_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sluice-ml/sluice/engine/stages"
)

// resign decodes a model file, lets mutate change its estimator state (as
// a generic JSON value), and writes it back with a valid checksum, as a
// hostile file would be made. It fails the test if the file does not
// decode; ok is false when mutate declines.
func resign(t testing.TB, data []byte, mutate func(state map[string]any) bool) ([]byte, bool) {
	t.Helper()
	out, ok, err := resignBytes(data, mutate)
	if err != nil {
		t.Fatal(err)
	}
	return out, ok
}

func resignBytes(data []byte, mutate func(state map[string]any) bool) ([]byte, bool, error) {
	var mf stages.ModelFile
	if err := json.Unmarshal(data, &mf); err != nil {
		return nil, false, err
	}
	var state map[string]any
	dec := json.NewDecoder(strings.NewReader(string(mf.Estimator.State)))
	dec.UseNumber()
	if err := dec.Decode(&state); err != nil {
		return nil, false, err
	}
	if !mutate(state) {
		return nil, false, nil
	}
	b, err := json.Marshal(state)
	if err != nil {
		return nil, false, err
	}
	mf.Estimator.State = b
	mf.Checksum = ""
	body, err := json.Marshal(&mf)
	if err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256(body)
	mf.Checksum = hex.EncodeToString(sum[:])
	out, err := json.Marshal(&mf)
	return out, err == nil, err
}

// TestModelFileDeclaredSizesAreChecked changes the counts a model file
// declares (classes, features, values per tree node) to sizes far beyond
// what the file holds, keeping the checksum valid. Loading must refuse
// each with ErrBadModel, before anything is allocated from the claim: a
// k-NN model claiming 2,000,000 classes used 4.7 GB to predict 150 rows,
// and a tree claiming 2^62 values per node overflowed the length check
// and panicked.
func TestModelFileDeclaredSizesAreChecked(t *testing.T) {
	t.Parallel()
	set := func(key string, v any) func(map[string]any) bool {
		return func(s map[string]any) bool {
			if _, ok := s[key]; !ok {
				return false
			}
			s[key] = v
			return true
		}
	}
	// firstTree finds the first tree in a tree, forest or boosting state.
	firstTree := func(s map[string]any) map[string]any {
		hasValues := func(m map[string]any) map[string]any {
			if _, ok := m["n_values"]; ok {
				return m
			}
			return nil
		}
		if tr, ok := s["tree"].(map[string]any); ok {
			return hasValues(tr)
		}
		est, _ := s["estimators"].([]any)
		for len(est) > 0 {
			switch e := est[0].(type) {
			case map[string]any:
				return hasValues(e)
			case []any:
				est = e
			default:
				return nil
			}
		}
		return nil
	}
	mutations := []struct {
		name   string
		mutate func(map[string]any) bool
	}{
		{"n_classes 2,000,000", set("n_classes", 2_000_000)},
		{"n_classes 1e8", set("n_classes", 100_000_000)},
		{"n_features_in 1e9", set("n_features_in", 1_000_000_000)},
		{"n_values 2^62", func(s map[string]any) bool {
			tr := firstTree(s)
			if _, ok := tr["n_values"]; !ok {
				return false // a histogram tree holds one value per node
			}
			tr["n_values"] = int64(1) << 62
			return true
		}},
		{"n_values 2", func(s map[string]any) bool {
			tr := firstTree(s)
			if _, ok := tr["n_values"]; !ok {
				return false // a histogram tree holds one value per node
			}
			// Twice the values per node with twice the values: consistent
			// within the tree, not with the model's classes.
			v := tr["value"].([]any)
			tr["value"] = append(v, v...)
			n, _ := tr["n_values"].(json.Number).Int64()
			tr["n_values"] = 2 * n
			return true
		}},
	}
	for _, typ := range stages.Registry().Types() {
		if typ.Group != "train" {
			continue
		}
		t.Run(typ.Name, func(t *testing.T) {
			t.Parallel()
			dataset, target := "iris", "species"
			if strings.HasSuffix(typ.Name, "regressor") || strings.Contains("linear_regression ridge lasso elastic_net", typ.Name) {
				dataset, target = "diabetes", "progression"
			}
			extra := ""
			switch {
			case strings.HasPrefix(typ.Name, "hist_gradient_boosting"):
				extra = ", with: {max_iter: 3}"
			case strings.Contains(typ.Name, "forest") || strings.Contains(typ.Name, "boosting"):
				extra = ", with: {n_estimators: 3}"
			}
			if typ.Name == "kmeans" {
				extra = ", with: {n_clusters: 3}"
			}
			_, arts := runML(t, mlPipeline(t, head(dataset, target)+"  - {id: model, uses: "+typ.Name+extra+"}\n"))
			p, err := stages.LoadModel("m", arts["model/model"])
			if err != nil {
				t.Fatalf("the untouched file does not load: %v", err)
			}
			// The mutations edit format 1 (JSON); format 2's sizes are
			// held to its bytes by TestModelFile2DeclaredSizes.
			orig, err := stages.EncodeModelFile(p, stages.ModelFileJSON)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mutations {
				data, ok := resign(t, orig, m.mutate)
				if !ok {
					continue
				}
				_, err := stages.LoadModel("m.json", data)
				if !errors.Is(err, stages.ErrBadModel) {
					t.Errorf("%s: got %v, want ErrBadModel", m.name, err)
				}
			}
		})
	}
}
