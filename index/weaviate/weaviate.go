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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/auth"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
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

func (b *Backend) ensureRegistry(ctx context.Context) error {
	return b.ensureClass(ctx, &models.Class{
		Class:             registryClass,
		Description:       "ragd: one object per index (configuration and version)",
		Vectorizer:        "none",
		VectorIndexConfig: map[string]any{"skip": true},
		ReplicationConfig: &models.ReplicationConfig{Factor: b.replication()},
		Properties: []*models.Property{
			textProp("name", false, true),
			textProp("config", false, false),
			textProp("version", false, false),
		},
	})
}

// ensureClass creates one of ragd's own collections unless it exists;
// another replica creating it at the same moment is no error.
func (b *Backend) ensureClass(ctx context.Context, cls *models.Class) error {
	ok, err := b.c.Schema().ClassExistenceChecker().WithClassName(cls.Class).Do(ctx)
	if err != nil {
		return wrap("schema", err)
	}
	if ok {
		return nil
	}
	if err := b.c.Schema().ClassCreator().WithClass(cls).Do(ctx); err != nil {
		if ok, err2 := b.c.Schema().ClassExistenceChecker().WithClassName(cls.Class).Do(ctx); err2 == nil && ok {
			return nil
		}
		return wrap("create collection "+cls.Class, err)
	}
	return nil
}

// regEntry is an index's registry object.
type regEntry struct {
	cfg     data.IndexConfig
	version uint64
}

func (b *Backend) readRegistry(ctx context.Context, name string) (regEntry, error) {
	s := b.c.Experimental().Search().WithCollection(registryClass).WithConsistencyLevel(b.cl).WithLimit(2).
		WithProperties("name", "config", "version")
	if name != "" {
		s = s.WithWhere(filters.Where().WithPath([]string{"name"}).WithOperator(filters.Equal).WithValueText(name))
	}
	res, err := s.Do(ctx)
	if err != nil {
		return regEntry{}, wrap("registry", err)
	}
	for _, r := range res {
		e, err := parseRegistry(r.Properties)
		if err != nil {
			return regEntry{}, err
		}
		if e.cfg.Name == name {
			b.mu.Lock()
			b.cfgs[name] = cachedConfig{cfg: e.cfg, at: time.Now()}
			b.mu.Unlock()
			return e, nil
		}
	}
	b.mu.Lock()
	delete(b.cfgs, name)
	b.mu.Unlock()
	return regEntry{}, fmt.Errorf("index %q: %w", name, data.ErrNotFound)
}

func parseRegistry(p map[string]any) (regEntry, error) {
	var e regEntry
	cfgJSON, _ := p["config"].(string)
	if err := json.Unmarshal([]byte(cfgJSON), &e.cfg); err != nil {
		return e, fmt.Errorf("weaviate registry: bad config for %v: %w", p["name"], err)
	}
	v, _ := p["version"].(string)
	e.version, _ = strconv.ParseUint(v, 10, 64)
	return e, nil
}

func (b *Backend) listRegistry(ctx context.Context) ([]regEntry, error) {
	var out []regEntry
	after := ""
	for {
		s := b.c.Experimental().Search().WithCollection(registryClass).WithConsistencyLevel(b.cl).WithLimit(1000).
			WithProperties("name", "config", "version")
		if after != "" {
			s = s.WithAfter(after)
		}
		res, err := s.Do(ctx)
		if err != nil {
			return nil, wrap("registry", err)
		}
		for _, r := range res {
			e, err := parseRegistry(r.Properties)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			after = r.ID
		}
		if len(res) < 1000 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cfg.Name < out[j].cfg.Name })
	return out, nil
}

// writeRegistry upserts an index's registry object with a new version.
func (b *Backend) writeRegistry(ctx context.Context, cfg data.IndexConfig, prev uint64) (uint64, error) {
	v := max(uint64(time.Now().UnixMicro()), prev+1)
	cj, err := json.Marshal(cfg)
	if err != nil {
		return 0, err
	}
	obj := &models.Object{Class: registryClass, ID: strfmtUUID(objectID("index", cfg.Name)),
		Properties: map[string]any{"name": cfg.Name, "config": string(cj), "version": strconv.FormatUint(v, 10)}}
	if err := b.batch(ctx, []*models.Object{obj}); err != nil {
		return 0, err
	}
	b.mu.Lock()
	b.cfgs[cfg.Name] = cachedConfig{cfg: cfg, at: time.Now()}
	b.mu.Unlock()
	return v, nil
}

// config returns an index's configuration, from a short-lived cache.
func (b *Backend) config(ctx context.Context, name string) (data.IndexConfig, error) {
	if b.closed.Load() {
		return data.IndexConfig{}, data.ErrClosed
	}
	b.mu.Lock()
	cc, ok := b.cfgs[name]
	b.mu.Unlock()
	if ok && time.Since(cc.at) < configTTL {
		return cc.cfg, nil
	}
	e, err := b.readRegistry(ctx, name)
	return e.cfg, err
}

// IndexConfig returns an index's configuration (cached for a moment).
func (b *Backend) IndexConfig(ctx context.Context, name string) (data.IndexConfig, error) {
	return b.config(ctx, name)
}

// CreateIndex creates the index's collections and registers it.
func (b *Backend) CreateIndex(ctx context.Context, cfg data.IndexConfig) (data.IndexConfig, error) {
	cfg, err := index.CheckIndexConfig(cfg)
	if err != nil {
		return cfg, err
	}
	if _, err := b.readRegistry(ctx, cfg.Name); err == nil {
		return cfg, fmt.Errorf("index %q: %w", cfg.Name, data.ErrExists)
	} else if !errors.Is(err, data.ErrNotFound) {
		return cfg, err
	}
	if b.cfg.Replication == 0 {
		if err := b.countNodes(ctx); err != nil {
			return cfg, err
		}
	}
	// Leftovers of an index dropped half-way must not leak into this one.
	for _, cls := range []string{chunkClass(cfg.Name), docClass(cfg.Name)} {
		if err := b.dropClass(ctx, cls); err != nil {
			return cfg, err
		}
	}
	distance := map[data.Metric]string{data.Cosine: "cosine", data.Dot: "dot", data.L2: "l2-squared"}[cfg.Metric]
	vo := b.cfg.Vector
	hnsw := map[string]any{"distance": distance,
		"maxConnections": cmpOr(vo.M, 16), "efConstruction": cmpOr(vo.EfConstruction, 200), "ef": cmpOr(vo.EfSearch, 100)}
	if vo.Quantize {
		hnsw["sq"] = map[string]any{"enabled": true}
	}
	// Async replication repairs a replica that missed writes while it was
	// down, in the background, instead of only on the objects a read hits.
	rep := &models.ReplicationConfig{Factor: b.replication(), AsyncEnabled: b.replication() > 1}
	chunks := &models.Class{
		Class:             chunkClass(cfg.Name),
		Description:       "ragd chunks of index " + cfg.Name,
		Vectorizer:        "none",
		VectorIndexType:   "hnsw",
		VectorIndexConfig: hnsw,
		ReplicationConfig: rep,
		InvertedIndexConfig: &models.InvertedIndexConfig{
			Bm25: &models.BM25Config{K1: 1.2, B: 0.75},
		},
		Properties: []*models.Property{
			textProp("doc_id", false, true),
			textProp("chunk_id", false, true),
			intProp("ordinal", true),
			textProp("text", true, false),
			textProp("title", true, false),
			textProp("source", false, false),
			intProp("start", false),
			intProp("end", false),
			textProp("headings_json", false, false),
			textProp("meta_json", false, false),
		},
	}
	docs := &models.Class{
		Class:             docClass(cfg.Name),
		Description:       "ragd documents of index " + cfg.Name,
		Vectorizer:        "none",
		VectorIndexConfig: map[string]any{"skip": true},
		ReplicationConfig: rep,
		Properties: []*models.Property{
			textProp("doc_id", false, true),
			textProp("title", false, false),
			textProp("text", false, false),
			textProp("source", false, false),
			textProp("hash", false, false),
			textProp("meta_json", false, false),
			textProp("updated_at", false, false),
			intProp("chunks", false),
		},
	}
	for _, cls := range []*models.Class{chunks, docs} {
		if err := b.c.Schema().ClassCreator().WithClass(cls).Do(ctx); err != nil {
			return cfg, wrap("create collection "+cls.Class, err)
		}
	}
	if _, err := b.writeRegistry(ctx, cfg, 0); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func (b *Backend) dropClass(ctx context.Context, cls string) error {
	ok, err := b.c.Schema().ClassExistenceChecker().WithClassName(cls).Do(ctx)
	if err != nil {
		return wrap("schema", err)
	}
	if !ok {
		return nil
	}
	if err := b.c.Schema().ClassDeleter().WithClassName(cls).Do(ctx); err != nil {
		return wrap("drop "+cls, err)
	}
	b.mu.Lock()
	delete(b.props, cls)
	b.mu.Unlock()
	return nil
}

// DropIndex unregisters the index, then drops its collections.
func (b *Backend) DropIndex(ctx context.Context, name string) error {
	if _, err := b.readRegistry(ctx, name); err != nil {
		return err
	}
	del := b.c.Batch().ObjectsBatchDeleter().WithClassName(registryClass).WithConsistencyLevel(b.cl).
		WithWhere(filters.Where().WithPath([]string{"name"}).WithOperator(filters.Equal).WithValueText(name))
	if _, err := del.Do(ctx); err != nil {
		return wrap("unregister", err)
	}
	b.mu.Lock()
	delete(b.cfgs, name)
	b.mu.Unlock()
	for _, cls := range []string{chunkClass(name), docClass(name)} {
		if err := b.dropClass(ctx, cls); err != nil {
			return err
		}
	}
	return nil
}

// Indexes lists every registered index with its statistics.
func (b *Backend) Indexes(ctx context.Context) ([]index.IndexInfo, error) {
	regs, err := b.listRegistry(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]index.IndexInfo, 0, len(regs))
	for _, r := range regs {
		info, err := b.info(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Index describes one index.
func (b *Backend) Index(ctx context.Context, name string) (index.IndexInfo, error) {
	r, err := b.readRegistry(ctx, name)
	if err != nil {
		return index.IndexInfo{}, err
	}
	return b.info(ctx, r)
}

func (b *Backend) info(ctx context.Context, r regEntry) (index.IndexInfo, error) {
	docs, err := b.count(ctx, docClass(r.cfg.Name))
	if err != nil {
		return index.IndexInfo{}, err
	}
	chunks, err := b.count(ctx, chunkClass(r.cfg.Name))
	if err != nil {
		return index.IndexInfo{}, err
	}
	vecs := 0
	if r.cfg.Dims > 0 {
		vecs = chunks
	}
	return index.IndexInfo{IndexConfig: r.cfg, Stats: data.IndexStats{Documents: docs, Chunks: chunks, Vectors: vecs, Version: r.version}}, nil
}

func (b *Backend) count(ctx context.Context, cls string) (int, error) {
	res, err := b.c.GraphQL().Aggregate().WithClassName(cls).
		WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}).Do(ctx)
	if err != nil {
		return 0, wrap("count", err)
	}
	if len(res.Errors) > 0 {
		return 0, fmt.Errorf("weaviate count %s: %w: %s", cls, data.ErrUnavailable, res.Errors[0].Message)
	}
	agg, _ := res.Data["Aggregate"].(map[string]any)
	rows, _ := agg[cls].([]any)
	if len(rows) == 0 {
		return 0, nil
	}
	row, _ := rows[0].(map[string]any)
	meta, _ := row["meta"].(map[string]any)
	n, _ := meta["count"].(float64)
	return int(n), nil
}

// Version reads the index's version from the registry; 0 when it cannot
// (callers then do not cache).
func (b *Backend) Version(ctx context.Context, name string) uint64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	e, err := b.readRegistry(ctx, name)
	if err != nil {
		return 0
	}
	return e.version
}

// Flush is a no-op: Weaviate acknowledges writes once they are durable on
// the consistency level's replicas.
func (b *Backend) Flush() error { return nil }

// Close marks the backend closed.
func (b *Backend) Close() error {
	b.closed.Store(true)
	return nil
}

// batch upserts objects over gRPC in slices of batchSize, up to
// batchInFlight at once, and fails on the first object Weaviate rejects.
func (b *Backend) batch(ctx context.Context, objs []*models.Object) error {
	var parts [][]*models.Object
	for len(objs) > 0 {
		n := min(len(objs), batchSize)
		parts, objs = append(parts, objs[:n]), objs[n:]
	}
	sem := make(chan struct{}, batchInFlight)
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			// Upserts by deterministic id are idempotent, so a batch that
			// failed on the way (a replica timing out under load) is sent
			// again, twice at most, before the write fails.
			for attempt := 0; ; attempt++ {
				errs[i] = b.sendBatch(ctx, part)
				if errs[i] == nil || attempt == 2 || errors.Is(errs[i], data.ErrInvalid) || ctx.Err() != nil {
					return
				}
				b.log.Warn("weaviate batch failed; retrying", "attempt", attempt+1, "err", errs[i])
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Duration(attempt+1) * time.Second):
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sendBatch sends one batch and returns the first object error.
func (b *Backend) sendBatch(ctx context.Context, part []*models.Object) error {
	res, err := b.c.Batch().ObjectsBatcher().WithConsistencyLevel(b.cl).WithObjects(part...).Do(ctx)
	if err != nil {
		return wrap("batch", err)
	}
	for _, r := range res {
		if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 {
			return fmt.Errorf("weaviate batch: %w: %s", data.ErrUnavailable, r.Result.Errors.Error[0].Message)
		}
	}
	return nil
}

// existing returns doc id -> (hash, chunks) for the given ids that exist.
func (b *Backend) existing(ctx context.Context, name string, ids []string) (map[string]docRec, error) {
	out := make(map[string]docRec, len(ids))
	for start := 0; start < len(ids); start += 1000 {
		part := ids[start:min(len(ids), start+1000)]
		res, err := b.c.Experimental().Search().WithCollection(docClass(name)).WithConsistencyLevel(b.cl).
			WithLimit(len(part)).WithProperties("doc_id", "hash", "chunks", "source").
			WithWhere(filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.ContainsAny).WithValueText(part...)).
			Do(ctx)
		if err != nil {
			return nil, wrap("read documents", err)
		}
		for _, r := range res {
			d := docFromProps(r.Properties)
			out[d.ID] = d
		}
	}
	return out, nil
}

type docRec struct {
	ID, Hash, Source string
	Chunks           int
}

func docFromProps(p map[string]any) docRec {
	s := func(k string) string { v, _ := p[k].(string); return v }
	return docRec{ID: s("doc_id"), Hash: s("hash"), Source: s("source"), Chunks: asInt(p["chunks"])}
}

func asInt(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case float64:
		return int(x)
	case int:
		return x
	}
	return 0
}

// PutDocuments writes documents: chunks (with vectors) first, then the
// document records, then any chunks left over from a longer old version.
func (b *Backend) PutDocuments(ctx context.Context, name string, docs []data.Document, force bool) (index.PutResult, error) {
	reg, err := b.readRegistry(ctx, name)
	if err != nil {
		return index.PutResult{}, err
	}
	cfg := reg.cfg
	dims, err := index.PrepareDocuments(cfg, docs)
	if err != nil {
		return index.PutResult{}, err
	}
	ids := make([]string, len(docs))
	for i := range docs {
		ids[i] = docs[i].ID
	}
	old, err := b.existing(ctx, name, ids)
	if err != nil {
		return index.PutResult{}, err
	}
	var res index.PutResult
	var chunkObjs, docObjs []*models.Object
	meta := map[string]string{}
	for i := range docs {
		d := &docs[i]
		if o, ok := old[d.ID]; ok && !force && o.Hash == d.Hash {
			res.Skipped++
			continue
		}
		res.Written++
		res.Chunks += len(d.Chunks)
		props, err := metaProps(d.Metadata, meta)
		if err != nil {
			return index.PutResult{}, fmt.Errorf("document %q: %w", d.ID, err)
		}
		mj, err := json.Marshal(d.Metadata)
		if err != nil {
			return index.PutResult{}, fmt.Errorf("%w: document %q metadata: %w", data.ErrInvalid, d.ID, err)
		}
		for j, c := range d.Chunks {
			hj, _ := json.Marshal(c.Headings)
			p := map[string]any{"doc_id": d.ID, "chunk_id": c.ID, "ordinal": int64(j), "text": c.Text, "title": d.Title,
				"source": d.Source, "start": int64(c.Start), "end": int64(c.End), "headings_json": string(hj), "meta_json": string(mj)}
			for k, v := range props {
				p[k] = v
			}
			o := &models.Object{Class: chunkClass(name), ID: strfmtUUID(objectID(name, "chunk", c.ID)), Properties: p}
			if len(c.Vector) > 0 {
				o.Vector = c.Vector
			}
			chunkObjs = append(chunkObjs, o)
		}
		docObjs = append(docObjs, &models.Object{Class: docClass(name), ID: strfmtUUID(objectID(name, "doc", d.ID)),
			Properties: map[string]any{"doc_id": d.ID, "title": d.Title, "text": d.Text, "source": d.Source, "hash": d.Hash,
				"meta_json": string(mj), "updated_at": d.UpdatedAt.Format(time.RFC3339Nano), "chunks": int64(len(d.Chunks))}})
	}
	if res.Written == 0 {
		return res, nil
	}
	cfg.Dims = dims // fixed by this write when the index had no vectors yet
	if err := b.ensureMetaProps(ctx, chunkClass(name), meta); err != nil {
		return index.PutResult{}, err
	}
	t0 := time.Now()
	if err := b.batch(ctx, chunkObjs); err != nil {
		return index.PutResult{}, err
	}
	t1 := time.Now()
	if err := b.batch(ctx, docObjs); err != nil {
		return index.PutResult{}, err
	}
	b.log.Debug("weaviate write", "index", name, "chunks", len(chunkObjs), "chunks_s", t1.Sub(t0).Seconds(), "docs_s", time.Since(t1).Seconds())
	for i := range docs {
		d := &docs[i]
		if o, ok := old[d.ID]; ok && o.Chunks > len(d.Chunks) && (force || o.Hash != d.Hash) {
			w := filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
				filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.Equal).WithValueText(d.ID),
				filters.Where().WithPath([]string{"ordinal"}).WithOperator(filters.GreaterThanEqual).WithValueInt(int64(len(d.Chunks))),
			})
			if _, err := b.c.Batch().ObjectsBatchDeleter().WithClassName(chunkClass(name)).WithConsistencyLevel(b.cl).WithWhere(w).Do(ctx); err != nil {
				return index.PutResult{}, wrap("delete stale chunks", err)
			}
		}
	}
	if _, err := b.writeRegistry(ctx, cfg, reg.version); err != nil {
		return index.PutResult{}, err
	}
	return res, nil
}

// metaProps maps metadata onto Weaviate properties, recording each
// property's data type in types (conflicting types are an error).
func metaProps(meta map[string]any, types map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(meta))
	for k, v := range meta {
		val, typ, err := metaValue(v)
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", k, err)
		}
		if typ == "" {
			continue
		}
		p := metaProp(k)
		if len(p) > 230 {
			return nil, fmt.Errorf("%w: metadata key %q is too long for the weaviate backend", data.ErrInvalid, k)
		}
		if t, ok := types[p]; ok && t != typ {
			return nil, fmt.Errorf("%w: metadata %q is %s in one document and %s in another; the weaviate backend needs one type per key", data.ErrInvalid, k, t, typ)
		}
		types[p] = typ
		out[p] = val
	}
	return out, nil
}

func metaValue(v any) (any, string, error) {
	switch x := v.(type) {
	case nil:
		return nil, "", nil
	case string:
		return x, "text", nil
	case bool:
		return x, "boolean", nil
	case float64:
		return x, "number", nil
	case float32:
		return float64(x), "number", nil
	case int:
		return float64(x), "number", nil
	case int64:
		return float64(x), "number", nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", data.ErrInvalid, err)
		}
		return f, "number", nil
	case []string:
		if len(x) == 0 {
			return nil, "", nil
		}
		return x, "text[]", nil
	case []any:
		if len(x) == 0 {
			return nil, "", nil
		}
		var typ string
		strs, nums, bools := []string{}, []float64{}, []bool{}
		for _, e := range x {
			ev, et, err := metaValue(e)
			if err != nil {
				return nil, "", err
			}
			if et == "" || strings.HasSuffix(et, "[]") || (typ != "" && et != typ) {
				return nil, "", fmt.Errorf("%w: the weaviate backend stores arrays of one scalar type only", data.ErrInvalid)
			}
			typ = et
			switch t := ev.(type) {
			case string:
				strs = append(strs, t)
			case float64:
				nums = append(nums, t)
			case bool:
				bools = append(bools, t)
			}
		}
		switch typ {
		case "text":
			return strs, "text[]", nil
		case "number":
			return nums, "number[]", nil
		default:
			return bools, "boolean[]", nil
		}
	}
	return nil, "", fmt.Errorf("%w: unsupported metadata value of type %T", data.ErrInvalid, v)
}

// loadProps reads a class's property types into the cache.
func (b *Backend) loadProps(ctx context.Context, cls string) (map[string]string, error) {
	c, err := b.c.Schema().ClassGetter().WithClassName(cls).Do(ctx)
	if err != nil {
		return nil, wrap("schema", err)
	}
	m := make(map[string]string, len(c.Properties))
	for _, p := range c.Properties {
		if len(p.DataType) > 0 {
			m[p.Name] = p.DataType[0]
		}
	}
	b.mu.Lock()
	b.props[cls] = m
	b.mu.Unlock()
	return m, nil
}

func (b *Backend) propTypes(ctx context.Context, cls string, refresh bool) (map[string]string, error) {
	b.mu.Lock()
	m, ok := b.props[cls]
	b.mu.Unlock()
	if ok && !refresh {
		return m, nil
	}
	return b.loadProps(ctx, cls)
}

// ensureMetaProps creates missing metadata properties as exact-match,
// filterable fields, and refuses a type that differs from the stored one.
func (b *Backend) ensureMetaProps(ctx context.Context, cls string, want map[string]string) error {
	if len(want) == 0 {
		return nil
	}
	have, err := b.propTypes(ctx, cls, false)
	if err != nil {
		return err
	}
	for refreshed := false; ; refreshed = true {
		missing := false
		for p, t := range want {
			if ht, ok := have[p]; !ok {
				missing = true
			} else if ht != t {
				return fmt.Errorf("%w: metadata property %s holds %s in this index, not %s", data.ErrInvalid, strings.TrimPrefix(p, "m_"), ht, t)
			}
		}
		if !missing || refreshed {
			break
		}
		if have, err = b.propTypes(ctx, cls, true); err != nil {
			return err
		}
	}
	for p, t := range want {
		if _, ok := have[p]; ok {
			continue
		}
		prop := &models.Property{Name: p, DataType: []string{t}, IndexFilterable: ptr(true), IndexSearchable: ptr(false)}
		if strings.HasPrefix(t, "text") {
			prop.Tokenization = "field"
		}
		if strings.HasPrefix(t, "number") {
			prop.IndexRangeFilters = ptr(false)
		}
		if err := b.c.Schema().PropertyCreator().WithClassName(cls).WithProperty(prop).Do(ctx); err != nil {
			// Another writer may have added it meanwhile.
			if have2, err2 := b.propTypes(ctx, cls, true); err2 == nil && have2[p] == t {
				have = have2
				continue
			}
			return wrap("add property "+p, err)
		}
		b.mu.Lock()
		if b.props[cls] != nil {
			b.props[cls][p] = t
		}
		b.mu.Unlock()
	}
	return nil
}

// DeleteDocuments removes documents and their chunks.
func (b *Backend) DeleteDocuments(ctx context.Context, name string, ids []string) (int, []string, error) {
	reg, err := b.readRegistry(ctx, name)
	if err != nil {
		return 0, nil, err
	}
	old, err := b.existing(ctx, name, ids)
	if err != nil {
		return 0, nil, err
	}
	var found, missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, ok := old[id]; ok {
			found = append(found, id)
		} else {
			missing = append(missing, id)
		}
	}
	if len(found) == 0 {
		return 0, missing, nil
	}
	for start := 0; start < len(found); start += 1000 {
		part := found[start:min(len(found), start+1000)]
		for _, cls := range []string{chunkClass(name), docClass(name)} {
			w := filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.ContainsAny).WithValueText(part...)
			if _, err := b.c.Batch().ObjectsBatchDeleter().WithClassName(cls).WithConsistencyLevel(b.cl).WithWhere(w).Do(ctx); err != nil {
				return 0, nil, wrap("delete", err)
			}
		}
	}
	if _, err := b.writeRegistry(ctx, reg.cfg, reg.version); err != nil {
		return 0, nil, err
	}
	return len(found), missing, nil
}

// Document returns a document with its chunks.
func (b *Backend) Document(ctx context.Context, name, id string) (data.Document, error) {
	return b.document(ctx, name, id, false)
}

// DocumentVectors returns a document with its chunks and their vectors.
func (b *Backend) DocumentVectors(ctx context.Context, name, id string) (data.Document, error) {
	return b.document(ctx, name, id, true)
}

func (b *Backend) document(ctx context.Context, name, id string, vectors bool) (data.Document, error) {
	if _, err := b.config(ctx, name); err != nil {
		return data.Document{}, err
	}
	// The record holds the whole text, which may pass the 4 MiB cap the
	// client puts on gRPC replies: it is read over REST, by id.
	p, err := b.getObject(ctx, docClass(name), objectID(name, "doc", id))
	if err != nil {
		return data.Document{}, fmt.Errorf("read document: %w", err)
	}
	if p == nil {
		return data.Document{}, fmt.Errorf("document %q: %w", id, data.ErrNotFound)
	}
	d := docFromFull(p)
	n := asInt(p["chunks"])
	// Chunks come in pages of ordinals; a page over the gRPC cap is read
	// again in halves.
	for lo, size := 0, docChunkPage; lo < n; {
		hi := min(n, lo+size)
		cs, err := b.chunkRange(ctx, name, id, lo, hi, vectors)
		if isTooLarge(err) && size > 1 {
			size /= 2
			continue
		}
		if err != nil {
			return data.Document{}, err
		}
		d.Chunks = append(d.Chunks, cs...)
		lo = hi
	}
	sort.Slice(d.Chunks, func(i, j int) bool { return d.Chunks[i].Ordinal < d.Chunks[j].Ordinal })
	return d, nil
}

// docChunkPage is how many chunks one read of a document asks for.
const docChunkPage = 256

// chunkRange reads the chunks of document id with ordinals in [lo, hi).
func (b *Backend) chunkRange(ctx context.Context, name, id string, lo, hi int, vectors bool) ([]data.Chunk, error) {
	s := b.c.Experimental().Search().WithCollection(chunkClass(name)).WithConsistencyLevel(b.cl).WithLimit(hi-lo).
		WithProperties("doc_id", "chunk_id", "ordinal", "text", "start", "end", "headings_json").
		WithWhere(filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
			filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.Equal).WithValueText(id),
			filters.Where().WithPath([]string{"ordinal"}).WithOperator(filters.GreaterThanEqual).WithValueInt(int64(lo)),
			filters.Where().WithPath([]string{"ordinal"}).WithOperator(filters.LessThan).WithValueInt(int64(hi)),
		}))
	if vectors {
		s = s.WithMetadata(&graphql.Metadata{ID: true, Vector: true})
	}
	res, err := s.Do(ctx)
	if err != nil {
		if isTooLarge(err) {
			return nil, err
		}
		return nil, wrap("read chunks", err)
	}
	out := make([]data.Chunk, 0, len(res))
	for _, r := range res {
		c := chunkFromProps(r.Properties)
		if vectors {
			c.Vector = r.Vector
		}
		out = append(out, c)
	}
	return out, nil
}

// isTooLarge reports a gRPC reply over the client's size cap.
func isTooLarge(err error) bool {
	return err != nil && strings.Contains(err.Error(), "ResourceExhausted")
}

func docFromFull(p map[string]any) data.Document {
	s := func(k string) string { v, _ := p[k].(string); return v }
	d := data.Document{ID: s("doc_id"), Title: s("title"), Text: s("text"), Source: s("source"), Hash: s("hash")}
	if mj := s("meta_json"); mj != "" && mj != "null" {
		_ = json.Unmarshal([]byte(mj), &d.Metadata)
	}
	d.UpdatedAt, _ = time.Parse(time.RFC3339Nano, s("updated_at"))
	return d
}

func chunkFromProps(p map[string]any) data.Chunk {
	s := func(k string) string { v, _ := p[k].(string); return v }
	c := data.Chunk{ID: s("chunk_id"), DocID: s("doc_id"), Ordinal: asInt(p["ordinal"]), Text: s("text"),
		Start: asInt(p["start"]), End: asInt(p["end"])}
	if hj := s("headings_json"); hj != "" && hj != "null" {
		_ = json.Unmarshal([]byte(hj), &c.Headings)
	}
	return c
}

// Documents pages through documents in id order after the cursor.
func (b *Backend) Documents(ctx context.Context, name, after string, limit int) ([]index.DocumentSummary, error) {
	if _, err := b.config(ctx, name); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 10000)
	s := b.c.Experimental().Search().WithCollection(docClass(name)).WithConsistencyLevel(b.cl).WithLimit(limit).
		WithProperties("doc_id", "title", "source", "hash", "meta_json", "updated_at", "chunks").
		WithSort(graphql.Sort{Path: []string{"doc_id"}, Order: graphql.Asc})
	if after != "" {
		s = s.WithWhere(filters.Where().WithPath([]string{"doc_id"}).WithOperator(filters.GreaterThan).WithValueText(after))
	}
	res, err := s.Do(ctx)
	if err != nil {
		return nil, wrap("list documents", err)
	}
	out := make([]index.DocumentSummary, 0, len(res))
	for _, r := range res {
		d := docFromFull(r.Properties)
		out = append(out, index.DocumentSummary{ID: d.ID, Title: d.Title, Source: d.Source, Metadata: d.Metadata,
			Hash: d.Hash, Chunks: asInt(r.Properties["chunks"]), UpdatedAt: d.UpdatedAt})
	}
	// Weaviate sorts text by its own collation; ragd pages in byte order.
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// eachDoc walks every document record of an index.
func (b *Backend) eachDoc(ctx context.Context, name string, fn func(docRec)) error {
	if _, err := b.config(ctx, name); err != nil {
		return err
	}
	after := ""
	for {
		s := b.c.Experimental().Search().WithCollection(docClass(name)).WithConsistencyLevel(b.cl).WithLimit(1000).
			WithProperties("doc_id", "hash", "source", "chunks")
		if after != "" {
			s = s.WithAfter(after)
		}
		res, err := s.Do(ctx)
		if err != nil {
			return wrap("list documents", err)
		}
		for _, r := range res {
			fn(docFromProps(r.Properties))
			after = r.ID
		}
		if len(res) < 1000 {
			return nil
		}
	}
}

// DocumentHashes returns id -> content hash for every document.
func (b *Backend) DocumentHashes(ctx context.Context, name string) (map[string]string, error) {
	out := map[string]string{}
	err := b.eachDoc(ctx, name, func(d docRec) { out[d.ID] = d.Hash })
	return out, err
}

// DocumentSources returns id -> source for every document.
func (b *Backend) DocumentSources(ctx context.Context, name string) (map[string]string, error) {
	out := map[string]string{}
	err := b.eachDoc(ctx, name, func(d docRec) { out[d.ID] = d.Source })
	return out, err
}

// Search runs a BM25, vector or hybrid query in Weaviate.
func (b *Backend) Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error) {
	cfg, err := b.config(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := index.NormalizeQuery(&q, cfg, false, b.cfg.MaxTopK); err != nil {
		return nil, err
	}
	vec, err := index.CheckRetrieval(cfg, q)
	if err != nil {
		return nil, err
	}
	filter := q.Filter
	if q.Namespace != "" {
		filter.Conds = append(append([]data.Cond(nil), filter.Conds...), data.Cond{Field: "namespace", Op: data.OpEq, Value: q.Namespace})
	}
	types, err := b.propTypes(ctx, chunkClass(name), false)
	if err != nil {
		return nil, err
	}
	where, none := whereFor(filter, types)
	if none {
		// A field no chunk has: refresh once (another replica may have
		// added it), then answer from the translation.
		if types, err = b.propTypes(ctx, chunkClass(name), true); err != nil {
			return nil, err
		}
		if where, none = whereFor(filter, types); none {
			return []data.Hit{}, nil
		}
	}
	s := b.c.Experimental().Search().WithCollection(chunkClass(name)).WithConsistencyLevel(b.cl).WithLimit(q.TopK).
		WithProperties("doc_id", "chunk_id", "ordinal", "text", "title", "source", "start", "end", "headings_json", "meta_json").
		WithMetadata(&graphql.Metadata{ID: true, Score: true, Distance: true})
	if where != nil {
		s = s.WithWhere(where)
	}
	gq := b.c.GraphQL()
	switch q.Mode {
	case data.ModeBM25:
		s = s.WithBM25(gq.Bm25ArgBuilder().WithQuery(q.Text).WithProperties("text", "title^2"))
	case data.ModeVector:
		s = s.WithNearVector(gq.NearVectorArgBuilder().WithVector(vec))
	default:
		h := gq.HybridArgumentBuilder().WithQuery(q.Text).WithVector(vec).WithProperties([]string{"text", "title^2"})
		if q.Fusion == data.FusionConvex {
			h = h.WithFusionType(graphql.RelativeScore).WithAlpha(float32(q.Alpha))
		} else {
			h = h.WithFusionType(graphql.Ranked).WithAlpha(0.5)
		}
		s = s.WithHybrid(h)
	}
	res, err := s.Do(ctx)
	if err != nil {
		return nil, wrap("search", err)
	}
	hits := make([]data.Hit, 0, len(res))
	for i, r := range res {
		c := chunkFromProps(r.Properties)
		p := r.Properties
		title, _ := p["title"].(string)
		source, _ := p["source"].(string)
		h := data.Hit{DocID: c.DocID, ChunkID: c.ID, Source: source, Title: title, Text: c.Text,
			Start: c.Start, End: c.End, Headings: c.Headings}
		if mj, _ := p["meta_json"].(string); mj != "" && mj != "null" {
			_ = json.Unmarshal([]byte(mj), &h.Metadata)
		}
		rs := &data.RankScore{Rank: i + 1}
		switch q.Mode {
		case data.ModeVector:
			h.Score = vectorScore(cfg.Metric, float64(r.Metadata.Distance))
			rs.Score = h.Score
			h.Explain = &data.Explain{Vector: rs, Fused: h.Score}
		case data.ModeBM25:
			h.Score = float64(r.Metadata.Score)
			rs.Score = h.Score
			h.Explain = &data.Explain{BM25: rs, Fused: h.Score}
		default:
			h.Score = float64(r.Metadata.Score)
			h.Explain = &data.Explain{Fused: h.Score}
		}
		hits = append(hits, h)
	}
	return index.FinishHits(hits, q), nil
}

// vectorScore turns a Weaviate distance into ragd's score (higher is
// closer): cosine similarity, dot product, or negative Euclidean distance.
func vectorScore(m data.Metric, d float64) float64 {
	switch m {
	case data.Dot:
		return -d
	case data.L2:
		return -math.Sqrt(max(d, 0))
	default:
		return 1 - d
	}
}

func strfmtUUID(s string) strfmt.UUID { return strfmt.UUID(s) }
