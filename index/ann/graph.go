package ann

import (
	"slices"
	"unsafe"

	"github.com/ragd/ragd/data"
)

// This file is the HNSW graph of Malkov & Yashunin (2016): greedy descent
// through the upper layers, a beam search of width ef on each layer
// (Algorithm 2) and the heuristic neighbour selection of Algorithm 4.

// query is one search's view of the query vector.
type query struct {
	v  []float32
	qq *qquery // non-nil: traverse with int8 codes
}

func (s *state) nodeDist(q *query, id uint32) float32 {
	if q.qq != nil {
		var sqn float32
		if s.sqn != nil {
			sqn = s.sqn[id]
		}
		return distQ(s.metric, q.qq, s.code(id), s.scales[id], sqn)
	}
	return dist(s.metric, q.v, s.vec(id))
}

// prefetch asks the CPU to start loading the vector (or code) that
// nodeDist will read for id, so memory latency overlaps the current
// distance computation.
func (s *state) prefetch(q *query, id uint32) {
	if q.qq != nil {
		prefetchLines(unsafe.Pointer(&s.code(id)[0]), (s.dims+63)/64)
		return
	}
	prefetchLines(unsafe.Pointer(&s.vec(id)[0]), (s.dims*4+63)/64)
}

// greedy walks layer level from cur towards q and returns the closest node.
func (s *state) greedy(sc *scratch, q *query, cur cand, level int) cand {
	for changed := true; changed; {
		changed = false
		sc.nbuf = neighbours(s.list(cur.id, level), sc.nbuf)
		for _, nb := range sc.nbuf {
			s.prefetch(q, nb) // all loads in flight at once, as in searchLayer
		}
		for _, nb := range sc.nbuf {
			if d := s.nodeDist(q, nb); d < cur.d {
				cur = cand{d: d, id: nb}
				changed = true
			}
		}
	}
	return cur
}

// searchLayer is the beam search: it leaves in sc.res the (at most) ef
// closest nodes admitted by adm, reached from the entry candidates in sc.res
// on entry. Nodes not admitted are still expanded, so filtered and deleted
// nodes route the search without being returned.
func (s *state) searchLayer(sc *scratch, q *query, entries []cand, ef, level int, adm *admit) {
	sc.cands = sc.cands[:0]
	sc.res = sc.res[:0]
	for _, e := range entries {
		if !sc.visit(e.id) {
			continue
		}
		sc.cands.push(e)
		if adm.ok(e.id) {
			sc.res.push(e)
		}
	}
	for len(sc.cands) > 0 {
		c := sc.cands.pop()
		if len(sc.res) >= ef && c.d > sc.res[0].d {
			break
		}
		if len(sc.cands) > 0 {
			// the next candidate is usually the heap's new top: start
			// loading its list while this one's neighbours are scored
			nl := s.list(sc.cands[0].id, level)
			prefetchLines(unsafe.Pointer(&nl[0]), (len(nl)*4+63)/64)
		}
		sc.nbuf = neighbours(s.list(c.id, level), sc.nbuf)
		fresh := sc.nbuf[:0]
		for _, nb := range sc.nbuf {
			if sc.visit(nb) {
				fresh = append(fresh, nb)
			}
		}
		// start loading every fresh neighbour's vector before scoring any:
		// the loads overlap each other instead of one or two at a time
		// (a window of two loads ahead took 19% longer at 100k x 384, ef 48)
		for _, nb := range fresh {
			s.prefetch(q, nb)
		}
		for _, nb := range fresh {
			d := s.nodeDist(q, nb)
			if len(sc.res) < ef || d < sc.res[0].d {
				sc.cands.push(cand{d: d, id: nb})
				if adm.ok(nb) {
					sc.res.pushBounded(cand{d: d, id: nb}, ef)
				}
			}
		}
	}
}

// selectHeuristic keeps at most m of cs (sorted closest first): a
// candidate is kept only if it is closer to the base than to every
// candidate already kept (Algorithm 4), which keeps links spread out.
//
// Under the dot metric -a.b is no distance (a node is not its own nearest
// neighbour), so the diversity test uses Euclidean geometry there while
// candidates stay ordered by dot product.
func (s *state) selectHeuristic(base []float32, cs []cand, m int, out []cand) []cand {
	out = out[:0]
	dm := s.metric
	if dm == data.Dot {
		dm = data.L2
	}
	for _, c := range cs {
		if len(out) >= m {
			break
		}
		good := true
		cv := s.vec(c.id)
		cd := c.d
		if dm != s.metric {
			cd = dist(dm, cv, base)
		}
		for _, r := range out {
			if dist(dm, cv, s.vec(r.id)) < cd {
				good = false
				break
			}
		}
		if good {
			out = append(out, c)
		}
	}
	return out
}

func sortCands(cs []cand) {
	slices.SortFunc(cs, func(a, b cand) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return int(a.id) - int(b.id)
	})
}

// link inserts node id (already stored, level set) into the graph.
// Several goroutines may link different nodes at once.
func (s *state) link(id uint32, efc int) {
	level := int(s.levels[id])
	s.epMu.Lock()
	ep, top := s.ep, s.topLevel
	if top < 0 {
		s.ep, s.topLevel = id, level
		s.epMu.Unlock()
		return
	}
	s.epMu.Unlock()

	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	q := &query{v: s.vec(id)}
	cur := cand{d: s.nodeDist(q, ep), id: ep}
	for l := top; l > level; l-- {
		cur = s.greedy(sc, q, cur, l)
	}
	entries := []cand{cur}
	var sel []cand
	for l := min(level, top); l >= 0; l-- {
		sc.begin(s.n)
		s.searchLayer(sc, q, entries, efc, l, nil)
		found := sc.res.sorted()
		// drop self (possible when a concurrent link already reached us)
		found = slices.DeleteFunc(found, func(c cand) bool { return c.id == id })
		sel = s.selectHeuristic(q.v, found, s.m, sel)
		ids := s.mergeOwn(id, l, q.v, sel)
		for _, nb := range ids {
			s.addLink(sc, nb, id, l)
		}
		if len(found) > 0 {
			entries = found
		}
	}
	if level > top {
		s.epMu.Lock()
		if level > s.topLevel {
			s.ep, s.topLevel = id, level
		}
		s.epMu.Unlock()
	}
}

// addLink adds a back link from node to nb on a layer, pruning node's list
// with the heuristic when it is full.
func (s *state) addLink(sc *scratch, node, nb uint32, level int) {
	mmax := s.m
	if level == 0 {
		mmax = s.m0
	}
	mu := s.lock(node)
	mu.Lock()
	defer mu.Unlock()
	cur := neighbours(s.list(node, level), nil)
	if slices.Contains(cur, nb) {
		return
	}
	if len(cur) < mmax {
		s.setLinks(node, level, cur, append(slices.Clone(cur), nb))
		return
	}
	base := s.vec(node)
	cs := sc.sel[:0]
	cs = append(cs, cand{d: dist(s.metric, base, s.vec(nb)), id: nb})
	for _, c := range cur {
		cs = append(cs, cand{d: dist(s.metric, base, s.vec(c)), id: c})
	}
	sortCands(cs)
	keep := s.selectHeuristic(base, cs, mmax, nil)
	ids := make([]uint32, len(keep))
	for i, c := range keep {
		ids[i] = c.id
	}
	s.setLinks(node, level, cur, ids)
	sc.sel = cs
}

// mergeOwn stores node id's selected neighbours on a layer and returns
// the list written. Nodes linked concurrently may already have added
// themselves to this list (having reached id through its upper layers):
// they are merged in, not overwritten, pruning with the heuristic only
// when the union exceeds the layer's maximum.
func (s *state) mergeOwn(id uint32, level int, base []float32, sel []cand) []uint32 {
	mmax := s.m
	if level == 0 {
		mmax = s.m0
	}
	mu := s.lock(id)
	mu.Lock()
	defer mu.Unlock()
	old := neighbours(s.list(id, level), nil)
	cs := slices.Clone(sel)
	for _, x := range old {
		if !slices.ContainsFunc(cs, func(c cand) bool { return c.id == x }) {
			cs = append(cs, cand{d: dist(s.metric, base, s.vec(x)), id: x})
		}
	}
	if len(cs) > mmax {
		sortCands(cs)
		cs = s.selectHeuristic(base, cs, mmax, nil)
	}
	ids := make([]uint32, len(cs))
	for i, c := range cs {
		ids[i] = c.id
	}
	s.setLinks(id, level, old, ids)
	return ids
}
