// Package weaviate is ragd's index tier on a Weaviate cluster: the same
// index.Backend operations as the embedded engine (create, write, delete,
// list, BM25 / vector / hybrid search with filters and namespaces), run by
// Weaviate, so any number of stateless `ragd serve` processes can share one
// cluster.
//
// Layout in Weaviate, per ragd index NAME:
//
//   - a chunk collection (RagdC_<enc(NAME)>) with ragd's own vectors
//     (vectorizer none), the chunk text and title searchable by BM25, and one
//     filterable property per metadata key (m_<enc(key)>), created on first
//     use with exact-match ("field") tokenization;
//   - a document collection (RagdD_<enc(NAME)>, no vector index) holding each
//     document's text, title, source, hash, metadata and chunk count;
//   - one object in the registry collection (RagdIndexRegistry) holding the
//     index's configuration and its version (the cache key of every replica).
//
// Namespaces are a filtered property (m_namespace), not Weaviate tenants: a
// ragd search without a namespace spans all of them, which multi-tenancy
// cannot do (every request must name one tenant), and namespaces are
// usually many and small, which the filtered HNSW search handles well.
//
// Object ids are UUIDv5 of (index, document or chunk id), so a write is an
// idempotent upsert. Weaviate has no multi-object transactions: a document
// is written chunks first, then its record, then stale chunks are removed;
// a crash in between leaves extra chunks that the next write of the same
// document removes.
package weaviate

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/auth"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	wvgrpc "github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// Config configures the Weaviate backend.
type Config struct {
	// URL is Weaviate's REST address, e.g. http://127.0.0.1:8080.
	URL string
	// GRPC is Weaviate's gRPC host:port (default: the URL's host, port 50051).
	GRPC string
	// APIKey authenticates to Weaviate (optional).
	APIKey string
	// Replication is the replication factor of new indexes (0: 3, or the
	// number of nodes when the cluster has fewer).
	Replication int
	// Consistency is the consistency level of reads and writes: ONE,
	// QUORUM (default) or ALL.
	Consistency string
	// Vector holds HNSW parameters for new indexes.
	Vector index.VectorOptions
	// MaxTopK caps Query.TopK (default 1000).
	MaxTopK int
	// Timeout bounds each request to Weaviate (default 60 s).
	Timeout time.Duration
	// Logger receives operational messages.
	Logger *slog.Logger
}

// Backend is an index.Backend on Weaviate.
type Backend struct {
	cfg    Config
	c      *wv.Client
	log    *slog.Logger
	cl     string
	closed atomic.Bool
	// nodesSeen is the cluster's node count at Open or the latest
	// CreateIndex (it sets the default replication factor)
	nodesSeen atomic.Int32

	mu    sync.Mutex
	props map[string]map[string]string // class -> property -> data type
	cfgs  map[string]cachedConfig
}

type cachedConfig struct {
	cfg data.IndexConfig
	at  time.Time
}

var _ index.Backend = (*Backend)(nil)

const (
	registryClass = "RagdIndexRegistry"
	batchSize     = 250
	batchInFlight = 4
	// configTTL bounds how long a replica trusts its cached copy of an
	// index's configuration (dims are fixed by the first vector write,
	// possibly on another replica).
	configTTL = 2 * time.Second
)

// namespaceUUID seeds the UUIDv5 object ids.
var namespaceUUID = uuid.MustParse("3f1c5b8e-5a55-4b39-9a8e-7b2f0d6c1a11")

// Open connects to Weaviate, checks that it answers, and creates the
// registry collection when it does not exist.
func Open(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("%w: weaviate backend needs a URL (--weaviate-url)", data.ErrInvalid)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%w: weaviate URL %q: want http://host:port", data.ErrInvalid, cfg.URL)
	}
	if cfg.GRPC == "" {
		host := u.Hostname()
		cfg.GRPC = net.JoinHostPort(host, "50051")
	}
	if cfg.MaxTopK <= 0 {
		cfg.MaxTopK = 1000
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cl := strings.ToUpper(cfg.Consistency)
	switch cl {
	case "":
		cl = "QUORUM"
	case "ONE", "QUORUM", "ALL":
	default:
		return nil, fmt.Errorf("%w: weaviate consistency %q: want ONE, QUORUM or ALL", data.ErrInvalid, cfg.Consistency)
	}
	if cfg.Replication < 0 {
		return nil, fmt.Errorf("%w: weaviate replication %d", data.ErrInvalid, cfg.Replication)
	}
	wcfg := wv.Config{Host: u.Host, Scheme: u.Scheme, Timeout: cfg.Timeout,
		GrpcConfig: &wvgrpc.Config{Host: cfg.GRPC, Secured: u.Scheme == "https"}}
	if cfg.APIKey != "" {
		wcfg.AuthConfig = auth.ApiKey{Value: cfg.APIKey}
	}
	c, err := wv.NewClient(wcfg)
	if err != nil {
		return nil, fmt.Errorf("weaviate client: %w", err)
	}
	b := &Backend{cfg: cfg, c: c, log: cfg.Logger, cl: cl, props: map[string]map[string]string{}, cfgs: map[string]cachedConfig{}}
	live, err := c.Misc().ReadyChecker().Do(ctx)
	if err != nil || !live {
		return nil, fmt.Errorf("weaviate at %s is not ready: %w", cfg.URL, unavailable(err))
	}
	if err := b.countNodes(ctx); err != nil {
		return nil, err
	}
	if err := b.ensureRegistry(ctx); err != nil {
		return nil, err
	}
	if err := b.ensureState(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Nodes is the number of Weaviate nodes last seen (at Open or at the
// latest CreateIndex).
func (b *Backend) Nodes() int { return int(b.nodesSeen.Load()) }

// replication is the factor for new collections.
func (b *Backend) replication() int64 {
	if b.cfg.Replication > 0 {
		return int64(b.cfg.Replication)
	}
	return int64(max(1, min(int(b.nodesSeen.Load()), 3)))
}

// countNodes refreshes the node count that sets the default replication
// factor. It runs before each new index, not only at Open: a cluster
// still gossiping its members when ragd started, or grown since, must not
// leave new indexes with a single replica.
func (b *Backend) countNodes(ctx context.Context) error {
	nodes, err := b.c.Cluster().NodesStatusGetter().Do(ctx)
	if err != nil {
		return fmt.Errorf("weaviate nodes: %w", unavailable(err))
	}
	b.nodesSeen.Store(int32(len(nodes.Nodes)))
	return nil
}

func unavailable(err error) error {
	if err == nil {
		return data.ErrUnavailable
	}
	return fmt.Errorf("%w: %w", data.ErrUnavailable, err)
}

// wrap turns a client error into ragd's error kinds.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("weaviate %s: %w", op, err)
	}
	if isTooLarge(err) {
		return fmt.Errorf("weaviate %s: %w: the reply passes the Weaviate client's 4 MiB gRPC limit; ask for fewer results", op, data.ErrTooLarge)
	}
	var ce *fault.WeaviateClientError
	if errors.As(err, &ce) && ce.IsUnexpectedStatusCode {
		switch ce.StatusCode {
		case 404:
			return fmt.Errorf("weaviate %s: %w: %s", op, data.ErrNotFound, ce.Msg)
		case 422, 400:
			return fmt.Errorf("weaviate %s: %w: %s", op, data.ErrInvalid, ce.Msg)
		}
	}
	return fmt.Errorf("weaviate %s: %w: %w", op, data.ErrUnavailable, err)
}

// enc maps a ragd name onto Weaviate's name alphabet, injectively and
// without upper-case letters (Weaviate compares collection names without
// regard to case).
func enc(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			sb.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			sb.WriteString("_u")
			sb.WriteByte(c + 'a' - 'A')
		case c == '_':
			sb.WriteString("__")
		default:
			fmt.Fprintf(&sb, "_x%02x", c)
		}
	}
	return sb.String()
}

func chunkClass(name string) string { return "RagdC_" + enc(name) }
func docClass(name string) string   { return "RagdD_" + enc(name) }
func metaProp(key string) string    { return "m_" + enc(key) }

func objectID(parts ...string) string {
	return uuid.NewHash(sha1.New(), namespaceUUID, []byte(strings.Join(parts, "\x00")), 5).String()
}

func ptr[T any](v T) *T { return &v }

// textProp is a text property: searchable by BM25 (word tokens) or an
// exact-match filter field.
func textProp(name string, searchable, filterable bool) *models.Property {
	p := &models.Property{Name: name, DataType: []string{"text"}, IndexFilterable: ptr(filterable), IndexSearchable: ptr(searchable)}
	if searchable {
		p.Tokenization = "word"
	} else {
		p.Tokenization = "field"
	}
	return p
}

func intProp(name string, filterable bool) *models.Property {
	return &models.Property{Name: name, DataType: []string{"int"}, IndexFilterable: ptr(filterable), IndexRangeFilters: ptr(false)}
}

// regEntry is an index's registry object.
type regEntry struct {
	cfg     data.IndexConfig
	version uint64
}

// Flush is a no-op: Weaviate acknowledges writes once they are durable on
// the consistency level's replicas.
func (b *Backend) Flush() error { return nil }

// Close marks the backend closed.
func (b *Backend) Close() error {
	b.closed.Store(true)
	return nil
}

type docRec struct {
	ID, Hash, Source string
	Chunks           int
}

// docChunkPage is how many chunks one read of a document asks for.
const docChunkPage = 256
