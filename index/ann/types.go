package ann

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"

	"github.com/ragd/ragd/data"
)

// Sentinel errors of this package. Errors about bad input wrap data.ErrInvalid
// or data.ErrDimension as well, so callers can map them with errors.Is.
var (
	// ErrCorrupt: a saved index file is truncated, damaged, of an unknown
	// version or for another configuration. The caller should rebuild the
	// index from its store of record.
	ErrCorrupt = errors.New("ann: corrupt index file")
)

// Defaults used when a Config field is zero.
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEfSearch       = 64
	DefaultExactBelow     = 5000
	DefaultCompactRatio   = 0.5
	// DefaultK is the number of results when SearchOptions.K is zero.
	DefaultK = 10
	// MaxK bounds SearchOptions.K and SearchOptions.Ef.
	MaxK = 10000
	// MaxDims bounds Config.Dims.
	MaxDims = 65536
)

// Config configures an Index or a Flat index. Only Dims is required.
type Config struct {
	// Dims is the vector length (required, 1..MaxDims).
	Dims int
	// Metric is data.Cosine (default), data.Dot or data.L2. Cosine vectors
	// are normalised on insert and scored by dot product.
	Metric data.Metric
	// M is the number of neighbours per node on upper layers (default 16);
	// layer 0 keeps 2*M.
	M int
	// EfConstruction is the candidate list size while inserting (default 200).
	EfConstruction int
	// EfSearch is the default candidate list size while searching
	// (default 64); SearchOptions.Ef overrides it per query.
	EfSearch int
	// Quantize keeps an int8 copy of every vector (one scale per vector)
	// that graph traversal reads; the top candidates are re-scored with the
	// float32 vectors. Traversal then touches a quarter of the vector bytes,
	// and once the index is saved (or loaded) the float vectors are mapped
	// from its file rather than held in memory: vectors written since the
	// last save (or compaction) are the only ones kept in memory as floats.
	Quantize bool
	// ExactBelow: while the index holds fewer live vectors than this, and
	// whenever a filter is estimated to keep fewer, searches scan exactly
	// (default 5000; a negative value disables the size rule).
	ExactBelow int
	// CompactRatio: when deleted or replaced nodes exceed this fraction of
	// all nodes, the graph is rebuilt from the live vectors (default 0.5;
	// a negative value disables automatic compaction).
	CompactRatio float64
	// Workers is the number of goroutines that insert one batch in
	// parallel (default GOMAXPROCS).
	Workers int
	// Seed seeds the level generator (0 = a fixed default), so builds of
	// the same batches in one goroutine are reproducible.
	Seed int64
	// Logger receives compaction and load messages (default: discard).
	Logger *slog.Logger
}

// Resolved returns c with every zero field set to its default, or the
// error New would return for it.
func (c Config) Resolved() (Config, error) { return c.withDefaults() }

func (c Config) withDefaults() (Config, error) {
	if c.Dims <= 0 || c.Dims > MaxDims {
		return c, fmt.Errorf("ann config: dims %d out of range 1..%d: %w", c.Dims, MaxDims, data.ErrInvalid)
	}
	if c.Metric == "" {
		c.Metric = data.Cosine
	}
	switch c.Metric {
	case data.Cosine, data.Dot, data.L2:
	default:
		return c, fmt.Errorf("ann config: unknown metric %q: %w", c.Metric, data.ErrInvalid)
	}
	if c.M == 0 {
		c.M = DefaultM
	}
	if c.M < 2 || c.M > 256 {
		return c, fmt.Errorf("ann config: M %d out of range 2..256: %w", c.M, data.ErrInvalid)
	}
	if c.EfConstruction == 0 {
		c.EfConstruction = DefaultEfConstruction
	}
	if c.EfConstruction < 1 || c.EfConstruction > MaxK {
		return c, fmt.Errorf("ann config: efConstruction %d out of range: %w", c.EfConstruction, data.ErrInvalid)
	}
	if c.EfSearch == 0 {
		c.EfSearch = DefaultEfSearch
	}
	if c.EfSearch < 1 || c.EfSearch > MaxK {
		return c, fmt.Errorf("ann config: efSearch %d out of range: %w", c.EfSearch, data.ErrInvalid)
	}
	if c.ExactBelow == 0 {
		c.ExactBelow = DefaultExactBelow
	}
	if c.CompactRatio == 0 {
		c.CompactRatio = DefaultCompactRatio
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Item is one vector with its identity and attributes.
type Item struct {
	// ID identifies the vector (non-empty); writing an existing ID replaces it.
	ID string
	// Vector has Config.Dims finite values (not all zero under cosine).
	Vector []float32
	// Namespace partitions vectors; searches may be limited to one.
	Namespace string
	// Metadata is matched by data.Filter (string, float64, bool, nil or
	// arrays of those; integers are compared as float64).
	Metadata map[string]any
}

// Result is one search hit. Score is higher-is-better: the cosine
// similarity (cosine), the dot product (dot) or the negated Euclidean
// distance (euclidean).
type Result struct {
	ID    string  `json:"id"`
	Score float32 `json:"score"`
}

// SearchOptions tune one search.
type SearchOptions struct {
	// K is the number of results (default 10, at most MaxK).
	K int
	// Ef overrides Config.EfSearch for this query (raised to K if smaller).
	Ef int
	// Namespace limits results to one namespace ("" = all).
	Namespace string
	// Filter limits results to vectors whose metadata matches.
	Filter data.Filter
	// Exact forces an exact scan.
	Exact bool
}

// Stats describe an index.
type Stats struct {
	Dims      int         `json:"dims"`
	Metric    data.Metric `json:"metric"`
	Live      int         `json:"live"`
	Nodes     int         `json:"nodes"`
	Deleted   int         `json:"deleted"`
	MaxLevel  int         `json:"max_level"`
	Quantized bool        `json:"quantized"`
	Graph     bool        `json:"graph"`
	// VectorBytes is the resident memory of the float32 vectors and int8
	// codes. A quantized index that was saved or loaded reads its float
	// vectors (used only to re-score candidates) from a mapping of its
	// file: they are counted in MappedBytes instead, until compaction.
	VectorBytes int64 `json:"vector_bytes"`
	// MappedBytes is the size of the float vectors mapped from the file.
	MappedBytes int64 `json:"mapped_bytes,omitempty"`
	// GraphBytes is the memory of the neighbour lists and per-node arrays.
	GraphBytes int64 `json:"graph_bytes"`
}

// validateVector checks one vector against the configuration.
func validateVector(cfg *Config, v []float32) error {
	if len(v) != cfg.Dims {
		return fmt.Errorf("ann: vector has %d dims, index has %d: %w", len(v), cfg.Dims, data.ErrDimension)
	}
	var nz bool
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("ann: vector value %d is not finite: %w", i, data.ErrInvalid)
		}
		if x != 0 {
			nz = true
		}
	}
	if !nz && cfg.Metric == data.Cosine {
		return fmt.Errorf("ann: zero vector has no cosine direction: %w", data.ErrInvalid)
	}
	return nil
}

// validateBatch checks a whole batch before anything is changed.
func validateBatch(cfg *Config, items []Item) error {
	seen := make(map[string]int, len(items))
	for i, it := range items {
		if it.ID == "" {
			return fmt.Errorf("ann: item %d: empty id: %w", i, data.ErrInvalid)
		}
		if j, dup := seen[it.ID]; dup {
			return fmt.Errorf("ann: items %d and %d share id %q: %w", j, i, it.ID, data.ErrInvalid)
		}
		seen[it.ID] = i
		if err := validateVector(cfg, it.Vector); err != nil {
			return fmt.Errorf("item %d (%q): %w", i, it.ID, err)
		}
		if err := validateMeta(it.Metadata); err != nil {
			return fmt.Errorf("ann: item %d (%q): %w", i, it.ID, err)
		}
	}
	return nil
}

func validateMeta(m map[string]any) error {
	for k, v := range m {
		if k == "" {
			return fmt.Errorf("empty metadata key: %w", data.ErrInvalid)
		}
		if f, ok := v.(float64); ok && math.IsNaN(f) {
			return fmt.Errorf("metadata %q is NaN: %w", k, data.ErrInvalid)
		}
	}
	return nil
}
