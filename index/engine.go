package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
)

// QueryEmbedder embeds query text with a named model. cmd/ragd wires it to
// the embedder registry; Engine uses it for vector and hybrid text queries.
type QueryEmbedder interface {
	EmbedQuery(ctx context.Context, model, text string) ([]float32, error)
}

// Reranker re-scores passages for a query (a cross-encoder); optional.
type Reranker interface {
	Rerank(ctx context.Context, query string, passages []string) ([]float32, error)
}

// Options configure an Engine.
type Options struct {
	// Dir is the data directory holding ragd.db and one folder per index.
	Dir string
	// Logger receives operational messages (default: discard).
	Logger *slog.Logger
	// Embedder embeds query text for vector and hybrid modes (optional).
	Embedder QueryEmbedder
	// Reranker is the optional cross-encoder stage for Query.Rerank.
	Reranker Reranker
	// Vector holds HNSW defaults for new vector indexes.
	Vector VectorOptions
	// SnapshotEvery saves a vector index after this many changed vectors
	// (default 20,000); Close and Flush always save.
	SnapshotEvery int
	// MaxTopK caps Query.TopK (default 1000).
	MaxTopK int
}

// VectorOptions are the HNSW parameters for new vector indexes.
type VectorOptions struct {
	M              int  // graph degree (default 16)
	EfConstruction int  // build breadth (default 200)
	EfSearch       int  // query breadth when a query sets none (default 64)
	Quantize       bool // int8 scalar quantization with float re-scoring
	ExactBelow     int  // use exact search below this many vectors (default 5,000)
}

// Engine owns the store of record and every named index's derived indexes.
// It is safe for concurrent use: reads run in parallel; writes to one index
// are serialised so derived indexes apply the change log in order.
type Engine struct {
	opts  Options
	log   *slog.Logger
	store *Store

	mu      sync.RWMutex
	indexes map[string]*named
	closed  bool
	// snap serialises snapshots (see snapshot.go).
	snap sync.Mutex
}

// named is one open index.
type named struct {
	name string
	dir  string

	wmu sync.Mutex // serialises writes: store, then derived indexes
	// version is the store's change counter as of the last write that
	// reached the derived indexes (see Engine.Version).
	version atomic.Uint64
	mu      sync.RWMutex
	cfg     data.IndexConfig
	kw      *keywordIndex
	vec     *vectorIndex
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidName reports whether name is a valid index name: 1–64 characters of
// letters, digits, '_', '.', '-', starting with a letter or digit.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// Open opens the engine in opts.Dir, creating it when needed, and brings
// every index's derived indexes up to date with the store (replaying the
// change log, or rebuilding what is missing or damaged).
func Open(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("index: %w: empty data dir", data.ErrInvalid)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = 20000
	}
	if opts.MaxTopK <= 0 {
		opts.MaxTopK = 1000
	}
	st, err := OpenStore(filepath.Join(opts.Dir, "ragd.db"))
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, log: opts.Logger, store: st, indexes: map[string]*named{}}
	recs, err := st.listIndexes()
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, rec := range recs {
		n, err := e.openNamed(ctx, rec.Config)
		if err != nil {
			e.closeAll()
			st.Close()
			return nil, err
		}
		e.indexes[rec.Config.Name] = n
	}
	return e, nil
}

func (e *Engine) indexDir(name string) string { return filepath.Join(e.opts.Dir, "indexes", name) }

func (e *Engine) openNamed(ctx context.Context, cfg data.IndexConfig) (*named, error) {
	n := &named{name: cfg.Name, dir: e.indexDir(cfg.Name), cfg: cfg}
	n.version.Store(e.store.version(cfg.Name))
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return nil, fmt.Errorf("index %q: %w", cfg.Name, err)
	}
	kwDir := filepath.Join(n.dir, "bleve")
	kw, created, err := openKeyword(kwDir)
	if err != nil {
		e.log.Warn("keyword index damaged; rebuilding from the store", "index", cfg.Name, "err", err)
		if rmErr := os.RemoveAll(kwDir); rmErr != nil {
			return nil, fmt.Errorf("index %q: remove damaged keyword index: %w", cfg.Name, rmErr)
		}
		kw, created, err = openKeyword(kwDir)
		if err != nil {
			return nil, err
		}
	}
	n.kw = kw
	if created {
		e.log.Debug("keyword index created", "index", cfg.Name)
	}
	if err := e.catchUpKeyword(ctx, n); err != nil {
		kw.close()
		return nil, err
	}
	if cfg.Dims > 0 {
		if err := e.openVectors(ctx, n); err != nil {
			kw.close()
			return nil, err
		}
	}
	return n, nil
}

// catchUpKeyword replays the change log into bleve, or rebuilds it whole
// when the log no longer reaches back far enough.
func (e *Engine) catchUpKeyword(ctx context.Context, n *named) error {
	applied := n.kw.appliedSeq()
	ops, last, ok, err := e.store.logSince(n.name, applied)
	if err != nil {
		return err
	}
	if !ok {
		return e.rebuildKeyword(ctx, n)
	}
	if last == applied {
		return nil
	}
	e.log.Info("replaying change log into keyword index", "index", n.name, "ops", len(ops))
	return e.applyOps(ctx, n, ops, last, true, false)
}

// applyOps applies collapsed change-log operations to the keyword and/or
// vector index in batches.
func (e *Engine) applyOps(ctx context.Context, n *named, ops []logOp, last uint64, toKW, toVec bool) error {
	const batch = 1000
	for i := 0; i < len(ops) || i == 0; i += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(i+batch, len(ops))
		var putIDs, dels []string
		for _, op := range ops[i:end] {
			if op.Op == 'p' {
				putIDs = append(putIDs, op.Chunk)
			} else {
				dels = append(dels, op.Chunk)
			}
		}
		views, err := e.store.chunks(n.name, putIDs, toVec)
		if err != nil {
			return err
		}
		puts := make([]chunkView, 0, len(views))
		for _, id := range putIDs {
			if v, ok := views[id]; ok {
				puts = append(puts, v)
			} else {
				dels = append(dels, id) // put then deleted since
			}
		}
		seq := last
		if end < len(ops) {
			seq = 0 // only the final batch records the applied sequence
		}
		if toKW {
			if seq == 0 {
				seq = n.kw.appliedSeq()
			}
			if err := n.kw.apply(puts, dels, seq); err != nil {
				return err
			}
		}
		if toVec && n.vec != nil {
			if err := n.vec.apply(ctx, puts, dels); err != nil {
				return err
			}
		}
		if end >= len(ops) {
			break
		}
	}
	return nil
}

// rebuildKeyword re-creates the bleve index from every stored chunk.
func (e *Engine) rebuildKeyword(ctx context.Context, n *named) error {
	e.log.Info("rebuilding keyword index from the store", "index", n.name)
	dir := filepath.Join(n.dir, "bleve")
	if n.kw != nil {
		n.kw.close()
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	kw, _, err := openKeyword(dir)
	if err != nil {
		return err
	}
	n.kw = kw
	seq := e.store.currentSeq(n.name)
	var buf []chunkView
	flush := func(final bool) error {
		s := uint64(0)
		if final {
			s = seq
		}
		err := kw.apply(buf, nil, s)
		buf = buf[:0]
		return err
	}
	err = e.store.forEachChunk(n.name, false, func(cv chunkView) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf = append(buf, cv)
		if len(buf) >= 1000 {
			return flush(false)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush(true)
}

// CreateIndex creates a named index. Dims and metric may be zero: the first
// vector write fixes them.
func (e *Engine) CreateIndex(ctx context.Context, cfg data.IndexConfig) (data.IndexConfig, error) {
	cfg, err := CheckIndexConfig(cfg)
	if err != nil {
		return cfg, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return cfg, data.ErrClosed
	}
	if _, ok := e.indexes[cfg.Name]; ok {
		return cfg, fmt.Errorf("index %q: %w", cfg.Name, data.ErrExists)
	}
	// A leftover folder from a dropped index must not leak into the new one.
	if err := os.RemoveAll(e.indexDir(cfg.Name)); err != nil {
		return cfg, err
	}
	if err := e.store.createIndex(cfg); err != nil {
		return cfg, err
	}
	n, err := e.openNamed(ctx, cfg)
	if err != nil {
		_ = e.store.dropIndex(cfg.Name)
		return cfg, err
	}
	e.indexes[cfg.Name] = n
	return cfg, nil
}

// DropIndex deletes a named index and everything in it.
func (e *Engine) DropIndex(ctx context.Context, name string) error {
	e.mu.Lock()
	n, ok := e.indexes[name]
	if !ok {
		e.mu.Unlock()
		return fmt.Errorf("index %q: %w", name, data.ErrNotFound)
	}
	delete(e.indexes, name)
	e.mu.Unlock()
	n.wmu.Lock()
	defer n.wmu.Unlock()
	n.mu.Lock()
	n.kw.close()
	n.mu.Unlock()
	if err := e.store.dropIndex(name); err != nil {
		return err
	}
	return os.RemoveAll(n.dir)
}

func (e *Engine) get(name string) (*named, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, data.ErrClosed
	}
	n, ok := e.indexes[name]
	if !ok {
		return nil, fmt.Errorf("index %q: %w", name, data.ErrNotFound)
	}
	return n, nil
}

// IndexInfo is an index's configuration with live statistics.
type IndexInfo struct {
	data.IndexConfig
	Stats data.IndexStats `json:"stats"`
}

// Indexes lists every index, sorted by name.
func (e *Engine) Indexes(ctx context.Context) ([]IndexInfo, error) {
	e.mu.RLock()
	names := make([]string, 0, len(e.indexes))
	for name := range e.indexes {
		names = append(names, name)
	}
	e.mu.RUnlock()
	sort.Strings(names)
	out := make([]IndexInfo, 0, len(names))
	for _, name := range names {
		info, err := e.Index(ctx, name)
		if errors.Is(err, data.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Index describes one index.
func (e *Engine) Index(ctx context.Context, name string) (IndexInfo, error) {
	n, err := e.get(name)
	if err != nil {
		return IndexInfo{}, err
	}
	docs, chunks, vecs, _, version, err := e.store.counts(name)
	if err != nil {
		return IndexInfo{}, err
	}
	n.mu.RLock()
	cfg := n.cfg
	n.mu.RUnlock()
	return IndexInfo{IndexConfig: cfg, Stats: data.IndexStats{
		Documents: docs, Chunks: chunks, Vectors: vecs, Version: version, SizeBytes: dirSize(n.dir),
	}}, nil
}

// Version is the index's change counter; caches key on it.
//
// It moves only after a write has reached the derived indexes, so a search
// that reads the version first and its results afterwards never pairs a new
// version with results from before the write.
func (e *Engine) Version(name string) uint64 {
	n, err := e.get(name)
	if err != nil {
		return 0
	}
	return n.version.Load()
}

func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// Limits on what one write may hold.
const (
	MaxDocIDLen   = 1024
	MaxDocBytes   = 64 << 20
	MaxChunkBytes = 1 << 20
)

// PutResult says what a document write changed.
type PutResult struct {
	Written int `json:"written"`
	Skipped int `json:"skipped"`
	Chunks  int `json:"chunks"`
}

// PutDocuments writes documents whose chunks (and vectors, if any) are
// already made. All documents of one call are written atomically; a
// document with an unchanged hash is skipped unless force is set.
func (e *Engine) PutDocuments(ctx context.Context, name string, docs []data.Document, force bool) (PutResult, error) {
	n, err := e.get(name)
	if err != nil {
		return PutResult{}, err
	}
	n.mu.RLock()
	cfg := n.cfg
	n.mu.RUnlock()
	dims, err := PrepareDocuments(cfg, docs)
	if err != nil {
		return PutResult{}, err
	}
	n.wmu.Lock()
	defer n.wmu.Unlock()
	if err := ctx.Err(); err != nil {
		return PutResult{}, err
	}
	if dims != cfg.Dims {
		n.mu.Lock()
		if n.cfg.Dims == 0 {
			n.cfg.Dims = dims
			if n.cfg.Metric == "" {
				n.cfg.Metric = data.Cosine
			}
			if err := e.store.setIndexConfig(n.cfg); err != nil {
				n.cfg.Dims = 0
				n.mu.Unlock()
				return PutResult{}, err
			}
		}
		cfg = n.cfg
		n.mu.Unlock()
		if err := e.openVectors(ctx, n); err != nil {
			return PutResult{}, err
		}
	}
	res, err := e.store.putDocuments(name, docs, cfg.Dims, force)
	if err != nil {
		return PutResult{}, err
	}
	if res.Written == 0 {
		return PutResult{Skipped: res.Skipped}, nil
	}
	puts := make([]chunkView, 0, res.Chunks)
	written := res.PutDocs // a subsequence of docs, in input order
	for i := range docs {
		d := &docs[i]
		if len(written) == 0 || written[0] != d.ID {
			continue // skipped as unchanged
		}
		written = written[1:]
		for _, c := range d.Chunks {
			puts = append(puts, chunkView{Chunk: c, Title: d.Title, Source: d.Source, Metadata: d.Metadata, Vector: c.Vector, New: !res.Replaced[c.ID]})
		}
	}
	err = e.applyDerived(ctx, n, puts, res.Deletes, res.Seq)
	n.version.Store(e.store.version(name))
	if err != nil {
		return PutResult{}, err
	}
	return PutResult{Written: res.Written, Skipped: res.Skipped, Chunks: res.Chunks}, nil
}

// applyDerived brings bleve and the vector index up to seq. A failure here
// leaves the store correct; the next Open replays the log.
func (e *Engine) applyDerived(ctx context.Context, n *named, puts []chunkView, dels []string, seq uint64) error {
	var err error
	if n.kw.idx == nil || n.kw.behind {
		// A previous write failed; catch the keyword index up from the
		// change log, which holds this write too.
		err = e.recoverKeyword(ctx, n)
	} else {
		n.mu.RLock()
		err = n.kw.apply(puts, dels, seq)
		n.mu.RUnlock()
	}
	if err != nil {
		// bleve may keep a half-persisted segment in its snapshot after a
		// failed batch (seen with a full disk), so reopen it from disk and
		// replay the change log; the store already holds the write.
		if rerr := e.recoverKeyword(ctx, n); rerr != nil {
			e.log.Error("keyword index unavailable until a later write or restart recovers it", "index", n.name, "err", rerr)
		}
		return fmt.Errorf("keyword index: %w", err)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.vec != nil {
		if err := n.vec.apply(ctx, puts, dels); err != nil {
			return fmt.Errorf("vector index: %w", err)
		}
		n.vec.noteApplied(seq)
		if n.vec.dirty >= e.opts.SnapshotEvery {
			if err := n.vec.save(); err != nil {
				e.log.Warn("vector snapshot failed", "index", n.name, "err", err)
			} else {
				e.truncate(n)
			}
		}
	}
	return nil
}

// recoverKeyword closes and reopens an index's bleve index and replays the
// change log into it. If the reopen fails the index is left closed
// (searches get ErrUnavailable); if only the replay fails, searches go on
// over the durable, older state. Either way the next write or a restart
// tries again.
func (e *Engine) recoverKeyword(ctx context.Context, n *named) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.kw.close()
	n.kw = &keywordIndex{}
	kw, _, err := openKeyword(filepath.Join(n.dir, "bleve"))
	if err != nil {
		return err
	}
	n.kw = kw
	if err := e.catchUpKeyword(ctx, n); err != nil {
		// The failed catch-up may have left a broken segment in bleve's
		// in-memory snapshot: reopen once more, without replaying, and keep
		// serving searches from what is durable. The next write retries the
		// catch-up before applying anything new.
		kw.close()
		n.kw = &keywordIndex{}
		if again, _, oerr := openKeyword(filepath.Join(n.dir, "bleve")); oerr == nil {
			again.behind = true
			n.kw = again
		}
		return err
	}
	return nil
}

// truncate drops change-log entries both derived indexes have made durable.
func (e *Engine) truncate(n *named) {
	upTo := n.kw.appliedSeq()
	if n.vec != nil {
		upTo = min(upTo, n.vec.savedSeq)
	}
	if err := e.store.truncateLog(n.name, upTo); err != nil {
		e.log.Warn("change-log truncation failed", "index", n.name, "err", err)
	}
}

func validateDoc(d *data.Document) error {
	switch {
	case d.ID == "":
		return fmt.Errorf("%w: document without an id", data.ErrInvalid)
	case len(d.ID) > MaxDocIDLen:
		return fmt.Errorf("%w: document id longer than %d bytes", data.ErrInvalid, MaxDocIDLen)
	case !utf8.ValidString(d.ID):
		return fmt.Errorf("%w: document id is not valid UTF-8", data.ErrInvalid)
	case len(d.Text) > MaxDocBytes:
		return fmt.Errorf("document %q: %w: text is %d bytes, limit %d", d.ID, data.ErrTooLarge, len(d.Text), MaxDocBytes)
	}
	for i := range d.Chunks {
		c := &d.Chunks[i]
		if c.ID == "" {
			c.ID = data.ChunkID(d.ID, i)
		}
		if c.ID != data.ChunkID(d.ID, i) || c.Ordinal != i {
			return fmt.Errorf("%w: document %q chunk %d has id %q (want %q)", data.ErrInvalid, d.ID, i, c.ID, data.ChunkID(d.ID, i))
		}
		c.DocID = d.ID
		if len(c.Text) > MaxChunkBytes {
			return fmt.Errorf("document %q chunk %d: %w: %d bytes, limit %d", d.ID, i, data.ErrTooLarge, len(c.Text), MaxChunkBytes)
		}
	}
	return nil
}

// ValidateVector checks a vector against an index's dims and metric:
// right length, finite components, and not all zero under cosine.
func ValidateVector(v []float32, dims int, metric data.Metric) error {
	if len(v) != dims {
		return fmt.Errorf("%w: vector has %d dimensions, index has %d", data.ErrDimension, len(v), dims)
	}
	var norm float64
	for i, f := range v {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return fmt.Errorf("%w: vector component %d is %v", data.ErrInvalid, i, f)
		}
		norm += float64(f) * float64(f)
	}
	if norm == 0 && metric != data.L2 && metric != data.Dot {
		return fmt.Errorf("%w: zero vector under cosine", data.ErrInvalid)
	}
	return nil
}

// DeleteDocuments removes documents by id; unknown ids are returned in
// missing and do not fail the others.
func (e *Engine) DeleteDocuments(ctx context.Context, name string, ids []string) (deleted int, missing []string, err error) {
	n, err := e.get(name)
	if err != nil {
		return 0, nil, err
	}
	n.wmu.Lock()
	defer n.wmu.Unlock()
	res, missing, err := e.store.deleteDocuments(name, ids)
	if err != nil {
		return 0, nil, err
	}
	if res.Written == 0 {
		return 0, missing, nil
	}
	err = e.applyDerived(ctx, n, nil, res.Deletes, res.Seq)
	n.version.Store(e.store.version(name))
	return res.Written, missing, err
}

// Document returns a stored document with its chunks.
func (e *Engine) Document(ctx context.Context, name, id string) (data.Document, error) {
	if _, err := e.get(name); err != nil {
		return data.Document{}, err
	}
	return e.store.getDocument(name, id, false)
}

// DocumentVectors returns a stored document with its chunks and their
// vectors (the Vectorize-compatible API returns stored values).
func (e *Engine) DocumentVectors(ctx context.Context, name, id string) (data.Document, error) {
	if _, err := e.get(name); err != nil {
		return data.Document{}, err
	}
	return e.store.getDocument(name, id, true)
}

// DocumentSummary is a listed document (no text).
type DocumentSummary struct {
	ID        string         `json:"id"`
	Title     string         `json:"title,omitempty"`
	Source    string         `json:"source,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Hash      string         `json:"hash"`
	Chunks    int            `json:"chunks"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// Documents pages through documents in id order after the cursor.
func (e *Engine) Documents(ctx context.Context, name, after string, limit int) ([]DocumentSummary, error) {
	if _, err := e.get(name); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	recs, err := e.store.listDocuments(name, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]DocumentSummary, len(recs))
	for i, r := range recs {
		out[i] = DocumentSummary{ID: r.ID, Title: r.Title, Source: r.Source, Metadata: r.Metadata, Hash: r.Hash, Chunks: r.Chunks, UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}

// DocumentHashes returns id -> content hash for every document (ingest
// uses it to skip unchanged files without reading them twice).
func (e *Engine) DocumentHashes(ctx context.Context, name string) (map[string]string, error) {
	if _, err := e.get(name); err != nil {
		return nil, err
	}
	return e.store.docHashes(name)
}

// DocumentSources returns id -> source for every document (for --sync).
func (e *Engine) DocumentSources(ctx context.Context, name string) (map[string]string, error) {
	if _, err := e.get(name); err != nil {
		return nil, err
	}
	return e.store.docSources(name)
}

// Store exposes the store of record (the embedding cache lives there).
func (e *Engine) Store() *Store { return e.store }

// Flush saves every vector index snapshot and truncates change logs.
func (e *Engine) Flush() error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var errs []error
	for _, n := range e.indexes {
		n.wmu.Lock()
		if n.vec != nil && n.vec.dirty > 0 {
			if err := n.vec.save(); err != nil {
				errs = append(errs, fmt.Errorf("index %q: %w", n.name, err))
			}
		}
		e.truncate(n)
		n.wmu.Unlock()
	}
	return errors.Join(errs...)
}

// Close flushes and closes everything. It is safe to call twice.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.mu.Unlock()
	err := e.Flush()
	e.mu.Lock()
	e.closed = true
	e.closeAll()
	e.mu.Unlock()
	return errors.Join(err, e.store.Close())
}

func (e *Engine) closeAll() {
	for _, n := range e.indexes {
		n.wmu.Lock()
		n.kw.close()
		n.wmu.Unlock()
	}
}
