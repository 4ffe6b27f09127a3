package ann

import "sync"

// cand is a node and its distance to the query.
type cand struct {
	d  float32
	id uint32
}

// minHeap pops the closest candidate first. No interfaces, no boxing.
type minHeap []cand

func (h *minHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].d <= s[i].d {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minHeap) pop() cand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].d < s[l].d {
			m = r
		}
		if s[i].d <= s[m].d {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// maxHeap keeps the farthest candidate on top, to bound a result set.
type maxHeap []cand

func (h *maxHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].d >= s[i].d {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *maxHeap) pop() cand {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].d > s[l].d {
			m = r
		}
		if s[i].d >= s[m].d {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// pushBounded adds c if the heap has fewer than k entries or c is closer
// than the farthest one.
func (h *maxHeap) pushBounded(c cand, k int) {
	if len(*h) < k {
		h.push(c)
		return
	}
	if c.d < (*h)[0].d {
		h.pop()
		h.push(c)
	}
}

// sorted empties the heap and returns its entries closest first.
func (h *maxHeap) sorted() []cand {
	out := make([]cand, len(*h))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = h.pop()
	}
	return out
}

// scratch is per-search working memory, reused through a sync.Pool: a
// generation-stamped visited array (no clearing per search), the heaps and
// a neighbour buffer.
type scratch struct {
	marks []uint16
	gen   uint16
	cands minHeap
	res   maxHeap
	nbuf  []uint32
	sel   []cand
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// begin prepares s for a search over n nodes.
func (s *scratch) begin(n int) {
	if len(s.marks) < n {
		s.marks = make([]uint16, n+n/4+1024)
		s.gen = 0
	}
	s.gen++
	if s.gen == 0 {
		clear(s.marks)
		s.gen = 1
	}
	s.cands = s.cands[:0]
	s.res = s.res[:0]
}

// visit marks id and reports whether it was new in this search.
func (s *scratch) visit(id uint32) bool {
	if s.marks[id] == s.gen {
		return false
	}
	s.marks[id] = s.gen
	return true
}
