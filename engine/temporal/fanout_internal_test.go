package temporal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestChunkSize: at most 100 units a chunk, and a small fan-out cut into
// several chunks.
func TestChunkSize(t *testing.T) {
	for n, want := range map[int]int{1: 1, 8: 1, 9: 2, 25: 4, 100: 13, 800: 100, 2500: 100, 2501: 97} {
		got := chunkSize(n)
		if got != want {
			t.Errorf("chunkSize(%d) = %d, want %d", n, got, want)
		}
		if got < 1 || got > maxChunkUnits {
			t.Errorf("chunkSize(%d) = %d", n, got)
		}
	}
}

// TestLRUMakesOnceAndForgets: units asking at once for one input decode
// it once; the cache keeps its bounds by count and by bytes, forgetting
// the least recently used; a failed decode is not kept.
func TestLRUMakesOnceAndForgets(t *testing.T) {
	var c lru
	var made atomic.Int32
	ctx := context.Background()
	build := func(v string) func() (any, error) {
		return func() (any, error) {
			made.Add(1)
			return v, nil
		}
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := c.get(ctx, "a", 10, 2, 100, build("A")); err != nil || v != "A" {
				t.Errorf("get a: %v %v", v, err)
			}
		}()
	}
	wg.Wait()
	if made.Load() != 1 {
		t.Errorf("20 units asking at once made the value %d times, want once", made.Load())
	}
	get := func(key string, size int64) {
		t.Helper()
		if _, err := c.get(ctx, key, size, 2, 100, build(strings.ToUpper(key))); err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
	}
	get("b", 10)
	get("a", 10) // a is now the most recent
	get("c", 10) // over 2 entries: b goes
	if fmt.Sprint(c.order) != "[a c]" {
		t.Errorf("kept %v, want [a c]", c.order)
	}
	get("d", 95) // over 100 bytes: a and c go
	if fmt.Sprint(c.order) != "[d]" || c.bytes != 95 {
		t.Errorf("kept %v (%d bytes), want [d] (95)", c.order, c.bytes)
	}
	boom := errors.New("boom")
	if _, err := c.get(ctx, "e", 1, 2, 100, func() (any, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("err %v", err)
	}
	if _, ok := c.entries["e"]; ok || len(c.order) != 1 {
		t.Errorf("a failed make was kept: %v", c.order)
	}
}

// TestBatchSize: one unit an activity up to 500 units, then about 500
// activities.
func TestBatchSize(t *testing.T) {
	for n, want := range map[int]int{1: 1, 500: 1, 501: 2, 2500: 5, 10000: 20} {
		if got := batchSize(n); got != want {
			t.Errorf("batchSize(%d) = %d, want %d", n, got, want)
		}
	}
}
