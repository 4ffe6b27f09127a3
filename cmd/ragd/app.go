package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/extractive"
	"github.com/ragd/ragd/generate/llama"
	"github.com/ragd/ragd/generate/openai"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/index/ann"
	"github.com/ragd/ragd/index/weaviate"
)

// app is the wired-up system a command works with.
type app struct {
	cfg     Config
	log     *slog.Logger
	backend index.Backend
	engine  *index.Engine // the embedded engine; nil with another backend
	pool    *modelPool
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// openApp opens the engine in the data dir with the model pool wired in.
func openApp(ctx context.Context, e *env) (*app, error) {
	log := newLogger(e.cfg, e.stderr)
	pool := newModelPool(e.cfg, log)
	b, eng, err := openBackend(ctx, e.cfg, e.cfg.DataDir, log, pool)
	if err != nil {
		return nil, err
	}
	return &app{cfg: e.cfg, log: log, backend: b, engine: eng, pool: pool}, nil
}

// openBackend opens the configured index tier: the embedded engine in dir,
// or the Weaviate backend (then the returned *index.Engine is nil).
func openBackend(ctx context.Context, cfg Config, dir string, log *slog.Logger, pool *modelPool) (index.Backend, *index.Engine, error) {
	v := cfg.vectorOptions()
	if _, err := (ann.Config{Dims: 1, M: v.M, EfConstruction: v.EfConstruction, EfSearch: v.EfSearch}).Resolved(); err != nil {
		return nil, nil, fmt.Errorf("%w: hnsw_m %d / hnsw_ef_construction %d / hnsw_ef_search %d: want 2..256 / 1..%d / 1..%d (0: default)",
			data.ErrInvalid, v.M, v.EfConstruction, v.EfSearch, ann.MaxK, ann.MaxK)
	}
	switch cfg.Backend {
	case "", "embedded":
		eng, err := index.Open(ctx, index.Options{Dir: dir, Logger: log, Embedder: pool, Reranker: pool, Vector: cfg.vectorOptions()})
		if err != nil {
			return nil, nil, err
		}
		return eng, eng, nil
	case "weaviate":
		b, err := openWeaviate(ctx, cfg, log, pool)
		return b, nil, err
	}
	return nil, nil, fmt.Errorf("%w: backend %q: want embedded or weaviate", data.ErrInvalid, cfg.Backend)
}

// vectorOptions are the configured HNSW settings.
func (c Config) vectorOptions() index.VectorOptions {
	return index.VectorOptions{M: c.HNSWM, EfConstruction: c.HNSWEfConstruction, EfSearch: c.HNSWEfSearch, Quantize: c.VectorQuantize}
}

func openWeaviate(ctx context.Context, cfg Config, log *slog.Logger, pool *modelPool) (*weaviate.Backend, error) {
	b, err := weaviate.Open(ctx, weaviate.Config{URL: cfg.WeaviateURL, GRPC: cfg.WeaviateGRPC, APIKey: cfg.WeaviateKey,
		Replication: cfg.WeaviateReplication, Consistency: cfg.WeaviateConsistency, Embedder: pool, Reranker: pool, Logger: log,
		Vector: cfg.vectorOptions()})
	if err != nil {
		return nil, err
	}
	log.Info("weaviate backend", "url", cfg.WeaviateURL, "nodes", b.Nodes())
	return b, nil
}

// embedded returns the embedded engine, or says that the command needs it.
func (a *app) embedded(what string) (*index.Engine, error) {
	if a.engine == nil {
		return nil, fmt.Errorf("%w: %s works on the embedded backend only (this ragd uses --backend %s)", data.ErrUnsupported, what, a.cfg.Backend)
	}
	return a.engine, nil
}

func (a *app) Close() error { return a.backend.Close() }

// ensureIndex returns an index's config, creating the index (with the
// configured default model) when create is set and it does not exist.
func (a *app) ensureIndex(ctx context.Context, name, model string, create bool) (data.IndexConfig, error) {
	info, err := a.backend.Index(ctx, name)
	if err == nil {
		return info.IndexConfig, nil
	}
	if !create || !isNotFound(err) {
		return data.IndexConfig{}, err
	}
	cfg := data.IndexConfig{Name: name}
	if !noModel(model) {
		emb, err := a.pool.Embedder(ctx, model)
		if err != nil {
			return data.IndexConfig{}, err
		}
		cfg.Model, cfg.Dims, cfg.Metric = model, emb.Info().Dims, data.Cosine
	}
	return a.backend.CreateIndex(ctx, cfg)
}

// generator builds the configured answer generator.
func (a *app) generator(ctx context.Context) (generate.Generator, error) {
	g := a.cfg.Generator
	switch g {
	case "", "extractive":
		return extractive.New(extractive.Config{Logger: a.log}), nil
	case "openai":
		if a.cfg.OpenAIURL == "" {
			return nil, fmt.Errorf("%w: --generator openai needs --openai-url", data.ErrInvalid)
		}
		return openai.New(openai.Config{BaseURL: a.cfg.OpenAIURL, APIKey: a.cfg.OpenAIKey, Model: a.cfg.OpenAIModel, Logger: a.log})
	default:
		return a.loadLlama(ctx, g)
	}
}

func (a *app) loadLlama(ctx context.Context, path string) (*llama.Model, error) {
	libDir := filepath.Join(a.cfg.NodeDir, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
	if a.cfg.GPULayers > 0 {
		if cuda := filepath.Join(a.cfg.NodeDir, "node_modules", "@node-llama-cpp", "linux-x64-cuda", "bins", "linux-x64-cuda"); dirExists(cuda) {
			libDir = cuda
		}
	}
	return llama.Load(ctx, path, llama.Config{LibDir: libDir, Threads: a.cfg.Threads, ContextSize: a.cfg.CtxSize, GPULayers: a.cfg.GPULayers}, a.log)
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, data.ErrNotFound) }

// newFlags makes a FlagSet for a command with the config flags on it.
func newFlags(e *env, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { printCommandUsage(e.stderr, fs, usageLine) }
	addConfigFlags(fs, &e.cfg)
	return fs
}

// parseFlags parses flags anywhere among the arguments and returns the
// positional ones ("--" ends flag parsing).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &exitError{code: 2, err: fmt.Errorf("%w", err)}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func usageErr(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

// indexNames is []string{name}, or every index's name when name is empty.
func (a *app) indexNames(ctx context.Context, name string) ([]string, error) {
	if name != "" {
		return []string{name}, nil
	}
	infos, err := a.backend.Indexes(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(infos))
	for _, in := range infos {
		names = append(names, in.Name)
	}
	return names, nil
}
