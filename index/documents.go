package index

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/ragd/ragd/data"
)

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
