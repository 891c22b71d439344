package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

// testValue is a value of any kind holding a few numbers; a model may
// hold the split it came from, stored apart by reference.
type testValue struct {
	kind engine.Kind
	nums []int64
	from *testValue
}

func (v *testValue) Kind() engine.Kind { return v.kind }

type testDoc struct {
	Nums []int64              `json:"nums"`
	From *engine.ArtifactInfo `json:"from,omitempty"`
}

func (v *testValue) Encode(ctx context.Context, w io.Writer, put engine.PutFunc) (string, error) {
	doc := testDoc{Nums: v.nums}
	if v.from != nil {
		ref, err := put(ctx, v.from)
		if err != nil {
			return "", err
		}
		doc.From = &ref
	}
	return "test-json", json.NewEncoder(w).Encode(doc)
}

func (v *testValue) Preview() *engine.Preview {
	if v.kind != engine.KindTable {
		return nil
	}
	p := &engine.Preview{Rows: len(v.nums), Cols: 1, Columns: []engine.ColumnSummary{{Name: "x", Type: "int", Count: len(v.nums)}}}
	for _, n := range v.nums {
		p.Head = append(p.Head, []string{fmt.Sprint(n)})
	}
	return p
}

func decodeTestValue(ctx context.Context, kind engine.Kind, format string, data []byte, get engine.GetFunc) (engine.Value, error) {
	if format != "test-json" {
		return nil, fmt.Errorf("format %q", format)
	}
	var doc testDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	v := &testValue{kind: kind, nums: doc.Nums}
	if doc.From != nil {
		from, err := get(ctx, *doc.From)
		if err != nil {
			return nil, err
		}
		tv, ok := from.(*testValue)
		if !ok {
			return nil, errors.New("from: not a test value")
		}
		v.from = tv
	}
	return v, nil
}

// memStore is an engine.ArtifactStore in memory.
type memStore struct {
	mu    sync.Mutex
	blobs map[string][]byte
	puts  int
}

func newMemStore() *memStore { return &memStore{blobs: map[string][]byte{}} }

func (m *memStore) Put(_ context.Context, r io.Reader) (string, int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", 0, err
	}
	h := sha256.Sum256(b)
	key := hex.EncodeToString(h[:])
	m.mu.Lock()
	m.blobs[key] = b
	m.puts++
	m.mu.Unlock()
	return key, int64(len(b)), nil
}

func (m *memStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	b, ok := m.blobs[key]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memStore) Has(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.blobs[key]
	return ok, nil
}

func (m *memStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blobs, key)
	return nil
}

func (m *memStore) List(_ context.Context, fn func(string, int64, time.Time) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, b := range m.blobs {
		if err := fn(k, int64(len(b)), time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Size(_ context.Context, key string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[key]
	if !ok {
		return 0, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	return int64(len(b)), nil
}
