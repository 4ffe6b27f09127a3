package index

import (
	"context"
	"fmt"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index/ann"
)

// Search defaults.
const (
	DefaultTopK  = 10
	DefaultAlpha = 0.5
)

// Search runs a query against a named index: BM25, vector (the query's
// vector), or hybrid (both, over-fetched, then fused by RRF or convex
// combination). Hits carry
// chunk text, document title/source/metadata and, when asked, an
// explanation of their scores.
func (e *Engine) Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error) {
	n, err := e.get(name)
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	cfg := n.cfg
	n.mu.RUnlock()
	if err := e.normalizeQuery(&q, cfg); err != nil {
		return nil, err
	}
	if _, err := CheckRetrieval(cfg, q); err != nil {
		return nil, err
	}
	filter := q.Filter
	if q.Namespace != "" {
		filter.Conds = append(append([]data.Cond(nil), filter.Conds...), data.Cond{Field: "namespace", Op: data.OpEq, Value: q.Namespace})
	}
	fetch := q.TopK
	if q.Mode == data.ModeHybrid {
		fetch = max(q.TopK*4, 50)
	}
	var bm, vec []ranked
	if q.Mode == data.ModeBM25 || q.Mode == data.ModeHybrid {
		n.mu.RLock()
		hits, err := n.kw.search(ctx, q.Text, fetch, filter)
		n.mu.RUnlock()
		if err != nil {
			return nil, err
		}
		bm = make([]ranked, len(hits))
		for i, h := range hits {
			bm[i] = ranked(h)
		}
	}
	if q.Mode == data.ModeVector || q.Mode == data.ModeHybrid {
		vec, err = e.vectorSearch(ctx, n, cfg, q, fetch)
		if err != nil {
			return nil, err
		}
	}
	var fusedList []fused
	switch q.Mode {
	case data.ModeBM25:
		fusedList = single(bm, false)
	case data.ModeVector:
		fusedList = single(vec, true)
	default:
		if q.Fusion == data.FusionConvex {
			fusedList = fuseConvex(bm, vec, q.Alpha)
		} else {
			fusedList = fuseRRF(bm, vec, q.RRFK)
		}
	}
	keep := min(len(fusedList), q.TopK)
	hits, err := e.hydrate(name, fusedList[:keep], q.Explain)
	if err != nil {
		return nil, err
	}
	return FinishHits(hits, q), nil
}

func (e *Engine) normalizeQuery(q *data.Query, cfg data.IndexConfig) error {
	return NormalizeQuery(q, cfg, false, e.opts.MaxTopK)
}

func (e *Engine) vectorSearch(ctx context.Context, n *named, cfg data.IndexConfig, q data.Query, k int) ([]ranked, error) {
	if n.vec == nil {
		return nil, fmt.Errorf("index %q has no vectors yet: %w", n.name, data.ErrUnsupported)
	}
	vec, err := CheckRetrieval(cfg, q)
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	ef := q.Ef
	if ef == 0 {
		ef = e.opts.Vector.EfSearch // 0: the index's own default
	}
	res, err := n.vec.ix.Search(ctx, vec, ann.SearchOptions{K: k, Ef: ef, Filter: q.Filter, Namespace: q.Namespace})
	n.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	out := make([]ranked, len(res))
	for i, r := range res {
		out[i] = ranked{ID: r.ID, Score: float64(r.Score)}
	}
	return out, nil
}

// hydrate turns fused ids into hits with chunk text and document fields.
func (e *Engine) hydrate(name string, fl []fused, explain bool) ([]data.Hit, error) {
	ids := make([]string, len(fl))
	for i, f := range fl {
		ids[i] = f.ID
	}
	views, err := e.store.chunks(name, ids, false)
	if err != nil {
		return nil, err
	}
	hits := make([]data.Hit, 0, len(fl))
	for _, f := range fl {
		v, ok := views[f.ID]
		if !ok {
			continue // deleted between retrieval and hydration
		}
		h := data.Hit{DocID: v.Chunk.DocID, ChunkID: f.ID, Score: f.Score, Source: v.Source, Title: v.Title,
			Text: v.Chunk.Text, Start: v.Chunk.Start, End: v.Chunk.End, Headings: v.Chunk.Headings, Metadata: v.Metadata}
		if explain {
			ex := f.Explain
			h.Explain = &ex
		}
		hits = append(hits, h)
	}
	return hits, nil
}
