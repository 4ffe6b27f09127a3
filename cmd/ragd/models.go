package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/registry"
)

// modelPool is the model registry: each model is loaded once and shared by
// the API, ingest, search and eval.
type modelPool = registry.Registry

// modelInfo is one row of `ragd models list`.
type modelInfo = registry.Info

// modelsDir is where pulled models live: --models-dir, else DATA_DIR/models.
func (c Config) modelsDir() string {
	if c.ModelsDir != "" {
		return c.ModelsDir
	}
	return filepath.Join(c.DataDir, "models")
}

// newModelPool makes the model registry from the configuration.
func newModelPool(cfg Config, log *slog.Logger) *modelPool {
	return registry.New(registry.Config{
		ModelsDir: cfg.modelsDir(), NodeDir: cfg.NodeDir, EmbedURL: cfg.EmbedURL, EmbedKey: cfg.EmbedKey,
		Threads: cfg.Threads, NoBatching: cfg.NoBatching, BatchMax: cfg.BatchMax, BatchWait: cfg.BatchWait,
		BatchLinger: cfg.BatchLinger, Reranker: cfg.Reranker, Logger: log,
	})
}

// noModel reports whether name means "keyword only".
func noModel(name string) bool { return registry.NoModel(name) }

// poolAdapter exposes the model registry to the API.
type poolAdapter struct{ p *modelPool }

func (a poolAdapter) Embedder(ctx context.Context, name string) (embed.Embedder, error) {
	return a.p.Embedder(ctx, name)
}

// EmbedQuery embeds queries through the registry's query cache.
func (a poolAdapter) EmbedQuery(ctx context.Context, model, text string) ([]float32, error) {
	return a.p.EmbedQuery(ctx, model, text)
}

// Rerank serves the rerank option with the configured cross-encoder.
func (a poolAdapter) Rerank(ctx context.Context, query string, passages []string) ([]float32, error) {
	return a.p.Rerank(ctx, query, passages)
}

func (a poolAdapter) ListModels() []api.ModelInfo {
	var out []api.ModelInfo
	for _, m := range a.p.List() {
		out = append(out, api.ModelInfo{ID: m.ID, Kind: m.Kind, Dims: m.Dims, SizeBytes: m.SizeBytes,
			Loaded: m.Loaded, LoadMS: m.LoadMS, MemoryBytes: m.MemoryBytes, MemoryEstimated: m.MemoryEstimated})
	}
	return out
}
