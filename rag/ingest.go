package rag

import (
	"context"
	"io"
	"log/slog"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/ingest"
)

// IngestOptions configure a write of whole documents.
type IngestOptions struct {
	// Force rewrites documents even when their content is unchanged.
	Force bool
	// Chunk overrides the chunk settings stored with the index (zero
	// fields: the stored ones, else ingest's defaults).
	Chunk ingest.ChunkOptions
	// Progress is called as work advances (optional).
	Progress func(ingest.Progress)
}

// IngestResult is what a write did (Docs written, Skipped unchanged,
// Chunks written, Embedded and CacheHits, and for files Files, Failed,
// Failures and Deleted).
type IngestResult struct {
	ingest.Summary
}

// FileOptions configure an ingest of files, folders or standard input.
type FileOptions struct {
	IngestOptions
	// Include and Exclude are globs applied under folders.
	Include, Exclude []string
	// Load configures the loaders (a forced format, ...).
	Load ingest.LoadOptions
	// Sync deletes documents whose source under the given paths vanished.
	Sync bool
	// Workers parse files in parallel (0: GOMAXPROCS).
	Workers int
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Logger receives per-file problems (default: the service's).
	Logger *slog.Logger
}

// Ingest writes whole documents (an ID and text each) into an index: each
// document whose content and metadata are unchanged is skipped before any
// chunking or embedding; the others are chunked with the index's chunk
// settings, embedded with its model through the embedding cache, and
// written in batches.
func (s *Service) Ingest(ctx context.Context, name string, docs []data.Document, opts IngestOptions) (IngestResult, error) {
	cfg, err := s.ingestConfig(ctx, name, opts)
	if err != nil {
		return IngestResult{}, err
	}
	if !opts.Force {
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		heads, err := s.heads(ctx, name, ids)
		if err != nil {
			return IngestResult{}, err
		}
		cfg.Unchanged = unchangedBy(heads)
	}
	sum, err := ingest.Documents(ctx, s.b, docs, cfg)
	return IngestResult{sum}, err
}

// IngestFiles ingests files, folders or standard input ("-") into an
// index, with the same checks, chunk settings, model and cache as Ingest.
func (s *Service) IngestFiles(ctx context.Context, name string, paths []string, opts FileOptions) (IngestResult, error) {
	cfg, err := s.ingestConfig(ctx, name, opts.IngestOptions)
	if err != nil {
		return IngestResult{}, err
	}
	cfg.Include, cfg.Exclude, cfg.Load, cfg.Sync, cfg.Workers, cfg.Stdin = opts.Include, opts.Exclude, opts.Load, opts.Sync, opts.Workers, opts.Stdin
	if opts.Logger != nil {
		cfg.Logger = opts.Logger
	}
	if !opts.Force {
		// Files stream in: their ids are known only once parsed, so the
		// whole index's hashes are read once, up front.
		hashes, err := s.b.DocumentHashes(ctx, name)
		if err != nil {
			return IngestResult{}, err
		}
		heads := make(map[string]index.StoredHead, len(hashes))
		for id, h := range hashes {
			heads[id] = index.StoredHead{Hash: h}
		}
		cfg.Unchanged = func(d data.Document) bool {
			// Metadata is not in the hash map: a document with metadata is
			// written and the store compares it.
			return d.Metadata == nil && unchangedBy(heads)(d)
		}
	}
	sum, err := ingest.Run(ctx, s.b, paths, cfg)
	return IngestResult{sum}, err
}

// ingestConfig is the ingest configuration for an index: its chunk
// settings, its model's embedder and the embedding cache.
func (s *Service) ingestConfig(ctx context.Context, name string, opts IngestOptions) (ingest.Config, error) {
	icfg, err := s.config(ctx, name)
	if err != nil {
		return ingest.Config{}, err
	}
	emb, err := s.embedder(ctx, icfg)
	if err != nil {
		return ingest.Config{}, err
	}
	chunk := ingest.ChunkOptions{Size: icfg.ChunkSize, Overlap: icfg.ChunkOverlap}
	if opts.Chunk.Size > 0 {
		chunk.Size = opts.Chunk.Size
	}
	if opts.Chunk.Overlap != 0 { // -1: no overlap
		chunk.Overlap = opts.Chunk.Overlap
	}
	return ingest.Config{Index: name, Force: opts.Force, Embedder: emb, Cache: s.cfg.Cache, Logger: s.log,
		Chunk: chunk, Progress: opts.Progress}, nil
}

// heads reads what is stored of the given documents: through the
// backend's HeadReader when it has one, else from every document's hash
// and, for those whose hash matches, the stored document's metadata.
func (s *Service) heads(ctx context.Context, name string, ids []string) (map[string]index.StoredHead, error) {
	if hr, ok := s.b.(index.HeadReader); ok {
		return hr.DocumentHeads(ctx, name, ids)
	}
	hashes, err := s.b.DocumentHashes(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]index.StoredHead, len(ids))
	for _, id := range ids {
		if h, ok := hashes[id]; ok {
			out[id] = index.StoredHead{Hash: h}
		}
	}
	return out, nil
}

// unchangedBy reports documents whose hash and metadata equal the stored
// ones. A stored head without metadata read (the fallback path) matches a
// document without metadata only.
func unchangedBy(heads map[string]index.StoredHead) func(data.Document) bool {
	return func(d data.Document) bool {
		h, ok := heads[d.ID]
		return ok && h.Hash != "" && h.Hash == d.Hash && index.SameMetadata(h.Metadata, d.Metadata)
	}
}
