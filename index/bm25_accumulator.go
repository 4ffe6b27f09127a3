package index

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	index "github.com/blevesearch/bleve_index_api"
)

// accumulator sums per-chunk scores of one query, keyed by internal doc
// number: a dense slice (reused across queries through accPool) while the
// numbers stay below limit, a map beyond. Every contribution is positive,
// so a zero entry means "not scored yet".
type accumulator struct {
	dense   []float64
	touched []uint64
	sparse  map[uint64]float64
	limit   uint64
	allow   *docSet     // a filter's chunks, when listed up front
	lazy    *termFilter // or a filter checked as chunks are met
	heap    []float64   // scratch for kth
}

var accPool = sync.Pool{New: func() any { return new(accumulator) }}

func (a *accumulator) allowed(d uint64) bool {
	if a.lazy != nil {
		return a.lazy.has(d)
	}
	return a.allow == nil || a.allow.has(d)
}

func (a *accumulator) add(d uint64, s float64) {
	if a.sparse == nil {
		if d < uint64(len(a.dense)) {
			if a.dense[d] == 0 {
				a.touched = append(a.touched, d)
			}
			a.dense[d] += s
			return
		}
		if d < a.limit {
			n := min(max(d+1, 2*uint64(len(a.dense)), 1024), a.limit)
			a.dense = slices.Grow(a.dense, int(n)-len(a.dense))[:n]
			a.touched = append(a.touched, d)
			a.dense[d] = s
			return
		}
		a.sparse = make(map[uint64]float64, len(a.touched)+1)
		for _, t := range a.touched {
			a.sparse[t] = a.dense[t]
		}
	}
	a.sparse[d] += s
}

// maxPooledDense bounds the dense slice kept for reuse (8 MiB).
const maxPooledDense = 1 << 20

func (a *accumulator) release() {
	for _, t := range a.touched {
		if t < uint64(len(a.dense)) {
			a.dense[t] = 0
		}
	}
	if len(a.dense) > maxPooledDense {
		a.dense = nil
	}
	a.touched, a.sparse, a.allow, a.lazy = a.touched[:0], nil, nil, nil
	accPool.Put(a)
}

// each calls fn for every scored chunk.
func (a *accumulator) each(fn func(d uint64, s float64)) {
	if a.sparse != nil {
		for d, s := range a.sparse {
			fn(d, s)
		}
		return
	}
	for _, d := range a.touched {
		fn(d, a.dense[d])
	}
}

// kth returns the k-th best score so far, -Inf when fewer than k chunks
// are scored. Scores only grow, so it bounds the final k-th best from below.
func (a *accumulator) kth(k int) float64 {
	h := a.heap[:0]
	a.each(func(_ uint64, s float64) {
		if len(h) < k {
			h = append(h, s)
			for i := len(h) - 1; i > 0; { // sift up
				p := (i - 1) / 2
				if h[p] <= h[i] {
					break
				}
				h[p], h[i] = h[i], h[p]
				i = p
			}
			return
		}
		if s <= h[0] {
			return
		}
		h[0] = s
		for i := 0; ; { // sift down
			l, m := 2*i+1, i
			if l < len(h) && h[l] < h[m] {
				m = l
			}
			if l+1 < len(h) && h[l+1] < h[m] {
				m = l + 1
			}
			if m == i {
				break
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	})
	a.heap = h
	if len(h) < k {
		return math.Inf(-1)
	}
	return h[0]
}

// candidates returns, in ascending order, the scored chunks whose score is
// at least min: those in prev when prev is non-nil (filtered in place),
// else every scored chunk.
func (a *accumulator) candidates(min float64, prev []uint64) []uint64 {
	score := func(d uint64) float64 {
		if a.sparse != nil {
			return a.sparse[d]
		}
		return a.dense[d]
	}
	if prev != nil {
		out := prev[:0]
		for _, d := range prev {
			if score(d) >= min {
				out = append(out, d)
			}
		}
		return out
	}
	out := []uint64{}
	a.each(func(d uint64, s float64) {
		if s >= min {
			out = append(out, d)
		}
	})
	slices.Sort(out)
	return out
}

// top returns the k best chunks, score descending then id ascending. The
// k-th best score is found first; every chunk at or above it (ties
// included) is then named and sorted, so ties at the cut are broken by
// id, not by internal order.
func (a *accumulator) top(r index.IndexReader, k int) ([]kwHit, error) {
	if len(a.touched) == 0 && len(a.sparse) == 0 {
		return nil, nil
	}
	thr := a.kth(k)
	type cand struct {
		d uint64
		s float64
	}
	var cs []cand
	a.each(func(d uint64, s float64) {
		if s >= thr {
			cs = append(cs, cand{d, s})
		}
	})
	out := make([]kwHit, len(cs))
	var buf index.IndexInternalID
	for i, c := range cs {
		buf = index.NewIndexInternalID(buf, c.d)
		id, err := r.ExternalID(buf)
		if err != nil {
			return nil, fmt.Errorf("keyword search: external id: %w", err)
		}
		out[i] = kwHit{ID: id, Score: c.s}
	}
	slices.SortFunc(out, func(x, y kwHit) int {
		if x.Score != y.Score {
			if x.Score > y.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out[:min(k, len(out))], nil
}
