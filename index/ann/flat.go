package ann

import (
	"context"
	"fmt"
)

// Flat is an exact index: every search scans all admitted vectors with
// SIMD dot products. It has Index's API and filters, keeps no graph, and
// is the ground truth for recall measurements.
type Flat struct {
	ix *Index
}

// NewFlat returns an empty exact index. Config.M, EfConstruction,
// EfSearch, Quantize and ExactBelow are ignored.
func NewFlat(cfg Config) (*Flat, error) {
	cfg.Quantize = false
	ix, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ix.s.graph = false
	return &Flat{ix: ix}, nil
}

// Config returns the configuration with defaults filled in.
func (f *Flat) Config() Config { return f.ix.Config() }

// Len returns the number of live vectors.
func (f *Flat) Len() int { return f.ix.Len() }

// Upsert validates the batch, then inserts or replaces every item.
func (f *Flat) Upsert(ctx context.Context, items []Item) error { return f.ix.Upsert(ctx, items) }

// Delete removes vectors by id and returns how many existed.
func (f *Flat) Delete(ctx context.Context, ids []string) (int, error) { return f.ix.Delete(ctx, ids) }

// Get returns the item stored under id.
func (f *Flat) Get(id string) (Item, bool) { return f.ix.Get(id) }

// List pages through the live ids in ascending order.
func (f *Flat) List(after string, limit int) ([]string, string) { return f.ix.List(after, limit) }

// Stats describes the index.
func (f *Flat) Stats() Stats { return f.ix.Stats() }

// Compact drops deleted vectors from memory.
func (f *Flat) Compact(ctx context.Context) error { return f.ix.Compact(ctx) }

// Search scans exactly; opts.Ef and opts.Exact are ignored.
func (f *Flat) Search(ctx context.Context, q []float32, opts SearchOptions) ([]Result, error) {
	opts.Exact = true
	return f.ix.Search(ctx, q, opts)
}

// Save writes the index to path crash-safely (see Index.Save).
func (f *Flat) Save(path string) error { return f.ix.Save(path) }

// LoadFlat reads an index written by Flat.Save.
func LoadFlat(path string) (*Flat, error) {
	ix, err := Load(path)
	if err != nil {
		return nil, err
	}
	if ix.s.graph {
		return nil, fmt.Errorf("ann: %s holds a graph index, not a flat one: %w", path, ErrCorrupt)
	}
	return &Flat{ix: ix}, nil
}
