package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/ragd/ragd/data"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidName reports whether name is a valid index name: 1–64 characters of
// letters, digits, '_', '.', '-', starting with a letter or digit.
func ValidName(name string) bool { return nameRE.MatchString(name) }

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

// IndexConfig returns an index's configuration.
func (e *Engine) IndexConfig(ctx context.Context, name string) (data.IndexConfig, error) {
	n, err := e.get(name)
	if err != nil {
		return data.IndexConfig{}, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.cfg, nil
}

// Version is the index's change counter; caches key on it.
//
// It moves only after a write has reached the derived indexes, so a search
// that reads the version first and its results afterwards never pairs a new
// version with results from before the write.
func (e *Engine) Version(_ context.Context, name string) uint64 {
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
