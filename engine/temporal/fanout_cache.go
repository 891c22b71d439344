package temporal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// This file holds a worker's caches for the fan-out units it runs, so
// that the units of one stage validate its plan and decode its inputs
// once per worker rather than once per unit.

// sourceKey names a pipeline source for the plan cache.
func sourceKey(s Source) string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// fanOutCaches are a worker's caches for the units it runs: validated
// plans by their source, and decoded stage inputs by their artifact key
// (content-addressed, so a key always names the same value). Values are
// immutable once made, so units running at once share them. Bounded by
// count, and inputs also by the bytes of the artifacts they were decoded
// from.
type fanOutCaches struct {
	plans  lru
	values lru
}

// Bounds of fanOutCaches.
const (
	cachedPlans      = 16
	cachedInputs     = 8
	cachedInputBytes = 1 << 30
)

// lru is a small cache that makes each value once even when asked for
// it from several goroutines at once, and forgets the least recently used
// beyond its bounds. A failed make is not kept.
type lru struct {
	mu      sync.Mutex
	entries map[string]*lruEntry
	order   []string // least recently used first
	bytes   int64
}

type lruEntry struct {
	ready chan struct{}
	v     any
	err   error
	size  int64
}

// get returns the value of key, made by build unless it is there; the
// cache then keeps at most maxEntries values of at most maxBytes in all
// (0: no bound on bytes), sizes as given.
func (c *lru) get(ctx context.Context, key string, size int64, maxEntries int, maxBytes int64, build func() (any, error)) (any, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*lruEntry{}
	}
	e, ok := c.entries[key]
	if ok {
		c.touch(key)
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.v, nil
		}
		return c.get(ctx, key, size, maxEntries, maxBytes, build) // the maker failed; try again
	}
	e = &lruEntry{ready: make(chan struct{}), size: size}
	c.entries[key] = e
	c.order = append(c.order, key)
	c.bytes += size
	c.evict(key, maxEntries, maxBytes)
	c.mu.Unlock()
	e.v, e.err = build()
	close(e.ready)
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			c.remove(key)
		}
		c.mu.Unlock()
	}
	return e.v, e.err
}

// touch moves key to the most recently used end.
func (c *lru) touch(key string) {
	for i, k := range c.order {
		if k == key {
			c.order = append(append(c.order[:i:i], c.order[i+1:]...), key)
			return
		}
	}
}

// evict forgets the least recently used entries (never keep) beyond the bounds.
func (c *lru) evict(keep string, maxEntries int, maxBytes int64) {
	for len(c.order) > 1 && (len(c.order) > maxEntries || (maxBytes > 0 && c.bytes > maxBytes)) {
		k := c.order[0]
		if k == keep {
			break
		}
		c.remove(k)
	}
}

func (c *lru) remove(key string) {
	if e, ok := c.entries[key]; ok {
		c.bytes -= e.size
		delete(c.entries, key)
	}
	for i, k := range c.order {
		if k == key {
			c.order = append(c.order[:i:i], c.order[i+1:]...)
			return
		}
	}
}
