package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"github.com/ragd/ragd/api"
	"log/slog"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/index"
)

// Models resolves installed embedding models by their ragd name
// ("bge-small-en-v1.5", "use-lite").
type Models interface {
	Embedder(ctx context.Context, name string) (embed.Embedder, error)
}

// Config configures the Cloudflare-compatible routes.
type Config struct {
	// Engine holds the indexes (required for the Vectorize routes).
	Engine index.Backend
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
	// a StateStore). Nil: JSON files in StateDir (memory only when StateDir
	// is empty too).
	State index.StateStore
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
func (s *Service) Close() {
	s.h.closeOnce.Do(s.h.worker.stop)
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
		cfg.MaxItemBytes = DefaultMaxItemBytes
	}
	if cfg.State == nil {
		cfg.State = index.NewFileStateStore(cfg.StateDir)
	}
	if cfg.Replica == "" {
		host, _ := os.Hostname()
		cfg.Replica = host + ":" + cfg.StateDir
	}
	h := &handler{cfg: cfg, log: cfg.Logger, state: newState(cfg.State, cfg.Logger), locks: map[string]*sync.Mutex{},
		ais: newAISStore(cfg.State, cfg.StateDir, cfg.Replica, cfg.Logger)}
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
		_ = h.fail(c, err)
	}
	h.startWorker()
	return &Service{h: h}
}

type handler struct {
	cfg   Config
	log   *slog.Logger
	state *state

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per-index write locks (insert checks, then writes)

	ais       *aisStore
	worker    *itemWorker
	closeOnce sync.Once
}

// writeLock serialises this package's writes to one index, so insert's
// "skip ids that exist" check and its write see the same index.
func (h *handler) writeLock(name string) *sync.Mutex {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.locks[name]
	if !ok {
		l = &sync.Mutex{}
		h.locks[name] = l
	}
	return l
}

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

// Error codes ragd puts in errors[].code (documented in docs/cloudflare.md).
const (
	codeInvalid      = 40001
	codeDimension    = 40002
	codeUnsupported  = 40003
	codeNotFound     = 40401
	codeExists       = 40901
	codeTooLarge     = 41301
	codeOverloaded   = 42901
	codeInternal     = 50001
	codeUpstream     = 50201
	codeUnavailable  = 50301
	codeTimeout      = 50401
	codeNoRoute      = 7003
	codeNoMethod     = 7001
	codeUnauthorized = 10000
	codeForbidden    = 10001
)

// ok writes a successful envelope.
func ok(c echo.Context, result any) error {
	return c.JSON(http.StatusOK, envelope{Result: result, Success: true, Errors: []cfError{}, Messages: []cfError{}})
}

// okPage writes one page of a list with its result_info.
func okPage(c echo.Context, result any, info pageInfo) error {
	return c.JSON(http.StatusOK, envelope{Result: result, ResultInfo: &info, Success: true, Errors: []cfError{}, Messages: []cfError{}})
}

// fail writes an error envelope with the status and code err maps to.
// It always returns nil so echo's own error handler never rewrites it.
func (h *handler) fail(c echo.Context, err error) error {
	status, code := statusFor(err)
	msg := err.Error()
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg = fmt.Sprint(he.Message)
	}
	if status >= 500 {
		h.log.Error("cloudflare route failed", "path", c.Request().URL.Path, "err", err)
		if status == http.StatusInternalServerError {
			msg = "internal error (see the server log)"
		}
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", api.RetryAfter(err))
	}
	return c.JSON(status, envelope{Result: nil, Success: false, Errors: []cfError{{Code: code, Message: msg}}, Messages: []cfError{}})
}

// statusFor maps ragd's sentinel errors to an HTTP status and an error code.
func statusFor(err error) (int, int) {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusRequestEntityTooLarge:
			return he.Code, codeTooLarge
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return he.Code, codeNoRoute
		case http.StatusUnauthorized:
			return he.Code, codeUnauthorized
		case http.StatusForbidden:
			return he.Code, codeForbidden
		}
		if he.Code < 500 {
			return he.Code, codeInvalid
		}
		return he.Code, codeInternal
	case errors.Is(err, data.ErrUnauthorized):
		return http.StatusUnauthorized, codeUnauthorized
	case errors.Is(err, data.ErrForbidden):
		return http.StatusForbidden, codeForbidden
	case errors.Is(err, data.ErrNotFound), errors.Is(err, embed.ErrModelNotFound):
		return http.StatusNotFound, codeNotFound
	case errors.Is(err, data.ErrExists):
		return http.StatusConflict, codeExists
	case errors.Is(err, data.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, codeTooLarge
	case errors.Is(err, data.ErrDimension):
		return http.StatusBadRequest, codeDimension
	case errors.Is(err, data.ErrInvalid), errors.Is(err, generate.ErrContextFull), errors.Is(err, data.ErrModelMismatch):
		return http.StatusBadRequest, codeInvalid
	case errors.Is(err, data.ErrUnsupported):
		return http.StatusBadRequest, codeUnsupported
	case errors.Is(err, data.ErrOverloaded), errors.Is(err, generate.ErrOverloaded):
		return http.StatusTooManyRequests, codeOverloaded
	case errors.Is(err, data.ErrUnavailable), errors.Is(err, generate.ErrUnavailable), errors.Is(err, data.ErrClosed):
		return http.StatusServiceUnavailable, codeUnavailable
	case errors.Is(err, generate.ErrUpstream):
		return http.StatusBadGateway, codeUpstream
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, codeTimeout
	}
	return http.StatusInternalServerError, codeInternal
}

// noRoute answers every other /client/v4 request in Cloudflare's
// envelope: 405 with an Allow header when the path is served for other
// methods, 404 when it is not served at all.
func (h *handler) noRoute(c echo.Context) error {
	r := c.Request()
	if allow := allowedMethods(c.Echo().Routes(), r.URL.Path); len(allow) > 0 {
		c.Response().Header().Set("Allow", strings.Join(allow, ", "))
		return c.JSON(http.StatusMethodNotAllowed, envelope{Success: false, Messages: []cfError{},
			Errors: []cfError{{Code: codeNoMethod, Message: fmt.Sprintf("Method %s not allowed for %s; it accepts %s", r.Method, r.URL.Path, strings.Join(allow, ", "))}}})
	}
	return c.JSON(http.StatusNotFound, envelope{Success: false, Messages: []cfError{},
		Errors: []cfError{{Code: codeNoRoute, Message: fmt.Sprintf("No route for %s %s in ragd's Cloudflare-compatible API", r.Method, r.URL.Path)}}})
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
