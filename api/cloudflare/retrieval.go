package cloudflare

import (
	"context"
	"fmt"

	"github.com/ragd/ragd/aisearch"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/ingest"
)

// engineRetrieval is AI Search's retrieval over the engine, the models and
// the generator of Config. It is temporary: the retrieval service (package
// rag) takes its place.
type engineRetrieval struct{ h *handler }

func (h *handler) retrieval() aisearch.Retrieval { return engineRetrieval{h} }

// embedder returns the embedder of index's model (nil for keyword-only
// indexes).
func (r engineRetrieval) embedder(ctx context.Context, index string) (embed.Embedder, error) {
	info, err := r.h.cfg.Engine.Index(ctx, index)
	if err != nil || info.Model == "" {
		return nil, err
	}
	if r.h.cfg.Models == nil {
		return nil, fmt.Errorf("embedding model %q: no models configured: %w", info.Model, data.ErrUnavailable)
	}
	return r.h.cfg.Models.Embedder(ctx, info.Model)
}

// Ingest chunks, embeds and writes docs with the index's model.
func (r engineRetrieval) Ingest(ctx context.Context, index string, docs []data.Document, opts aisearch.IngestOptions) (aisearch.IngestResult, error) {
	emb, err := r.embedder(ctx, index)
	if err != nil {
		return aisearch.IngestResult{}, err
	}
	sum, err := ingest.Documents(ctx, r.h.cfg.Engine, docs, ingest.Config{Index: index, Force: opts.Force, Embedder: emb,
		Cache: api.EmbeddingCache(r.h.cfg.Engine), Logger: r.h.log, Chunk: ingest.ChunkOptions{Size: opts.ChunkSize, Overlap: opts.ChunkOverlap}})
	if err != nil {
		return aisearch.IngestResult{}, err
	}
	return aisearch.IngestResult{Chunks: sum.Chunks, Skipped: sum.Skipped}, nil
}

// Search embeds the query with the index's model, so vector search does
// not depend on the engine's own query embedder, and runs it.
func (r engineRetrieval) Search(ctx context.Context, index string, q data.Query) ([]data.Hit, error) {
	if q.Mode != data.ModeBM25 && q.Vector == nil && r.h.cfg.Models != nil {
		emb, err := r.embedder(ctx, index)
		if err != nil {
			return nil, err
		}
		if emb != nil {
			vecs, err := emb.Embed(ctx, embed.Query, []string{q.Text})
			if err != nil {
				return nil, err
			}
			if len(vecs) != 1 {
				return nil, fmt.Errorf("embedder returned %d vectors for 1 text", len(vecs))
			}
			q.Vector = vecs[0]
		}
	}
	return r.h.cfg.Engine.Search(ctx, index, q)
}

// Answer generates the grounded answer with the configured generator.
func (r engineRetrieval) Answer(ctx context.Context, question string, hits []data.Hit, opts generate.AnswerOptions, emit func(generate.AnswerEvent) error) (*generate.AnswerResult, error) {
	if r.h.cfg.Generator == nil {
		return nil, fmt.Errorf("no text generator configured: %w", data.ErrUnavailable)
	}
	return generate.Answer(ctx, r.h.cfg.Generator, question, hits, opts, emit)
}
