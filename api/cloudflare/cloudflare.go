package cloudflare

import (
	"context"
	"fmt"
	"github.com/ragd/ragd/api"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/aibatch"
	"github.com/ragd/ragd/aisearch"
	"github.com/ragd/ragd/aisearch/state"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// Models resolves installed embedding models by their ragd name
// ("bge-small-en-v1.5", "use-lite").
type Models interface {
	Embedder(ctx context.Context, name string) (embed.Embedder, error)
}

// Config configures the Cloudflare-compatible routes.
type Config struct {
	// Engine holds the indexes (required unless Service is set).
	Engine index.Backend
	// Service is the retrieval service AI Search ingests, searches and
	// answers through. Nil: one is made from Engine, Models and Generator.
	Service *rag.Service
	// Models gives the Workers AI embedding route its models (nil: 503).
	Models Models
	// InstalledModels, when set, lists installed embedding models by ragd
	// name; error messages for unknown or missing models quote it.
	InstalledModels func() []string
	// ModelMap adds to or overrides the catalog that maps Workers AI model
	// names to installed ragd models, e.g.
	// {"@cf/baai/bge-m3": "bge-m3"}. See Catalog for the defaults.
	ModelMap map[string]string
	// Generator serves Workers AI text generation (nil: 503).
	Generator generate.Generator
	// Logger receives server-side failures (default: discard).
	Logger *slog.Logger
	// State keeps the bookkeeping ragd's indexes do not: Vectorize
	// creation times, metadata indexes and last mutation ids, and the AI
	// Search namespaces, instances and items. Replicas that share a
	// Weaviate cluster share it through the cluster (weaviate.Backend is
	// a state.Store). Nil: JSON files in StateDir (memory only when StateDir
	// is empty too).
	State state.Store
	// StateDir holds those files when State is nil, and the uploads to AI
	// Search instances until they are indexed (in memory when empty).
	StateDir string
	// Replica names this process on the AI Search items whose uploads it
	// holds (default: host name and StateDir), so that a restarted replica
	// resumes its own queue and leaves the others' alone.
	Replica string
	// MaxBodyBytes bounds one request body (default 100 MiB, Cloudflare's
	// limit). The main server's own body limit applies first.
	MaxBodyBytes int64
	// MaxBatch bounds the vectors of one insert or upsert (default 5000).
	MaxBatch int
	// DefaultModel is the ragd embedding model of AI Search instances
	// created without embedding_model ("" or "none": keyword-only
	// instances).
	DefaultModel string
	// MaxItemBytes bounds one file uploaded to an AI Search instance
	// (default 32 MiB); the body limits apply first.
	MaxItemBytes int64
	// Scheduler runs Vectorize queries on the CPU workers, in arrival
	// order (nil: on the request's goroutine).
	Scheduler api.Scheduler
	// BatchDir keeps the Workers AI batch queue (queueRequest), one file
	// per batch ("": <StateDir>/ai-batches, or memory only when StateDir
	// is empty too).
	BatchDir string
	// MaxQueuedRequests bounds the requests queued in batches and not yet
	// done (default aibatch.DefaultMaxQueued); past it ai/run answers 429.
	MaxQueuedRequests int
	// BatchParallel is how many requests of a batch run at once (default
	// aibatch.DefaultParallel).
	BatchParallel int
}

// Defaults and fixed limits.
const (
	DefaultMaxBodyBytes = 100 << 20
	DefaultMaxBatch     = 5000
)

// Service is the mounted routes' background work: AI Search items
// uploaded without wait_for_completion are indexed by one worker.
type Service struct{ h *handler }

// Close stops the item worker: the item being indexed, if any, is
// cancelled and stays queued, with its upload kept, so the next start
// indexes it. Call it before closing the engine. It is safe to call twice.
// The Workers AI batch queue stops too: the batch running stays queued
// and runs again on the next start.
func (s *Service) Close() {
	s.h.ais.Close()
	if s.h.batches != nil {
		s.h.batches.Close()
	}
}

// Register mounts the routes on e under /client/v4. It also makes errors
// that echo's middleware returns for these paths (a body over the server's
// limit, an unknown method) Cloudflare-shaped.
func Register(e *echo.Echo, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxItemBytes <= 0 {
		cfg.MaxItemBytes = aisearch.DefaultMaxItemBytes
	}
	if cfg.State == nil {
		cfg.State = state.NewFileStore(cfg.StateDir)
	}
	if cfg.Service == nil && cfg.Engine != nil {
		rc := rag.Config{Backend: cfg.Engine, Generator: cfg.Generator, Logger: cfg.Logger}
		if cfg.Models != nil {
			rc.Models = cfg.Models
		}
		cfg.Service, _ = rag.New(rc) // only fails without a backend
	}
	if cfg.Engine == nil && cfg.Service != nil {
		cfg.Engine = cfg.Service.Backend()
	}
	if cfg.Generator == nil && cfg.Service != nil {
		cfg.Generator = cfg.Service.Generator()
	}
	h := &handler{cfg: cfg, log: cfg.Logger, state: newState(cfg.State, cfg.Logger)}
	h.ais = aisearch.New(aisearch.Config{Indexes: cfg.Engine, Retrieval: cfg.Service, Models: cfg.Models,
		ResolveModel: h.embeddingModel, ModelHint: h.installed, DefaultModel: cfg.DefaultModel, State: cfg.State,
		Dir: cfg.StateDir, Replica: cfg.Replica, MaxItemBytes: cfg.MaxItemBytes, Logger: cfg.Logger})
	h.openBatches()
	g := e.Group("/client/v4/accounts/:account_id")
	v := g.Group("/vectorize/v2/indexes")
	v.POST("", h.createIndex)
	v.GET("", h.listIndexes)
	v.GET("/:index", h.getIndex)
	v.DELETE("/:index", h.deleteIndex)
	v.GET("/:index/info", h.info)
	v.POST("/:index/insert", h.insert)
	v.POST("/:index/upsert", h.upsert)
	v.POST("/:index/query", h.query)
	v.POST("/:index/get_by_ids", h.getByIDs)
	v.POST("/:index/delete_by_ids", h.deleteByIDs)
	v.GET("/:index/list", h.listVectors)
	v.POST("/:index/metadata_index/create", h.createMetadataIndex)
	v.GET("/:index/metadata_index/list", h.listMetadataIndexes)
	v.POST("/:index/metadata_index/delete", h.deleteMetadataIndex)
	g.POST("/ai/run/*", h.run)
	h.registerAISearch(g)
	e.Any("/client/v4/*", h.noRoute)
	prev := e.HTTPErrorHandler
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed || !strings.HasPrefix(c.Request().URL.Path, "/client/v4/") {
			prev(err, c)
			return
		}
		h.writeError(err, c)
	}
	return &Service{h: h}
}

type handler struct {
	cfg   Config
	log   *slog.Logger
	state *vectorizeState

	ais     *aisearch.Service
	batches *aibatch.Queue // nil when it could not open
}

// openBatches opens the Workers AI batch queue; when its folder cannot be
// used, the error is logged and queued requests answer 503.
func (h *handler) openBatches() {
	dir := h.cfg.BatchDir
	if dir == "" && h.cfg.StateDir != "" {
		dir = filepath.Join(h.cfg.StateDir, BatchDirName)
	}
	q, err := aibatch.Open(aibatch.Config{Runner: aibatch.RunnerFunc(h.runBatchRequest), Dir: dir,
		MaxQueued: h.cfg.MaxQueuedRequests, Parallel: h.cfg.BatchParallel, Logger: h.log})
	if err != nil {
		h.log.Error("the Workers AI batch queue did not open", "dir", dir, "err", err)
		return
	}
	h.batches = q
}

// writeLock serialises writes to one index, so insert's "skip ids that
// exist" check and its write see the same index; it is AI Search's lock
// for that index, so the two sets of routes order their writes together.
func (h *handler) writeLock(name string) *sync.Mutex { return h.ais.WriteLock(name) }

// envelope is Cloudflare's response wrapper.
type envelope struct {
	Result     any       `json:"result"`
	ResultInfo *pageInfo `json:"result_info,omitempty"`
	Success    bool      `json:"success"`
	Errors     []cfError `json:"errors"`
	Messages   []cfError `json:"messages"`
}

type cfError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error codes ragd puts in errors[].code come from data's error table
// (data.ErrorClass.Number; documented in docs/cloudflare.md).

// ok writes a successful envelope.
func ok(c echo.Context, result any) error {
	return c.JSON(http.StatusOK, envelope{Result: result, Success: true, Errors: []cfError{}, Messages: []cfError{}})
}

// okPage writes one page of a list with its result_info.
func okPage(c echo.Context, result any, info pageInfo) error {
	return c.JSON(http.StatusOK, envelope{Result: result, ResultInfo: &info, Success: true, Errors: []cfError{}, Messages: []cfError{}})
}

// writeError is the one writer of Cloudflare's error envelope: the
// status and errors[].code come from data's error table.
func (h *handler) writeError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	cl, msg := api.PrepareError(h.log, c, err)
	_ = c.JSON(cl.Status, envelope{Result: nil, Success: false, Errors: []cfError{{Code: cl.Number, Message: msg}}, Messages: []cfError{}})
}

// noRoute answers every other /client/v4 request in Cloudflare's
// envelope: 405 with an Allow header when the path is served for other
// methods, 404 when it is not served at all.
func (h *handler) noRoute(c echo.Context) error {
	r := c.Request()
	if allow := allowedMethods(c.Echo().Routes(), r.URL.Path); len(allow) > 0 {
		c.Response().Header().Set("Allow", strings.Join(allow, ", "))
		return echo.NewHTTPError(http.StatusMethodNotAllowed, fmt.Sprintf("Method %s not allowed for %s; it accepts %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
	}
	return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("No route for %s %s in ragd's Cloudflare-compatible API", r.Method, r.URL.Path))
}

// allowedMethods lists, sorted, the methods of the routes whose pattern
// matches path (":param" matches one segment, a trailing "*" the rest;
// catch-all routes registered for any method are skipped).
func allowedMethods(routes []*echo.Route, path string) []string {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for _, rt := range routes {
		if rt.Method == echo.RouteNotFound || strings.HasSuffix(rt.Name, "noRoute-fm") || slices.Contains(out, rt.Method) {
			continue
		}
		if patternMatches(strings.Split(strings.Trim(rt.Path, "/"), "/"), seg) {
			out = append(out, rt.Method)
		}
	}
	slices.Sort(out)
	return out
}

func patternMatches(pat, seg []string) bool {
	for i, p := range pat {
		if p == "*" {
			return i < len(seg)
		}
		if i >= len(seg) || seg[i] == "" || !strings.HasPrefix(p, ":") && p != seg[i] {
			return false
		}
	}
	return len(pat) == len(seg)
}

// readBody reads the request body up to the configured limit.
func (h *handler) readBody(c echo.Context) ([]byte, error) {
	return api.ReadBody(http.MaxBytesReader(c.Response(), c.Request().Body, h.cfg.MaxBodyBytes))
}

// decodeJSON reads one strict JSON object: unknown fields and trailing
// data are errors.
func (h *handler) decodeJSON(c echo.Context, v any) error {
	body, err := h.readBody(c)
	if err != nil {
		return err
	}
	return api.DecodeJSON(body, v)
}

type pageInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// paging reads ?page= and ?per_page=.
func paging(c echo.Context) (page, perPage int, err error) {
	page, perPage = 1, DefaultPerPage
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"page", &page, 1, math.MaxInt32}, {"per_page", &perPage, 1, MaxPerPage}} {
		v := c.QueryParam(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < p.min || n > p.max {
			return 0, 0, invalid("%s %q: want an integer in %d..%d", p.name, v, p.min, p.max)
		}
		*p.dst = n
	}
	return page, perPage, nil
}

// pageOf cuts one page out of n sorted entries.
func pageOf(n, page, perPage int) (lo, hi int, info pageInfo) {
	lo = min((page-1)*perPage, n)
	hi = min(lo+perPage, n)
	return lo, hi, pageInfo{Page: page, PerPage: perPage, Count: hi - lo, TotalCount: n, TotalPages: (n + perPage - 1) / perPage}
}
