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
	"github.com/ragd/ragd/rag"
)

// app is the wired-up system a command works with.
type app struct {
	cfg     Config
	log     *slog.Logger
	backend index.Backend
	engine  *index.Engine // the embedded engine; nil with another backend
	pool    *modelPool
	// cache is the embedding cache kept beside a backend that has none of
	// its own (Weaviate); nil on the embedded engine, which keeps its own.
	cache *index.Store
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
	a := &app{cfg: e.cfg, log: log, backend: b, engine: eng, pool: pool}
	a.cache = openSideCache(b, e.cfg.DataDir, log)
	return a, nil
}

// openSideCache opens an embedding cache in dir for a backend that keeps
// none of its own (nil for one that does), so that re-ingesting unchanged
// text embeds nothing on every backend. The cache only saves work: when it
// cannot be opened (another ragd process on this data dir holds it), the
// command goes on without one.
func openSideCache(b index.Backend, dir string, log *slog.Logger) *index.Store {
	if _, ok := b.(index.VectorCacher); ok {
		return nil
	}
	st, err := index.OpenStore(filepath.Join(dir, "embedcache.db"))
	if err != nil {
		log.Warn("embedding cache unavailable; embedding without it", "err", err)
		return nil
	}
	return st
}

// service is the retrieval service over the app's backend, models and
// embedding cache, answering with gen (nil: no Ask).
func (a *app) service(gen generate.Generator) *rag.Service {
	return newService(a.backend, a.pool, a.cache, gen, a.log)
}

// serviceConfig is the retrieval service's configuration for this app
// (bench builds one service per scheduler setting from it).
func (a *app) serviceConfig(gen generate.Generator) rag.Config {
	return serviceConfig(a.backend, a.pool, a.cache, gen, a.log)
}

// serviceConfig wires the backend, the model pool, the embedding cache
// and the generator into a rag.Config.
func serviceConfig(b index.Backend, pool *modelPool, cache *index.Store, gen generate.Generator, log *slog.Logger) rag.Config {
	rc := rag.Config{Backend: b, Models: poolAdapter{pool}, Reranker: pool, Generator: gen, Logger: log}
	if cache != nil {
		rc.Cache = cache
	}
	return rc
}

// newService wires the retrieval service.
func newService(b index.Backend, pool *modelPool, cache *index.Store, gen generate.Generator, log *slog.Logger) *rag.Service {
	svc, err := rag.New(serviceConfig(b, pool, cache, gen, log))
	if err != nil {
		panic(err) // only without a backend: a wiring bug
	}
	return svc
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
		eng, err := index.Open(ctx, index.Options{Dir: dir, Logger: log, Vector: cfg.vectorOptions()})
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
		Replication: cfg.WeaviateReplication, Consistency: cfg.WeaviateConsistency, Logger: log,
		Vector: cfg.vectorOptions()})
	if err != nil {
		return nil, err
	}
	log.Info("weaviate backend", "url", cfg.WeaviateURL, "nodes", b.Nodes())
	return b, nil
}

// capability returns the backend as the optional capability T
// (index.Checker, index.Snapshotter, ...), or says that the command needs
// a backend that has it.
func capability[T any](a *app, what string) (T, error) {
	c, ok := a.backend.(T)
	if !ok {
		return c, fmt.Errorf("%w: %s works on the embedded backend only (this ragd uses --backend %s)", data.ErrUnsupported, what, a.cfg.Backend)
	}
	return c, nil
}

func (a *app) Close() error {
	err := a.backend.Close()
	if a.cache != nil {
		err = errors.Join(err, a.cache.Close())
	}
	return err
}

// ensureIndex returns an index's config, creating the index (with the
// configured default model) when create is set and it does not exist.
func (a *app) ensureIndex(ctx context.Context, name, model string, create bool) (data.IndexConfig, error) {
	return a.ensureIndexWith(ctx, data.IndexConfig{Name: name, Model: model}, create)
}

// ensureIndexWith is ensureIndex creating the index as cfg describes.
func (a *app) ensureIndexWith(ctx context.Context, cfg data.IndexConfig, create bool) (data.IndexConfig, error) {
	info, err := a.backend.Index(ctx, cfg.Name)
	if err == nil {
		return info.IndexConfig, nil
	}
	if !create || !isNotFound(err) {
		return data.IndexConfig{}, err
	}
	info, err = a.service(nil).CreateIndex(ctx, cfg)
	return info.IndexConfig, err
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
