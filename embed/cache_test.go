package embed

import "testing"

func TestQueryCacheLRU(t *testing.T) {
	c := NewQueryCache(2)
	c.Put("m", "a", []float32{1})
	c.Put("m", "b", []float32{2})
	if v, ok := c.Get("m", "a"); !ok || v[0] != 1 {
		t.Fatalf("a: %v %v", v, ok)
	}
	c.Put("m", "c", []float32{3}) // evicts b, the least recently used
	if _, ok := c.Get("m", "b"); ok {
		t.Fatal("b should have been evicted")
	}
	if _, ok := c.Get("other", "a"); ok {
		t.Fatal("keys must include the model")
	}
	hits, misses, size := c.Stats()
	if hits != 1 || misses != 2 || size != 2 {
		t.Fatalf("stats %d %d %d", hits, misses, size)
	}
	off := NewQueryCache(0)
	off.Put("m", "a", []float32{1})
	if _, ok := off.Get("m", "a"); ok {
		t.Fatal("size 0 must disable the cache")
	}
}
