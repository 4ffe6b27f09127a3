package rag

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/ingest"
)

// Models resolves embedding model names to embedders (embed/registry's
// Registry is one).
type Models interface {
	Embedder(ctx context.Context, name string) (embed.Embedder, error)
}

// QueryEmbedder embeds one query text with a model, typically through a
// cache (embed/registry's Registry is one). Optional: without it the
// service embeds queries with Models directly.
type QueryEmbedder interface {
	EmbedQuery(ctx context.Context, model, text string) ([]float32, error)
}

// Reranker re-scores passages for a query (a cross-encoder).
type Reranker interface {
	Rerank(ctx context.Context, query string, passages []string) ([]float32, error)
}

// Scheduler runs CPU-bound work with a weight (1 = one ordinary search);
// a nil Scheduler runs work inline. rag/sched implements one.
type Scheduler interface {
	Do(ctx context.Context, weight int, fn func(context.Context) error) error
}

// Config configures a Service. Backend is required; the rest is optional.
type Config struct {
	// Backend stores and retrieves (index.Engine or index/weaviate).
	Backend index.Backend
	// Models resolves each index's embedding model (nil: keyword only;
	// writes and queries that need a model fail with data.ErrUnavailable).
	Models Models
	// Reranker serves Query.Rerank (nil: a rerank request is
	// data.ErrUnavailable).
	Reranker Reranker
	// Generator answers Ask (nil: Ask is data.ErrUnavailable).
	Generator generate.Generator
	// Cache is the embedding cache for ingest. Nil: the backend's own
	// (index.VectorCacher), when it has one.
	Cache ingest.VectorCache
	// NoCache turns the embedding cache off (for embedders cheaper than
	// a cache lookup, such as benchmarks' synthetic vectors).
	NoCache bool
	// Scheduler runs Search's CPU work (nil: inline).
	Scheduler Scheduler
	// MaxTopK caps Query.TopK (default 1000).
	MaxTopK int
	// Logger receives operational messages (default: discard).
	Logger *slog.Logger
}

// Service is the retrieval service. It is safe for concurrent use.
type Service struct {
	cfg Config
	b   index.Backend
	log *slog.Logger
}

// New returns a Service over cfg.Backend.
func New(cfg Config) (*Service, error) {
	if cfg.Backend == nil {
		return nil, fmt.Errorf("rag: %w: no backend", data.ErrInvalid)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxTopK <= 0 {
		cfg.MaxTopK = 1000
	}
	if cfg.NoCache {
		cfg.Cache = nil
	} else if cfg.Cache == nil {
		if vc, ok := cfg.Backend.(index.VectorCacher); ok {
			cfg.Cache = vc.VectorCache()
		}
	}
	return &Service{cfg: cfg, b: cfg.Backend, log: cfg.Logger}, nil
}

// Backend is the storage backend the service runs on (for front ends'
// plain storage calls: list, get, delete).
func (s *Service) Backend() index.Backend { return s.b }

// Generator is the configured generator (nil when none).
func (s *Service) Generator() generate.Generator { return s.cfg.Generator }

// Cache is the embedding cache ingest uses (nil when none).
func (s *Service) Cache() ingest.VectorCache { return s.cfg.Cache }

// embedder returns an index's embedder (nil for a keyword-only index).
func (s *Service) embedder(ctx context.Context, cfg data.IndexConfig) (embed.Embedder, error) {
	if cfg.Model == "" || cfg.Model == "none" {
		return nil, nil
	}
	if s.cfg.Models == nil {
		return nil, fmt.Errorf("index %q uses model %q: no embedding models configured: %w", cfg.Name, cfg.Model, data.ErrUnavailable)
	}
	return s.cfg.Models.Embedder(ctx, cfg.Model)
}

// CreateIndex creates an index. A named model (cfg.Model other than "" or
// "none") is resolved to learn its dimensions; dims given with it must
// match. Without a model, cfg.Dims (or the first vector written) fixes the
// vector length: a bring-your-own-vectors index.
func (s *Service) CreateIndex(ctx context.Context, cfg data.IndexConfig) (index.IndexInfo, error) {
	if cfg.Model == "none" {
		cfg.Model = ""
	}
	if cfg.Model != "" {
		emb, err := s.embedder(ctx, cfg)
		if err != nil {
			return index.IndexInfo{}, err
		}
		d := emb.Info().Dims
		if cfg.Dims != 0 && cfg.Dims != d {
			return index.IndexInfo{}, fmt.Errorf("%w: model %q has %d dimensions, request says %d", data.ErrDimension, cfg.Model, d, cfg.Dims)
		}
		cfg.Dims = d
		if cfg.Metric == "" {
			cfg.Metric = data.Cosine
		}
	}
	created, err := s.b.CreateIndex(ctx, cfg)
	if err != nil {
		return index.IndexInfo{}, err
	}
	return s.b.Index(ctx, created.Name)
}

// config reads an index's configuration.
func (s *Service) config(ctx context.Context, name string) (data.IndexConfig, error) {
	return s.b.IndexConfig(ctx, name)
}

var errNoGenerator = errors.New("no generator configured")
