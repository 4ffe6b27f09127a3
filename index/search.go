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
// combination). Hits carry chunk text, document title/source/metadata and,
// when asked, an explanation of their scores. The retrieval service runs
// the same steps itself (Retriever) so that it can rerank in between.
func (e *Engine) Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error) {
	cfg, err := e.IndexConfig(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := e.normalizeQuery(&q, cfg); err != nil {
		return nil, err
	}
	if _, err := CheckRetrieval(cfg, q); err != nil {
		return nil, err
	}
	r := RetrievalFor(q)
	var bm, vec []Ranked
	if q.Mode == data.ModeBM25 || q.Mode == data.ModeHybrid {
		if bm, err = e.RetrieveKeyword(ctx, name, r); err != nil {
			return nil, err
		}
	}
	if q.Mode == data.ModeVector || q.Mode == data.ModeHybrid {
		if vec, err = e.RetrieveVector(ctx, name, r); err != nil {
			return nil, err
		}
	}
	fl := Fuse(q, bm, vec)
	hits, err := e.Hydrate(ctx, name, fl[:min(len(fl), q.TopK)], q.Explain)
	if err != nil {
		return nil, err
	}
	return FinishHits(hits, q), nil
}

// RetrieveKeyword returns the best r.K chunks by BM25 for r.Text.
func (e *Engine) RetrieveKeyword(ctx context.Context, name string, r Retrieval) ([]Ranked, error) {
	n, err := e.get(name)
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	hits, err := n.kw.search(ctx, r.Text, r.K, r.filter())
	n.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	out := make([]Ranked, len(hits))
	for i, h := range hits {
		out[i] = Ranked(h)
	}
	return out, nil
}

// RetrieveVector returns the r.K chunks nearest r.Vector (validated
// against the index's dims and metric).
func (e *Engine) RetrieveVector(ctx context.Context, name string, r Retrieval) ([]Ranked, error) {
	n, err := e.get(name)
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	cfg := n.cfg
	n.mu.RUnlock()
	if n.vec == nil || cfg.Dims == 0 {
		return nil, fmt.Errorf("index %q has no vectors yet: %w", n.name, data.ErrUnsupported)
	}
	if err := ValidateVector(r.Vector, cfg.Dims, cfg.Metric); err != nil {
		return nil, err
	}
	return e.vectorSearch(ctx, n, r)
}

// Hydrate turns fused chunk ids into hits with chunk text and document
// fields, in order; chunks deleted since retrieval are left out.
func (e *Engine) Hydrate(ctx context.Context, name string, fl []Fused, explain bool) ([]data.Hit, error) {
	if _, err := e.get(name); err != nil {
		return nil, err
	}
	return e.hydrate(name, fl, explain)
}

func (e *Engine) normalizeQuery(q *data.Query, cfg data.IndexConfig) error {
	return NormalizeQuery(q, cfg, false, e.opts.MaxTopK)
}

func (e *Engine) vectorSearch(ctx context.Context, n *named, r Retrieval) ([]Ranked, error) {
	n.mu.RLock()
	ef := r.Ef
	if ef == 0 {
		ef = e.opts.Vector.EfSearch // 0: the index's own default
	}
	res, err := n.vec.ix.Search(ctx, r.Vector, ann.SearchOptions{K: r.K, Ef: ef, Filter: r.Filter, Namespace: r.Namespace})
	n.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	out := make([]Ranked, len(res))
	for i, x := range res {
		out[i] = Ranked{ID: x.ID, Score: float64(x.Score)}
	}
	return out, nil
}

// hydrate turns fused ids into hits with chunk text and document fields.
func (e *Engine) hydrate(name string, fl []Fused, explain bool) ([]data.Hit, error) {
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
