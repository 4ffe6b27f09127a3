package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index/ann"
)

// vectorIndex is the ANN index derived from one named index's chunk
// vectors, persisted as a snapshot file plus a sidecar holding the change-log
// sequence the snapshot covers.
type vectorIndex struct {
	ix       *ann.Index
	path     string
	seqPath  string
	applied  uint64 // last change-log sequence applied in memory
	savedSeq uint64 // sequence covered by the snapshot on disk
	dirty    int    // vectors changed since the last snapshot
}

func (e *Engine) annConfig(cfg data.IndexConfig) ann.Config {
	v := e.opts.Vector
	return ann.Config{Dims: cfg.Dims, Metric: cfg.Metric, M: v.M, EfConstruction: v.EfConstruction,
		EfSearch: v.EfSearch, Quantize: v.Quantize, ExactBelow: v.ExactBelow}
}

// sameGraph reports whether a saved index was built with the graph settings
// (M, efConstruction, quantization) this engine would use: a change in
// Options.Vector rebuilds the index on open. efSearch is only a default
// for queries and never needs a rebuild.
func (e *Engine) sameGraph(saved ann.Config, cfg data.IndexConfig) bool {
	want, err := e.annConfig(cfg).Resolved()
	if err != nil {
		return true // let New report it
	}
	return saved.M == want.M && saved.EfConstruction == want.EfConstruction && saved.Quantize == want.Quantize
}

// openVectors loads the vector snapshot, or rebuilds it from the store
// when missing or damaged, then replays newer change-log entries.
func (e *Engine) openVectors(ctx context.Context, n *named) error {
	if n.vec != nil {
		return nil
	}
	vi := &vectorIndex{path: filepath.Join(n.dir, "vectors.ann"), seqPath: filepath.Join(n.dir, "vectors.seq")}
	ix, err := ann.Load(vi.path)
	seq, seqErr := readSeq(vi.seqPath)
	switch {
	case err == nil && seqErr == nil && ix.Config().Dims == n.cfg.Dims && e.sameGraph(ix.Config(), n.cfg):
		vi.ix, vi.applied, vi.savedSeq = ix, seq, seq
	default:
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			e.log.Warn("vector index damaged; rebuilding from the store", "index", n.name, "err", err)
		} else if err == nil && ix.Config().Dims == n.cfg.Dims {
			e.log.Info("vector index settings changed; rebuilding from the store", "index", n.name)
		}
		ix, err = ann.New(e.annConfig(n.cfg))
		if err != nil {
			return fmt.Errorf("index %q: vector index: %w", n.name, err)
		}
		vi.ix = ix
	}
	n.vec = vi
	ops, last, ok, err := e.store.logSince(n.name, vi.applied)
	if err != nil {
		return err
	}
	if !ok || vi.applied == 0 && vi.ix.Len() == 0 {
		return e.rebuildVectors(ctx, n)
	}
	if last != vi.applied {
		e.log.Info("replaying change log into vector index", "index", n.name, "ops", len(ops))
		if err := e.applyOps(ctx, n, ops, last, false, true); err != nil {
			return err
		}
		vi.noteApplied(last)
		vi.dirty += len(ops)
	}
	return nil
}

// rebuildVectors re-creates the vector index from every stored vector.
func (e *Engine) rebuildVectors(ctx context.Context, n *named) error {
	ix, err := ann.New(e.annConfig(n.cfg))
	if err != nil {
		return err
	}
	seq := e.store.currentSeq(n.name)
	var items []ann.Item
	flush := func() error {
		if len(items) == 0 {
			return nil
		}
		err := ix.Upsert(ctx, items)
		items = items[:0]
		return err
	}
	err = e.store.forEachChunk(n.name, true, func(cv chunkView) error {
		if len(cv.Vector) == 0 {
			return nil
		}
		items = append(items, annItem(cv))
		if len(items) >= 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("index %q: rebuild vectors: %w", n.name, err)
	}
	n.vec.ix = ix
	n.vec.applied = seq
	n.vec.dirty = max(ix.Len(), 1)
	return n.vec.save()
}

func annItem(cv chunkView) ann.Item {
	ns, _ := cv.Metadata["namespace"].(string)
	return ann.Item{ID: cv.Chunk.ID, Vector: cv.Vector, Namespace: ns, Metadata: sanitizeMeta(cv.Metadata)}
}

// apply upserts chunks that carry vectors and deletes the rest.
func (v *vectorIndex) apply(ctx context.Context, puts []chunkView, dels []string) error {
	items := make([]ann.Item, 0, len(puts))
	for _, cv := range puts {
		if len(cv.Vector) == 0 {
			dels = append(dels, cv.Chunk.ID)
			continue
		}
		items = append(items, annItem(cv))
	}
	if len(items) > 0 {
		if err := v.ix.Upsert(ctx, items); err != nil {
			return err
		}
	}
	if len(dels) > 0 {
		if _, err := v.ix.Delete(ctx, dels); err != nil {
			return err
		}
	}
	v.dirty += len(items) + len(dels)
	return nil
}

func (v *vectorIndex) noteApplied(seq uint64) {
	if seq > v.applied {
		v.applied = seq
	}
}

// save writes the snapshot, then the sidecar: a crash between the two
// leaves an older sequence, so the log is replayed again (idempotently).
func (v *vectorIndex) save() error {
	seq := v.applied
	if err := v.ix.Save(v.path); err != nil {
		return err
	}
	if err := writeFileSync(v.seqPath, []byte(strconv.FormatUint(seq, 10)+"\n")); err != nil {
		return err
	}
	v.savedSeq = seq
	v.dirty = 0
	return nil
}

func readSeq(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// writeFileSync writes a file atomically: temp file, fsync, rename, fsync dir.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
