package rcache

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func TestLRUEviction(t *testing.T) {
	c := New(Config{MaxEntries: 3})
	c.Put("a", []byte("1"))
	c.Put("b", []byte("2"))
	c.Put("c", []byte("3"))
	if v, ok := c.Get("a"); !ok || string(v) != "1" { // a is now most recent; b is least
		t.Fatalf("get a = %q %v", v, ok)
	}
	c.Put("d", []byte("4"))
	if _, ok := c.Get("b"); ok {
		t.Fatal("b should have been evicted as least recently used")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("%s evicted, want kept", k)
		}
	}
	st := c.Stats()
	if st.Evictions != 1 || st.Size != 3 || st.Capacity != 3 || st.Hits != 4 || st.Misses != 1 {
		t.Fatalf("stats = %+v", st)
	}
	// Replacing a value does not grow the cache or evict.
	c.Put("c", []byte("33"))
	if v, _ := c.Get("c"); string(v) != "33" || c.Len() != 3 || c.Stats().Evictions != 1 {
		t.Fatalf("replace: %q len %d stats %+v", v, c.Len(), c.Stats())
	}
}

func TestDefaults(t *testing.T) {
	c := New(Config{})
	if c.Stats().Capacity != DefaultMaxEntries {
		t.Fatalf("capacity %d", c.Stats().Capacity)
	}
	if d := DefaultConfig(); d.TTL != 5*time.Minute || d.MaxEntries != 10_000 {
		t.Fatalf("default config %+v", d)
	}
}

func TestTTLExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := New(Config{MaxEntries: 10, TTL: time.Minute, Now: clk.Now})
	c.Put("k", []byte("v"))
	clk.Add(59 * time.Second)
	if _, ok := c.Get("k"); !ok {
		t.Fatal("entry expired before its TTL")
	}
	clk.Add(time.Second)
	if _, ok := c.Get("k"); ok {
		t.Fatal("entry served after its TTL")
	}
	if st := c.Stats(); st.Expired != 1 || st.Size != 0 || st.Misses != 1 || st.Hits != 1 {
		t.Fatalf("stats = %+v", st)
	}
	// A Put refreshes the TTL.
	c.Put("k", []byte("v1"))
	clk.Add(50 * time.Second)
	c.Put("k", []byte("v2"))
	clk.Add(50 * time.Second)
	if v, ok := c.Get("k"); !ok || string(v) != "v2" {
		t.Fatalf("refreshed entry: %q %v", v, ok)
	}
}

func TestNoTTL(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	c := New(Config{MaxEntries: 10, TTL: 0, Now: clk.Now})
	c.Put("k", []byte("v"))
	clk.Add(1000 * time.Hour)
	if _, ok := c.Get("k"); !ok {
		t.Fatal("TTL 0 must never expire")
	}
}

func TestRemovePurge(t *testing.T) {
	c := New(Config{MaxEntries: 10})
	c.Put("a", nil)
	c.Put("b", nil)
	if !c.Remove("a") || c.Remove("a") {
		t.Fatal("remove")
	}
	c.Purge()
	if c.Len() != 0 {
		t.Fatal("purge left entries")
	}
	if _, ok := c.Get("b"); ok {
		t.Fatal("purged entry served")
	}
}

func TestKey(t *testing.T) {
	type opts struct {
		Q    string            `json:"q"`
		TopK int               `json:"top_k"`
		M    map[string]string `json:"m"`
	}
	k1, _ := Key("search", "docs", 7, opts{Q: "x", TopK: 5, M: map[string]string{"b": "2", "a": "1"}})
	k2, _ := Key("search", "docs", 7, opts{Q: "x", TopK: 5, M: map[string]string{"a": "1", "b": "2"}})
	if k1 != k2 {
		t.Fatalf("map order changed the key: %q vs %q", k1, k2)
	}
	distinct := []struct {
		route, index string
		v            uint64
		o            opts
	}{
		{"search", "docs", 8, opts{Q: "x", TopK: 5}},
		{"ask", "docs", 7, opts{Q: "x", TopK: 5}},
		{"search", "docs2", 7, opts{Q: "x", TopK: 5}},
		{"search", "docs", 7, opts{Q: "x", TopK: 6}},
		{"search", "docs", 7, opts{Q: "y", TopK: 5}},
		{"search", "docs", 7, opts{Q: "x", TopK: 5}},
		// Length prefixes keep a "|" in a name from shifting parts.
		{"search|4:docs", "", 7, opts{Q: "x", TopK: 5}},
	}
	seen := map[string]int{}
	for i, d := range distinct {
		k, err := Key(d.route, d.index, d.v, d.o)
		if err != nil {
			t.Fatal(err)
		}
		if j, ok := seen[k]; ok {
			t.Fatalf("cases %d and %d share key %q", j, i, k)
		}
		seen[k] = i
	}
	if _, err := Key("r", "i", 1, func() {}); err == nil {
		t.Fatal("unencodable options must be an error")
	}
}

func TestConcurrent(t *testing.T) {
	c := New(Config{MaxEntries: 64, TTL: time.Hour})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Sprintf("k%d", (i*7+g)%100)
				if v, ok := c.Get(k); ok && string(v) != k {
					t.Errorf("key %s holds %q", k, v)
					return
				}
				c.Put(k, []byte(k))
				if i%500 == 0 {
					_ = c.Stats()
					c.Remove(k)
				}
			}
		}()
	}
	wg.Wait()
	st := c.Stats()
	if st.Size > 64 || c.Len() != st.Size {
		t.Fatalf("size %d over capacity (stats %+v)", c.Len(), st)
	}
	if st.Hits+st.Misses != 8*2000 {
		t.Fatalf("hits+misses = %d, want %d", st.Hits+st.Misses, 8*2000)
	}
}

func TestVectorDigest(t *testing.T) {
	long := make([]float32, 700) // more than one 256-float block
	long2 := slices.Clone(long)
	long2[600] = 1e-30
	seen := map[string]int{}
	for i, v := range [][]float32{{1, 2}, {2, 1}, {1, 2, 0}, {1, 2.0000002}, long, long2, long[:699]} {
		d := VectorDigest(v)
		if j, ok := seen[d]; ok {
			t.Fatalf("vectors %d and %d share digest %s", j, i, d)
		}
		seen[d] = i
		if VectorDigest(slices.Clone(v)) != d {
			t.Fatalf("vector %d: digest not deterministic", i)
		}
	}
	if VectorDigest(nil) != "" {
		t.Fatal("nil vector has a digest")
	}
}
