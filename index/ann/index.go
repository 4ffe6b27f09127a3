package ann

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/ragd/ragd/data"
)

// batchChunk is how many items one Upsert step stores and links before it
// checks its context again.
const batchChunk = 1024

// Index is an HNSW vector index with string ids, namespaces, metadata
// filters, tombstone deletes, optional int8 traversal and an exact scan
// for small indexes and selective filters. All methods are safe for
// concurrent use: searches run while a batch is inserted; writers (Upsert,
// Delete, Compact) are serialised, and one Upsert batch is linked by
// Config.Workers goroutines.
type Index struct {
	cfg Config

	wmu sync.Mutex   // serialises writers
	mu  sync.RWMutex // write-locked only while slabs grow or state is swapped
	s   *state

	listMu sync.Mutex
	sorted []string // sorted live ids for List; nil after a change
}

// New returns an empty HNSW index.
func New(cfg Config) (*Index, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Index{cfg: c, s: newState(&c)}, nil
}

// Config returns the configuration with defaults filled in.
func (ix *Index) Config() Config { return ix.cfg }

// Len returns the number of live vectors.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.s.live()
}

// Upsert validates the whole batch, then inserts every item; an item whose
// ID exists replaces the old vector, namespace and metadata. The context
// is checked between steps of 1,024 items: a cancelled batch returns the
// context's error with the earlier steps applied.
func (ix *Index) Upsert(ctx context.Context, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	if err := validateBatch(&ix.cfg, items); err != nil {
		return err
	}
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	for start := 0; start < len(items); start += batchChunk {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ann upsert: stopped after %d of %d items: %w", start, len(items), err)
		}
		chunk := items[start:min(start+batchChunk, len(items))]
		ix.mu.Lock()
		ix.sorted = nil
		s := ix.s
		nodes := s.store(chunk)
		ix.mu.Unlock()
		s.linkAll(nodes, ix.cfg.EfConstruction, ix.cfg.Workers)
	}
	return ix.maybeCompact(ctx)
}

// store adds a chunk of items as unlinked nodes (caller holds the write lock).
func (s *state) store(items []Item) []uint32 {
	s.grow(len(items))
	nodes := make([]uint32, len(items))
	for i := range items {
		lvl := 0
		if s.graph {
			lvl = s.randomLevel()
		}
		nodes[i] = s.add(&items[i], lvl)
	}
	return nodes
}

// linkAll links nodes into the graph with up to workers goroutines.
func (s *state) linkAll(nodes []uint32, efc, workers int) {
	if !s.graph {
		return
	}
	// link the first node alone so the others find an entry point
	i0 := 0
	if _, top := s.entry(); top < 0 && len(nodes) > 0 {
		s.link(nodes[0], efc)
		i0 = 1
	}
	rest := nodes[i0:]
	if workers <= 1 || len(rest) < 2*workers {
		for _, id := range rest {
			s.link(id, efc)
		}
		s.repair(nodes, efc)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(rest) {
					return
				}
				s.link(rest[i], efc)
			}
		})
	}
	wg.Wait()
	s.repair(nodes, efc)
}

// Delete removes the vectors with these ids and returns how many existed.
// Deleted nodes stay in the graph as routes until the next compaction.
func (ix *Index) Delete(ctx context.Context, ids []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	ix.mu.Lock()
	n := 0
	for _, id := range ids {
		if node, ok := ix.s.byID[id]; ok {
			ix.s.tombstone(node)
			n++
		}
	}
	if n > 0 {
		ix.sorted = nil
	}
	ix.mu.Unlock()
	return n, ix.maybeCompact(ctx)
}

// maybeCompact rebuilds the graph when tombstones exceed CompactRatio
// (caller holds wmu).
func (ix *Index) maybeCompact(ctx context.Context) error {
	s := ix.s
	if ix.cfg.CompactRatio < 0 || s.n < 64 || float64(s.deleted) <= ix.cfg.CompactRatio*float64(s.n) {
		return nil
	}
	return ix.compactLocked(ctx)
}

// Compact rebuilds the graph from the live vectors, dropping tombstones.
// Searches keep using the old graph until the new one is swapped in.
func (ix *Index) Compact(ctx context.Context) error {
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	return ix.compactLocked(ctx)
}

func (ix *Index) compactLocked(ctx context.Context) error {
	old := ix.s
	ns := newState(&ix.cfg)
	ns.graph = old.graph
	items := make([]Item, 0, min(old.live(), batchChunk))
	flush := func() error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ann compact: %w", err)
		}
		nodes := ns.store(items)
		ns.linkAll(nodes, ix.cfg.EfConstruction, ix.cfg.Workers)
		items = items[:0]
		return nil
	}
	for id := uint32(0); int(id) < old.n; id++ {
		if old.isDeleted(id) {
			continue
		}
		items = append(items, Item{ID: old.ids[id], Vector: old.vec(id), Namespace: old.nsNames[old.nsOf[id]], Metadata: old.meta[id]})
		if len(items) == batchChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(items) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	ix.mu.Lock()
	ix.s = ns
	ix.sorted = nil
	ix.mu.Unlock()
	ix.cfg.Logger.Info("ann: compacted", "live", ns.n, "dropped", old.n-ns.n)
	return nil
}

// Get returns the item stored under id. Cosine vectors come back
// normalised.
func (ix *Index) Get(id string) (Item, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := ix.s
	node, ok := s.byID[id]
	if !ok {
		return Item{}, false
	}
	it := Item{ID: id, Vector: slices.Clone(s.vec(node)), Namespace: s.nsNames[s.nsOf[node]]}
	if m := s.meta[node]; m != nil {
		it.Metadata = make(map[string]any, len(m))
		for k, v := range m {
			it.Metadata[k] = v
		}
	}
	return it, true
}

// List returns up to limit live ids in ascending order, starting after
// the cursor after ("" = from the start), and the cursor of the next page
// ("" when there is none).
func (ix *Index) List(after string, limit int) (ids []string, next string) {
	if limit <= 0 {
		return nil, ""
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.listMu.Lock()
	defer ix.listMu.Unlock()
	if ix.sorted == nil {
		ix.sorted = make([]string, 0, len(ix.s.byID))
		for id := range ix.s.byID {
			ix.sorted = append(ix.sorted, id)
		}
		sort.Strings(ix.sorted)
	}
	i := sort.SearchStrings(ix.sorted, after)
	if i < len(ix.sorted) && ix.sorted[i] == after {
		i++
	}
	end := min(i+limit, len(ix.sorted))
	ids = slices.Clone(ix.sorted[i:end])
	if end < len(ix.sorted) && len(ids) > 0 {
		next = ids[len(ids)-1]
	}
	return ids, next
}

// Stats describes the index.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := ix.s
	vb, gb := s.bytes()
	_, top := s.entry()
	return Stats{
		Dims: s.dims, Metric: s.metric, Live: s.live(), Nodes: s.n, Deleted: s.deleted,
		MaxLevel: max(top, 0), Quantized: s.quant, Graph: s.graph, VectorBytes: vb, GraphBytes: gb,
		MappedBytes: s.vecs.mappedBytes(),
	}
}

// Search returns the K nearest live vectors to q that pass the namespace
// and filter, best first. It scans exactly when asked, when the index is
// smaller than Config.ExactBelow, or when the filter is estimated to keep
// fewer than max(ExactBelow, 1/8 of the nodes): an exact scan of the
// candidates then costs less than a filtered graph search. Otherwise it searches the
// graph, expanding filtered-out nodes without returning them.
func (ix *Index) Search(ctx context.Context, q []float32, opts SearchOptions) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := opts.K
	if k == 0 {
		k = DefaultK
	}
	if k < 0 || k > MaxK || opts.Ef < 0 || opts.Ef > MaxK {
		return nil, fmt.Errorf("ann search: k %d / ef %d out of range 1..%d: %w", opts.K, opts.Ef, MaxK, data.ErrInvalid)
	}
	if err := opts.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("ann search: %w", err)
	}
	if err := validateVector(&ix.cfg, q); err != nil {
		return nil, fmt.Errorf("ann search: %w", err)
	}
	qb := queryPool.Get().(*[]float32)
	defer queryPool.Put(qb)
	qv := append((*qb)[:0], q...)
	*qb = qv
	if ix.cfg.Metric == data.Cosine {
		normalize(qv)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	s := ix.s
	a := &admit{s: s, anyNS: opts.Namespace == "", filter: opts.Filter}
	if !a.anyNS {
		ns, ok := s.nsByName[opts.Namespace]
		if !ok {
			return []Result{}, nil
		}
		a.ns = ns
	}
	exact := opts.Exact || !s.graph || s.live() < ix.cfg.ExactBelow
	var lists [][]uint32
	narrowed := false
	if !a.anyNS || len(a.filter.Conds) > 0 {
		var size int
		lists, size, narrowed = s.candidates(a)
		if !exact {
			exact = s.estimate(a, lists, size, narrowed) < max(ix.cfg.ExactBelow, s.n/8)
		}
	}
	var cs []cand
	if !exact {
		ef := opts.Ef
		if ef == 0 {
			ef = ix.cfg.EfSearch
		}
		var bits []uint64
		if narrowed {
			bits = bitmap(s.n, lists, nil)
		}
		a.bits = bits
		cs = s.searchGraph(qv, k, max(ef, k), a)
		a.bits = nil
		if len(cs) < k && s.live() > len(cs) {
			exact = true // a filter kept too few nodes on the beam
		}
	}
	if exact {
		cs = s.scanExact(qv, k, a, lists, narrowed)
	}
	out := make([]Result, len(cs))
	for i, c := range cs {
		d := c.d
		if s.metric == data.L2 {
			d = l2Exact(qv, s.vec(c.id))
		}
		out[i] = Result{ID: s.ids[c.id], Score: score(s.metric, d)}
	}
	return out, nil
}

// queryPool recycles the normalised copies of query vectors: a fresh
// allocation per query is cold in the cache and showed up as 7% of a
// 100k-vector search.
var queryPool = sync.Pool{New: func() any { return new([]float32) }}

// searchGraph descends the graph and returns up to k admitted nodes.
func (s *state) searchGraph(qv []float32, k, ef int, a *admit) []cand {
	ep, top := s.entry()
	if top < 0 {
		return nil
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	q := &query{v: qv}
	if s.quant {
		qq := &qquery{code: make([]int8, len(qv))}
		qq.scale = quantize(qq.code, qv)
		for _, x := range qv {
			qq.sqn += x * x
		}
		q.qq = qq
	}
	cur := cand{d: s.nodeDist(q, ep), id: ep}
	for l := top; l > 0; l-- {
		cur = s.greedy(sc, q, cur, l)
	}
	sc.begin(s.n)
	entry := [1]cand{cur}
	s.searchLayer(sc, q, entry[:], ef, 0, a)
	res := sc.res.sorted()
	if s.quant {
		for i := range res {
			res[i].d = dist(s.metric, qv, s.vec(res[i].id))
		}
		sortCands(res)
	}
	if len(res) > k {
		res = res[:k]
	}
	return res
}

// scanExact compares q with every admitted node, reading only the
// namespace/posting lists when they narrow the search.
func (s *state) scanExact(qv []float32, k int, a *admit, lists [][]uint32, narrowed bool) []cand {
	var h maxHeap = make([]cand, 0, k+1)
	if !narrowed {
		for id := uint32(0); int(id) < s.n; id++ {
			if a.ok(id) {
				h.pushBounded(cand{d: dist(s.metric, qv, s.vec(id)), id: id}, k)
			}
		}
		return h.sorted()
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.begin(s.n)
	for _, l := range lists {
		for _, id := range l {
			if sc.visit(id) && a.ok(id) {
				h.pushBounded(cand{d: dist(s.metric, qv, s.vec(id)), id: id}, k)
			}
		}
	}
	return h.sorted()
}
