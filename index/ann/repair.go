package ann

import (
	"slices"
	"sync/atomic"
)

// This file keeps every node reachable on layer 0. A node that no other
// node links to on layer 0 can never be returned by a search (the beam
// only follows links), and two things used to cause that:
//
//   - a node linking itself could overwrite, with its own selection, the
//     back links that concurrent linkers had already added to its list;
//   - the heuristic prune of a full list can drop the last link to a node.
//
// link merges instead of overwriting, every layer-0 list change goes
// through setLinks, which keeps an in-degree count per node and notes
// nodes whose count falls to zero, and linkAll ends with repair, which
// links each such node from its nearest neighbours. Load recomputes the
// counts and repairs files written before this existed.

// setLinks replaces node's list on a layer, old being its current content
// (caller holds the node lock), and keeps the layer-0 in-degrees.
func (s *state) setLinks(node uint32, level int, old, ids []uint32) {
	if level == 0 {
		for _, x := range ids {
			if !slices.Contains(old, x) {
				atomic.AddInt32(&s.indeg[x], 1)
			}
		}
		for _, x := range old {
			if !slices.Contains(ids, x) && atomic.AddInt32(&s.indeg[x], -1) == 0 {
				s.orphMu.Lock()
				s.orphans = append(s.orphans, x)
				s.orphMu.Unlock()
			}
		}
	}
	setList(s.list(node, level), ids)
}

// countInDegrees recomputes the layer-0 in-degrees from the lists (after
// Load; no linker runs).
func (s *state) countInDegrees() {
	s.indeg = make([]int32, s.n, max(s.n, cap(s.ids)))
	for i := 0; i < s.n; i++ {
		for _, nb := range neighbours(s.list(uint32(i), 0), nil) {
			s.indeg[nb]++
		}
	}
}

// repairAll relinks every live node without a layer-0 in-link.
func (s *state) repairAll(efc int) int {
	var cands []uint32
	for i, d := range s.indeg {
		if d == 0 {
			cands = append(cands, uint32(i))
		}
	}
	return s.repair(cands, efc)
}

// repair links every live node among cands, and every node noted by
// setLinks, that has no layer-0 in-link. No linker may run meanwhile;
// searches may. It returns how many nodes it reattached.
func (s *state) repair(cands []uint32, efc int) int {
	if !s.graph || s.n < 2 {
		return 0
	}
	s.orphMu.Lock()
	cands = append(slices.Clone(cands), s.orphans...)
	s.orphans = s.orphans[:0]
	s.orphMu.Unlock()
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	fixed := 0
	for _, x := range cands {
		if atomic.LoadInt32(&s.indeg[x]) > 0 || s.isDeleted(x) {
			continue
		}
		if s.reattach(sc, x, efc) {
			fixed++
		}
	}
	return fixed
}

// reattach makes one of x's nearest nodes link to x on layer 0: first
// x's own layer-0 neighbours, closest first, else the result of a search
// for x's vector.
func (s *state) reattach(sc *scratch, x uint32, efc int) bool {
	base := s.vec(x)
	nbs := neighbours(s.list(x, 0), nil)
	cs := make([]cand, 0, len(nbs))
	for _, nb := range nbs {
		cs = append(cs, cand{d: dist(s.metric, base, s.vec(nb)), id: nb})
	}
	sortCands(cs)
	if s.attachTo(x, cs) {
		return true
	}
	ep, top := s.entry()
	if top < 0 {
		return false
	}
	q := &query{v: base}
	cur := cand{d: s.nodeDist(q, ep), id: ep}
	for l := top; l > 0; l-- {
		cur = s.greedy(sc, q, cur, l)
	}
	sc.begin(s.n)
	s.searchLayer(sc, q, []cand{cur}, efc, 0, nil)
	return s.attachTo(x, sc.res.sorted())
}

// attachTo adds x to the layer-0 list of the first node of cs that can
// take it: one with room, or one with a neighbour that another node also
// links to (the farthest such neighbour gives way, so no node loses its
// last in-link).
func (s *state) attachTo(x uint32, cs []cand) bool {
	for _, c := range cs {
		if c.id == x {
			continue
		}
		mu := s.lock(c.id)
		mu.Lock()
		cur := neighbours(s.list(c.id, 0), nil)
		switch {
		case slices.Contains(cur, x):
			mu.Unlock()
			return true
		case len(cur) < s.m0:
			s.setLinks(c.id, 0, cur, append(slices.Clone(cur), x))
			mu.Unlock()
			return true
		}
		cv := s.vec(c.id)
		worst, wd := -1, float32(0)
		for i, y := range cur {
			if atomic.LoadInt32(&s.indeg[y]) < 2 {
				continue
			}
			if d := dist(s.metric, cv, s.vec(y)); worst < 0 || d > wd {
				worst, wd = i, d
			}
		}
		if worst >= 0 {
			ids := slices.Clone(cur)
			ids[worst] = x
			s.setLinks(c.id, 0, cur, ids)
			mu.Unlock()
			return true
		}
		mu.Unlock()
	}
	return false
}
