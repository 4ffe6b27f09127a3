package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/ragd/ragd/data"
)

// Options configure an Engine.
type Options struct {
	// Dir is the data directory holding ragd.db and one folder per index.
	Dir string
	// Logger receives operational messages (default: discard).
	Logger *slog.Logger
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
