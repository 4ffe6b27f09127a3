package lru

import "container/list"

// Cache is a bounded LRU map. The zero value is not usable; call New.
type Cache[K comparable, V any] struct {
	max   int
	ll    list.List // of *entry[K, V]; front = most recently used
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns a cache holding up to size entries; size <= 0 makes a cache
// that holds nothing (every Put is evicted at once).
func New[K comparable, V any](size int) *Cache[K, V] {
	c := &Cache[K, V]{max: max(size, 0), items: make(map[K]*list.Element)}
	c.ll.Init()
	return c
}

// Get returns the value under key and marks it most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*entry[K, V]).val, true
}

// Peek returns the value under key without changing its recency.
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	return el.Value.(*entry[K, V]).val, true
}

// Put stores val under key as the most recently used entry, replacing an
// earlier value, and returns how many least recently used entries it
// evicted to stay within the bound.
func (c *Cache[K, V]) Put(key K, val V) (evicted int) {
	if el, ok := c.items[key]; ok {
		el.Value.(*entry[K, V]).val = val
		c.ll.MoveToFront(el)
		return 0
	}
	c.items[key] = c.ll.PushFront(&entry[K, V]{key: key, val: val})
	for c.ll.Len() > c.max {
		c.removeElement(c.ll.Back())
		evicted++
	}
	return evicted
}

// Remove deletes key and reports whether it was present.
func (c *Cache[K, V]) Remove(key K) bool {
	el, ok := c.items[key]
	if ok {
		c.removeElement(el)
	}
	return ok
}

// Purge removes every entry.
func (c *Cache[K, V]) Purge() {
	c.ll.Init()
	clear(c.items)
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int { return c.ll.Len() }

// Cap is the bound.
func (c *Cache[K, V]) Cap() int { return c.max }

func (c *Cache[K, V]) removeElement(el *list.Element) {
	c.ll.Remove(el)
	delete(c.items, el.Value.(*entry[K, V]).key)
}
