package embed

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// QueryCache is a bounded LRU of query embeddings keyed by (model, text).
// Queries repeat far more than passages, and a cached query costs a map
// lookup instead of a forward pass. Safe for concurrent use.
type QueryCache struct {
	mu     sync.Mutex
	max    int
	ll     *list.List
	items  map[cacheKey]*list.Element
	hits   atomic.Int64
	misses atomic.Int64
}

type cacheKey struct{ model, text string }

type cacheEntry struct {
	key cacheKey
	vec []float32
}

// NewQueryCache returns a cache holding up to size vectors (size <= 0
// disables caching).
func NewQueryCache(size int) *QueryCache {
	return &QueryCache{max: size, ll: list.New(), items: map[cacheKey]*list.Element{}}
}

// Get returns a cached vector. The slice is shared: do not modify it.
func (c *QueryCache) Get(model, text string) ([]float32, bool) {
	if c == nil || c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[cacheKey{model, text}]; ok {
		c.ll.MoveToFront(el)
		c.hits.Add(1)
		return el.Value.(*cacheEntry).vec, true
	}
	c.misses.Add(1)
	return nil, false
}

// Put stores a vector, evicting the least recently used beyond the bound.
func (c *QueryCache) Put(model, text string, vec []float32) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cacheKey{model, text}
	if el, ok := c.items[k]; ok {
		el.Value.(*cacheEntry).vec = vec
		c.ll.MoveToFront(el)
		return
	}
	c.items[k] = c.ll.PushFront(&cacheEntry{key: k, vec: vec})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

// Stats returns hits, misses and the number of cached vectors.
func (c *QueryCache) Stats() (hits, misses int64, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits.Load(), c.misses.Load(), c.ll.Len()
}
