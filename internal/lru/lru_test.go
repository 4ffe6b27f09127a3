package lru

import (
	"math/rand/v2"
	"testing"
)

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[string, int](2)
	if ev := c.Put("a", 1); ev != 0 {
		t.Fatalf("evicted %d", ev)
	}
	c.Put("b", 2)
	if v, ok := c.Get("a"); !ok || v != 1 { // a is now the most recent
		t.Fatalf("Get(a) = %d, %v", v, ok)
	}
	if ev := c.Put("c", 3); ev != 1 {
		t.Fatalf("Put(c) evicted %d, want 1", ev)
	}
	if _, ok := c.Get("b"); ok {
		t.Error("b survived; it was the least recently used")
	}
	for k, want := range map[string]int{"a": 1, "c": 3} {
		if v, ok := c.Get(k); !ok || v != want {
			t.Errorf("Get(%s) = %d, %v", k, v, ok)
		}
	}
	if c.Len() != 2 || c.Cap() != 2 {
		t.Errorf("Len %d Cap %d", c.Len(), c.Cap())
	}
}

func TestPutReplacesAndRefreshes(t *testing.T) {
	c := New[int, string](2)
	c.Put(1, "one")
	c.Put(2, "two")
	if ev := c.Put(1, "uno"); ev != 0 { // replace: no eviction, 1 becomes most recent
		t.Fatalf("evicted %d", ev)
	}
	c.Put(3, "three")
	if _, ok := c.Peek(2); ok {
		t.Error("2 survived")
	}
	if v, _ := c.Peek(1); v != "uno" {
		t.Errorf("1 = %q", v)
	}
}

func TestPeekKeepsRecency(t *testing.T) {
	c := New[int, int](2)
	c.Put(1, 1)
	c.Put(2, 2)
	c.Peek(1) // does not refresh 1
	c.Put(3, 3)
	if _, ok := c.Peek(1); ok {
		t.Error("Peek refreshed 1")
	}
}

func TestRemovePurgeAndZeroSize(t *testing.T) {
	c := New[int, int](3)
	c.Put(1, 1)
	c.Put(2, 2)
	if !c.Remove(1) || c.Remove(1) || c.Len() != 1 {
		t.Fatalf("Remove: len %d", c.Len())
	}
	c.Purge()
	if _, ok := c.Get(2); ok || c.Len() != 0 {
		t.Fatal("Purge left entries")
	}
	c.Put(4, 4) // usable after Purge
	if v, ok := c.Get(4); !ok || v != 4 {
		t.Fatal("Put after Purge")
	}
	z := New[int, int](0)
	if ev := z.Put(1, 1); ev != 1 || z.Len() != 0 {
		t.Errorf("size 0: evicted %d, len %d", ev, z.Len())
	}
	if n := New[int, int](-5); n.Cap() != 0 {
		t.Errorf("negative size: cap %d", n.Cap())
	}
}

// TestMatchesModel checks random operations against a slice model of an LRU.
func TestMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const size = 8
	c := New[int, int](size)
	var order []int // most recent first
	vals := map[int]int{}
	touch := func(k int) {
		for i, x := range order {
			if x == k {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
		order = append([]int{k}, order...)
	}
	for i := range 5000 {
		k := rng.IntN(20)
		switch rng.IntN(3) {
		case 0:
			c.Put(k, i)
			vals[k] = i
			touch(k)
			for len(order) > size {
				delete(vals, order[len(order)-1])
				order = order[:len(order)-1]
			}
		case 1:
			v, ok := c.Get(k)
			want, wok := vals[k]
			if ok != wok || v != want {
				t.Fatalf("step %d: Get(%d) = %d, %v; want %d, %v", i, k, v, ok, want, wok)
			}
			if ok {
				touch(k)
			}
		case 2:
			_, wok := vals[k]
			if got := c.Remove(k); got != wok {
				t.Fatalf("step %d: Remove(%d) = %v", i, k, got)
			}
			delete(vals, k)
			for j, x := range order {
				if x == k {
					order = append(order[:j], order[j+1:]...)
					break
				}
			}
		}
		if c.Len() != len(order) {
			t.Fatalf("step %d: Len %d, want %d", i, c.Len(), len(order))
		}
	}
}
