// Package rcache is a bounded, concurrency-safe LRU cache with an optional
// time-to-live, used by the API to keep search results and answers.
//
// Values are opaque byte slices (typically encoded JSON). Keys are strings;
// Key builds one from an index name, the index's change counter and the
// canonical JSON of the request options, so that any write to an index
// (which bumps its version) makes every older entry unreachable: stale
// entries are never returned and simply age out of the LRU or expire.
package rcache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ragd/ragd/internal/lru"
)

// Defaults used by DefaultConfig and for a non-positive MaxEntries.
const (
	DefaultMaxEntries = 10_000
	DefaultTTL        = 5 * time.Minute
)

// Config configures a Cache.
type Config struct {
	// MaxEntries bounds the number of entries (<= 0: DefaultMaxEntries).
	MaxEntries int
	// TTL is how long an entry lives after it is stored (0 or negative:
	// entries never expire, they only leave by LRU eviction).
	TTL time.Duration
	// Now is the clock (nil: time.Now); tests inject a fake one.
	Now func() time.Time
}

// DefaultConfig is 10,000 entries with a 5-minute TTL.
func DefaultConfig() Config { return Config{MaxEntries: DefaultMaxEntries, TTL: DefaultTTL} }

// Stats are the cache's counters since it was made.
type Stats struct {
	Hits      uint64 `json:"hits"`
	Misses    uint64 `json:"misses"`
	Evictions uint64 `json:"evictions"` // entries pushed out by MaxEntries
	Expired   uint64 `json:"expired"`   // entries dropped because their TTL passed
	Size      int    `json:"size"`
	Capacity  int    `json:"capacity"`
}

type entry struct {
	val     []byte
	expires time.Time // zero: never
}

// Cache is a bounded LRU with TTL. The zero value is not usable; call New.
type Cache struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	now func() time.Time
	lru *lru.Cache[string, entry]
	st  Stats
}

// New makes a cache.
func New(cfg Config) *Cache {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Cache{max: cfg.MaxEntries, ttl: max(cfg.TTL, 0), now: cfg.Now, lru: lru.New[string, entry](cfg.MaxEntries)}
}

// Get returns the value stored under key and marks it recently used. An
// expired entry is removed and reported as a miss. The returned slice is
// shared: callers must not modify it.
func (c *Cache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	if !ok {
		c.st.Misses++
		return nil, false
	}
	if !e.expires.IsZero() && !c.now().Before(e.expires) {
		c.lru.Remove(key)
		c.st.Expired++
		c.st.Misses++
		return nil, false
	}
	c.st.Hits++
	return e.val, true
}

// Put stores val under key, replacing any earlier value, and evicts the
// least recently used entries beyond MaxEntries. The cache keeps val: the
// caller must not modify it afterwards.
func (c *Cache) Put(key string, val []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var exp time.Time
	if c.ttl > 0 {
		exp = c.now().Add(c.ttl)
	}
	c.st.Evictions += uint64(c.lru.Put(key, entry{val: val, expires: exp}))
}

// Remove deletes key if present and reports whether it was.
func (c *Cache) Remove(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Remove(key)
}

// Purge empties the cache (counters are kept).
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Purge()
}

// Len is the number of entries held (expired ones included until touched).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Size = c.lru.Len()
	st.Capacity = c.max
	return st
}

// Key builds a cache key from a route ("search", "ask", ...), an index
// name, the index's version and the request options. opts is encoded as
// JSON, which is canonical for ragd's option structs: struct fields come
// in declaration order and map keys sorted. Parts are length-prefixed so
// that no choice of names can make two different tuples collide.
func Key(route, index string, version uint64, opts any) (string, error) {
	b, err := json.Marshal(opts)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.Grow(len(route) + len(index) + len(b) + 48)
	for _, p := range [...]string{route, index} {
		sb.WriteString(strconv.Itoa(len(p)))
		sb.WriteByte(':')
		sb.WriteString(p)
		sb.WriteByte('|')
	}
	sb.WriteString(strconv.FormatUint(version, 10))
	sb.WriteByte('|')
	sb.Write(b)
	return sb.String(), nil
}

// VectorDigest is a short, collision-resistant stand-in for a query vector
// in a cache key: its length and the SHA-256 of its float32 bits. Encoding
// 512 floats as JSON for every lookup took 5% of a served vector search.
func VectorDigest(v []float32) string {
	if len(v) == 0 {
		return ""
	}
	dims := len(v)
	h := sha256.New()
	var buf [4 * 256]byte
	for len(v) > 0 {
		n := min(len(v), 256)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		h.Write(buf[:4*n])
		v = v[n:]
	}
	return strconv.Itoa(dims) + ":" + hex.EncodeToString(h.Sum(nil))
}
