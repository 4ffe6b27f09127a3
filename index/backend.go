package index

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
)

// Backend is a storage driver, as the retrieval service (package rag)
// sees it: named indexes of documents and their chunks (create, drop,
// describe), document writes and reads (put, delete, get, list), and
// retrieval by keyword (BM25), by vector, or both fused, with filters and
// namespaces. It knows no models: a vector or hybrid query carries its
// vector (the service embeds the query text) and reranking is the
// service's. Engine (the embedded store of record with bleve and ragd's
// HNSW) is one; index/weaviate, a Weaviate cluster, is the other.
//
// What only some backends can do is an optional capability the caller
// discovers by interface assertion: VectorCacher (an embedding cache),
// HeadReader (cheap hash lookups), Snapshotter, Checker, StateStore.
type Backend interface {
	// CreateIndex creates a named index (ErrExists when it exists).
	CreateIndex(ctx context.Context, cfg data.IndexConfig) (data.IndexConfig, error)
	// DropIndex deletes an index and everything in it (ErrNotFound when absent).
	DropIndex(ctx context.Context, name string) error
	// Indexes lists every index with its statistics, sorted by name.
	Indexes(ctx context.Context) ([]IndexInfo, error)
	// Index describes one index, with statistics.
	Index(ctx context.Context, name string) (IndexInfo, error)
	// IndexConfig returns an index's configuration (cheap: no statistics).
	IndexConfig(ctx context.Context, name string) (data.IndexConfig, error)
	// Version is a change counter for caches: it moves whenever the index
	// changes. Zero means "unknown index" or "cannot tell"; callers must
	// not cache under it.
	Version(ctx context.Context, name string) uint64
	// PutDocuments writes documents whose chunks (and vectors) are made;
	// unchanged documents (same hash) are skipped unless force is set.
	PutDocuments(ctx context.Context, name string, docs []data.Document, force bool) (PutResult, error)
	// DeleteDocuments removes documents; unknown ids come back in missing.
	DeleteDocuments(ctx context.Context, name string, ids []string) (deleted int, missing []string, err error)
	// Document returns a document with its chunks (no vectors).
	Document(ctx context.Context, name, id string) (data.Document, error)
	// DocumentVectors returns a document with its chunks and their vectors.
	DocumentVectors(ctx context.Context, name, id string) (data.Document, error)
	// Documents pages through documents in id order after a cursor.
	Documents(ctx context.Context, name, after string, limit int) ([]DocumentSummary, error)
	// DocumentHashes returns id -> content hash for every document.
	DocumentHashes(ctx context.Context, name string) (map[string]string, error)
	// DocumentSources returns id -> source for every document.
	DocumentSources(ctx context.Context, name string) (map[string]string, error)
	// Search retrieves for one query: keyword (ModeBM25), vector
	// (ModeVector, with Query.Vector) or both fused (ModeHybrid). A vector
	// mode without a vector is data.ErrUnavailable; Query.Rerank is
	// data.ErrUnsupported (the service reranks).
	Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error)
	// Flush makes everything written durable.
	Flush() error
	// Close releases the backend.
	Close() error
}

var _ Backend = (*Engine)(nil)

// CheckIndexConfig validates and normalises a new index's configuration;
// every backend applies the same rules.
func CheckIndexConfig(cfg data.IndexConfig) (data.IndexConfig, error) {
	if !ValidName(cfg.Name) {
		return cfg, fmt.Errorf("%w: index name %q: use 1-64 letters, digits, '_', '.', '-', starting with a letter or digit", data.ErrInvalid, cfg.Name)
	}
	if cfg.Dims < 0 || cfg.Dims > 8192 {
		return cfg, fmt.Errorf("%w: dims %d out of range 0..8192", data.ErrInvalid, cfg.Dims)
	}
	m, ok := data.ParseMetric(string(cfg.Metric))
	if !ok {
		return cfg, fmt.Errorf("%w: metric %q: want cosine, dot or euclidean", data.ErrInvalid, cfg.Metric)
	}
	cfg.Metric = m
	if err := data.CheckChunking(cfg.ChunkSize, cfg.ChunkOverlap); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// PrepareDocuments validates a write against an index's configuration and
// fills in hashes and write times. It returns the vector length the write
// implies (cfg.Dims, or the first vector's length when the index has none
// yet). Nothing is written when it fails.
func PrepareDocuments(cfg data.IndexConfig, docs []data.Document) (dims int, err error) {
	dims = cfg.Dims
	seen := make(map[string]bool, len(docs))
	now := time.Now().UTC()
	for i := range docs {
		d := &docs[i]
		if err := validateDoc(d); err != nil {
			return 0, err
		}
		if seen[d.ID] {
			return 0, fmt.Errorf("%w: document %q appears twice in one write", data.ErrInvalid, d.ID)
		}
		seen[d.ID] = true
		if d.Hash == "" {
			d.Hash = data.ContentHash(d.Title, d.Text)
		}
		if d.UpdatedAt.IsZero() {
			d.UpdatedAt = now
		}
		for j := range d.Chunks {
			c := &d.Chunks[j]
			if len(c.Vector) == 0 {
				continue
			}
			if dims == 0 {
				dims = len(c.Vector)
			}
			if err := ValidateVector(c.Vector, dims, cfg.Metric); err != nil {
				return 0, fmt.Errorf("document %q chunk %d: %w", d.ID, j, err)
			}
		}
	}
	return dims, nil
}

// NormalizeQuery fills a query's defaults and validates it against an
// index's configuration. canEmbed says whether the caller can embed query
// text (the service has models; a backend alone cannot); maxTopK caps
// TopK.
func NormalizeQuery(q *data.Query, cfg data.IndexConfig, canEmbed bool, maxTopK int) error {
	if q.TopK == 0 {
		q.TopK = DefaultTopK
	}
	if q.TopK < 0 || q.TopK > maxTopK {
		return fmt.Errorf("%w: top_k %d out of range 1..%d", data.ErrInvalid, q.TopK, maxTopK)
	}
	if q.Mode == "" {
		q.Mode = data.ModeBM25
		if cfg.Dims > 0 && (len(q.Vector) > 0 || (canEmbed && cfg.Model != "")) {
			q.Mode = data.ModeHybrid
		}
	}
	if !q.Mode.Valid() {
		return fmt.Errorf("%w: mode %q: want bm25, vector or hybrid", data.ErrInvalid, q.Mode)
	}
	if q.Model != "" && cfg.Model != "" && q.Model != cfg.Model {
		return fmt.Errorf("index %q was built with model %q, query uses %q: %w", cfg.Name, cfg.Model, q.Model, data.ErrModelMismatch)
	}
	blank := strings.TrimSpace(q.Text) == ""
	if q.Mode == data.ModeBM25 && blank {
		return fmt.Errorf("%w: empty query", data.ErrInvalid)
	}
	if q.Mode != data.ModeBM25 && blank && len(q.Vector) == 0 {
		return fmt.Errorf("%w: %s mode needs query text or a vector", data.ErrInvalid, q.Mode)
	}
	if q.Mode == data.ModeHybrid && blank {
		return fmt.Errorf("%w: hybrid mode needs query text for its keyword side", data.ErrInvalid)
	}
	switch q.Fusion {
	case "":
		q.Fusion = data.FusionRRF
	case data.FusionRRF, data.FusionConvex:
	default:
		return fmt.Errorf("%w: fusion %q: want rrf or convex", data.ErrInvalid, q.Fusion)
	}
	if q.Alpha < 0 || q.Alpha > 1 {
		return fmt.Errorf("%w: alpha %v out of range 0..1", data.ErrInvalid, q.Alpha)
	}
	if q.RRFK < 0 {
		return fmt.Errorf("%w: rrf_k %d", data.ErrInvalid, q.RRFK)
	}
	return q.Filter.Validate()
}

// CheckRetrieval checks what a backend needs of a normalized query: a
// vector for the vector modes, no rerank. It returns the query's vector,
// validated against the index's dims and metric (nil in ModeBM25).
func CheckRetrieval(cfg data.IndexConfig, q data.Query) ([]float32, error) {
	if q.Rerank {
		return nil, fmt.Errorf("%w: rerank is done by the retrieval service, not the storage backend", data.ErrUnsupported)
	}
	if q.Mode == data.ModeBM25 {
		return nil, nil
	}
	if cfg.Dims == 0 {
		return nil, fmt.Errorf("index %q has no vectors yet: %w", cfg.Name, data.ErrUnsupported)
	}
	if len(q.Vector) == 0 {
		return nil, fmt.Errorf("index %q: a %s query needs a vector (the retrieval service embeds query text): %w", cfg.Name, q.Mode, data.ErrUnavailable)
	}
	if err := ValidateVector(q.Vector, cfg.Dims, cfg.Metric); err != nil {
		return nil, err
	}
	return q.Vector, nil
}

// FinishHits cuts hits to the query's TopK and drops the explanations the
// query did not ask for (backends keep them until reranking is done).
func FinishHits(hits []data.Hit, q data.Query) []data.Hit {
	if len(hits) > q.TopK {
		hits = hits[:q.TopK]
	}
	if !q.Explain {
		for i := range hits {
			hits[i].Explain = nil
		}
	}
	return hits
}
