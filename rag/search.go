package rag

import (
	"context"
	"fmt"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/index"
)

// Search runs one query against an index: normalize (defaults, limits,
// the model check), embed the query text with the index's model when the
// mode needs a vector and none is given, retrieve (the backend's keyword
// and vector retrieval, fused), rerank when asked, and cut to TopK.
//
// Retrieval, fusion and rerank run as one Scheduler call. The query
// embedding runs before it, outside the scheduler: it goes through the
// embedder's own bounded batcher, which coalesces concurrent queries into
// one model call; inside a slot at most Workers queries would reach it at
// once, and a slot would idle while the batcher waits for company.
func (s *Service) Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error) {
	cfg, err := s.config(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := index.NormalizeQuery(&q, cfg, s.cfg.Models != nil, s.cfg.MaxTopK); err != nil {
		return nil, err
	}
	if q.Mode != data.ModeBM25 {
		if q.Vector, err = s.queryVector(ctx, cfg, q); err != nil {
			return nil, err
		}
	}
	var hits []data.Hit
	err = s.do(ctx, s.weight(q), func(ctx context.Context) error {
		var err error
		hits, err = s.search(ctx, name, q)
		return err
	})
	return hits, err
}

// weight is a query's scheduler weight: 1, or more for large candidate
// sets (rerank over-fetches; large TopK reads more).
func (s *Service) weight(q data.Query) int {
	w := 1
	if q.TopK > 100 {
		w += q.TopK / 100
	}
	if q.Rerank {
		w++
	}
	return w
}

// search retrieves, fuses and reranks a normalized query whose vector (if
// its mode needs one) is set.
func (s *Service) search(ctx context.Context, name string, q data.Query) ([]data.Hit, error) {
	hits, err := s.retrieve(ctx, name, q)
	if err != nil {
		return nil, err
	}
	if q.Rerank {
		if hits, err = rerank(ctx, s.cfg.Reranker, q.Text, hits); err != nil {
			return nil, err
		}
	}
	return index.FinishHits(hits, q), nil
}

// retrieve runs keyword and/or vector retrieval and fuses the results
// (over-fetching when hybrid or reranking), or, on a backend without
// index.Retriever, the backend's own hybrid search.
func (s *Service) retrieve(ctx context.Context, name string, q data.Query) ([]data.Hit, error) {
	r, ok := s.b.(index.Retriever)
	if !ok {
		bq := q
		bq.Rerank = false
		if q.Rerank {
			bq.TopK = min(index.FetchK(q), s.cfg.MaxTopK)
			bq.Explain = true
		}
		return s.b.Search(ctx, name, bq)
	}
	req := index.RetrievalFor(q)
	var bm, vec []index.Ranked
	var err error
	if q.Mode == data.ModeBM25 || q.Mode == data.ModeHybrid {
		if bm, err = r.RetrieveKeyword(ctx, name, req); err != nil {
			return nil, err
		}
	}
	if q.Mode == data.ModeVector || q.Mode == data.ModeHybrid {
		if vec, err = r.RetrieveVector(ctx, name, req); err != nil {
			return nil, err
		}
	}
	fl := index.Fuse(q, bm, vec)
	if !q.Rerank {
		fl = fl[:min(len(fl), q.TopK)]
	}
	return r.Hydrate(ctx, name, fl, q.Explain || q.Rerank)
}

// queryVector is the query's vector: the one given, or its text embedded
// with the index's model; validated against the index's dims and metric.
func (s *Service) queryVector(ctx context.Context, cfg data.IndexConfig, q data.Query) ([]float32, error) {
	if cfg.Dims == 0 {
		return nil, fmt.Errorf("index %q has no vectors yet: %w", cfg.Name, data.ErrUnsupported)
	}
	vec := q.Vector
	if len(vec) == 0 {
		if s.cfg.Models == nil || cfg.Model == "" {
			return nil, fmt.Errorf("index %q: no embedding model to embed the query; pass a vector: %w", cfg.Name, data.ErrUnavailable)
		}
		var err error
		if vec, err = s.embedQuery(ctx, cfg.Model, q.Text); err != nil {
			return nil, fmt.Errorf("embed query: %w", err)
		}
	}
	if err := index.ValidateVector(vec, cfg.Dims, cfg.Metric); err != nil {
		return nil, err
	}
	return vec, nil
}

// embedQuery embeds one query text, through the models' query cache when
// they have one.
func (s *Service) embedQuery(ctx context.Context, model, text string) ([]float32, error) {
	if qe, ok := s.cfg.Models.(QueryEmbedder); ok {
		return qe.EmbedQuery(ctx, model, text)
	}
	emb, err := s.cfg.Models.Embedder(ctx, model)
	if err != nil {
		return nil, err
	}
	return embed.One(ctx, emb, embed.Query, text)
}
