package embed

import (
	"sync"
	"sync/atomic"

	"github.com/ragd/ragd/internal/lru"
)

// QueryCache is a bounded LRU of query embeddings keyed by (model, text).
// Queries repeat far more than passages, and a cached query costs a map
// lookup instead of a forward pass. Safe for concurrent use.
type QueryCache struct {
	mu     sync.Mutex
	lru    *lru.Cache[cacheKey, []float32] // nil: caching off
	hits   atomic.Int64
	misses atomic.Int64
}

type cacheKey struct{ model, text string }

// NewQueryCache returns a cache holding up to size vectors (size <= 0
// disables caching).
func NewQueryCache(size int) *QueryCache {
	c := &QueryCache{}
	if size > 0 {
		c.lru = lru.New[cacheKey, []float32](size)
	}
	return c
}

// Get returns a cached vector. The slice is shared: do not modify it.
func (c *QueryCache) Get(model, text string) ([]float32, bool) {
	if c == nil || c.lru == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if vec, ok := c.lru.Get(cacheKey{model, text}); ok {
		c.hits.Add(1)
		return vec, true
	}
	c.misses.Add(1)
	return nil, false
}

// Put stores a vector, evicting the least recently used beyond the bound.
func (c *QueryCache) Put(model, text string, vec []float32) {
	if c == nil || c.lru == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Put(cacheKey{model, text}, vec)
}

// Stats returns hits, misses and the number of cached vectors.
func (c *QueryCache) Stats() (hits, misses int64, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru != nil {
		size = c.lru.Len()
	}
	return c.hits.Load(), c.misses.Load(), size
}
