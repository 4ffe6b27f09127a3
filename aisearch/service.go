package aisearch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/google/uuid"
	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// Indexes is the storage AI Search manages itself: the index behind each
// instance and the documents an item wrote (index.Backend has it).
type Indexes interface {
	CreateIndex(ctx context.Context, cfg data.IndexConfig) (data.IndexConfig, error)
	DropIndex(ctx context.Context, name string) error
	Index(ctx context.Context, name string) (index.IndexInfo, error)
	DeleteDocuments(ctx context.Context, name string, ids []string) (deleted int, missing []string, err error)
	Document(ctx context.Context, name, id string) (data.Document, error)
}

// Models resolves installed embedding models by their ragd name; instance
// creation reads a model's dimensions from it.
type Models interface {
	Embedder(ctx context.Context, name string) (embed.Embedder, error)
}

// Retrieval is the retrieval service AI Search runs on (rag.Service): it
// ingests an item's documents into an instance's index (skipping
// unchanged ones before chunking and embedding, chunking and embedding
// the others with the index's model), searches an index, answers a
// question from one index as one event stream (Ask) or from hits merged
// from several (Answer, for namespace chat), and names its generator.
type Retrieval interface {
	Ingest(ctx context.Context, index string, docs []data.Document, opts rag.IngestOptions) (rag.IngestResult, error)
	Search(ctx context.Context, index string, q data.Query) ([]data.Hit, error)
	Ask(ctx context.Context, index string, req rag.AskRequest, emit func(rag.Event) error) (*rag.AskResult, error)
	Answer(ctx context.Context, question string, hits []data.Hit, opts generate.AnswerOptions, emit func(rag.Event) error) (*rag.AskResult, error)
	Generator() generate.Generator
}

// Config configures a Service.
type Config struct {
	// Indexes holds the instances' indexes (required).
	Indexes Indexes
	// Retrieval ingests, searches and answers (required).
	Retrieval Retrieval
	// Models gives new instances their embedding model's dimensions (nil:
	// only keyword-only instances can be created).
	Models Models
	// ResolveModel maps an instance's embedding_model setting to an
	// installed ragd model name; ok is false for names it does not know
	// (nil: the setting is the ragd name).
	ResolveModel func(name string) (model string, ok bool)
	// ModelHint, when set, is appended to errors about unknown models (the
	// installed models, say).
	ModelHint func() string
	// DefaultModel is the ragd embedding model of instances created
	// without embedding_model ("" or "none": keyword-only instances).
	DefaultModel string
	// State keeps namespaces, instances and items (nil: JSON files in Dir,
	// memory only when Dir is empty too).
	State state.Store
	// Dir holds uploads until they are indexed (in memory when empty).
	Dir string
	// Replica names this process on the items whose uploads it holds
	// (default: host name and Dir).
	Replica string
	// MaxItemBytes bounds one uploaded file (default DefaultMaxItemBytes).
	MaxItemBytes int64
	// Logger receives background failures (default: discard).
	Logger *slog.Logger
}

// Service is AI Search: namespaces, instances, items with their
// background indexing queue, search and chat. It is safe for concurrent
// use; Close stops the queue's worker.
type Service struct {
	cfg Config
	log *slog.Logger
	ais *aisStore

	mu    sync.Mutex
	locks map[string]*sync.Mutex

	worker    *itemWorker
	closeOnce sync.Once
}

// New returns a Service and starts its worker, which first requeues the
// items an earlier run of this replica left unfinished.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxItemBytes <= 0 {
		cfg.MaxItemBytes = DefaultMaxItemBytes
	}
	if cfg.State == nil {
		cfg.State = state.NewFileStore(cfg.Dir)
	}
	if cfg.Replica == "" {
		host, _ := os.Hostname()
		cfg.Replica = host + ":" + cfg.Dir
	}
	s := &Service{cfg: cfg, log: cfg.Logger, locks: map[string]*sync.Mutex{},
		ais: newAISStore(cfg.State, cfg.Dir, cfg.Replica, cfg.Logger)}
	s.startWorker()
	return s
}

// Close stops the item worker: the item being indexed, if any, is
// cancelled and stays queued, with its upload kept, so the next start
// indexes it. Call it before closing the indexes. It is safe to call twice.
func (s *Service) Close() {
	s.closeOnce.Do(s.worker.stop)
}

// MaxItemBytes is the configured bound on one uploaded file.
func (s *Service) MaxItemBytes() int64 { return s.cfg.MaxItemBytes }

// WriteLock is the lock that orders writes to one index: uploads of one
// key, an item's indexing and its deletion here, and any other writer of
// the same indexes that takes it too (the Vectorize routes do).
func (s *Service) WriteLock(name string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locks[name]
	if !ok {
		l = &sync.Mutex{}
		s.locks[name] = l
	}
	return l
}

func (s *Service) modelHint() string {
	if s.cfg.ModelHint == nil {
		return ""
	}
	return s.cfg.ModelHint()
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{data.ErrInvalid}, a...)...)
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{data.ErrUnsupported}, a...)...)
}

func isNotFound(err error) bool { return errors.Is(err, data.ErrNotFound) }

// newID returns a random UUID (version 4): item ids.
func newID() string { return uuid.NewString() }
