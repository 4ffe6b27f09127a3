package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/ragd/ragd/api/rcache"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// Models gives the API its embedding models.
type Models interface {
	Embedder(ctx context.Context, name string) (embed.Embedder, error)
}

// ModelLister optionally lists models for GET /v1/models.
type ModelLister interface {
	ListModels() []ModelInfo
}

// ModelInfo is one entry of GET /v1/models.
type ModelInfo struct {
	ID        string  `json:"id"`
	Kind      string  `json:"kind"`
	Dims      int     `json:"dims,omitempty"`
	SizeBytes int64   `json:"size_bytes,omitempty"`
	Loaded    bool    `json:"loaded"`
	LoadMS    float64 `json:"load_ms,omitempty"`
	// MemoryBytes is what a loaded model keeps resident (weights and
	// persistent buffers); 0 when not loaded or not known (remote models).
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
	// MemoryEstimated is set when MemoryBytes is an estimate (e.g. ONNX
	// models: the model file's size) rather than counted.
	MemoryEstimated bool `json:"memory_estimated,omitempty"`
}

// Config configures a Server.
type Config struct {
	// Service is the retrieval service every search, ask and document
	// write goes through. Nil: one is made from Engine, Models (also the
	// reranker when it implements rag.Reranker) and Generator.
	Service *rag.Service
	// Engine is the storage backend (default: Service's).
	Engine index.Backend
	Models Models
	// Generator answers /ask and /v1/chat/completions (nil: 503).
	Generator generate.Generator
	// DefaultModel is the embedding model for indexes created without one
	// ("" or "none": keyword only).
	DefaultModel string
	// Logger receives access logs and errors.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default 32 MiB).
	MaxBodyBytes int64
	// RequestTimeout bounds non-streaming requests other than document
	// writes (default 60 s); an overrun is a 504.
	RequestTimeout time.Duration
	// Registry collects Prometheus metrics (default: a new registry).
	Registry *prometheus.Registry
	// Version is reported by /healthz.
	Version string
	// SnapshotDir is where POST /v1/snapshots writes ("" disables it).
	SnapshotDir string
	// TrustedProxies are the peers (reverse proxies) whose
	// X-Forwarded-For the access log records, as forwarded_for; from any
	// other peer the header is ignored. Empty (the default): none.
	TrustedProxies []netip.Prefix
	// SnapshotKeep is how many snapshots POST /v1/snapshots keeps in
	// SnapshotDir, the newest (0: all).
	SnapshotKeep int
	// SnapshotWait bounds how long a snapshot waits for a running one and
	// for writes in progress (default index.DefaultSnapshotWait); past it
	// the request fails with 503.
	SnapshotWait time.Duration
	// SnapshotFiles are the data dir's files outside the engine that a
	// snapshot copies too (front-end state, the keys file).
	SnapshotFiles []index.SnapshotFiles
	// ResultCache keeps search results and non-streamed answers keyed by
	// (index, index version, options); nil turns caching off.
	ResultCache *rcache.Cache
	// Scheduler runs searches on a bounded set of CPU workers in arrival
	// order (nil: each request searches on its own goroutine). It is the
	// scheduler of the Service the server builds when Service is nil; a
	// given Service brings its own (rag.Config.Scheduler).
	Scheduler Scheduler
}

// Server is the HTTP API.
type Server struct {
	cfg   Config
	e     *echo.Echo
	log   *slog.Logger
	ready atomic.Bool
	m     *metrics
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 60 * time.Second
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Service == nil && cfg.Engine != nil {
		rc := rag.Config{Backend: cfg.Engine, Generator: cfg.Generator, Logger: cfg.Logger}
		if cfg.Scheduler != nil {
			rc.Scheduler = cfg.Scheduler
		}
		if cfg.Models != nil {
			rc.Models = cfg.Models
		}
		if r, ok := cfg.Models.(rag.Reranker); ok {
			rc.Reranker = r
		}
		cfg.Service, _ = rag.New(rc) // only fails without a backend
	}
	if cfg.Engine == nil && cfg.Service != nil {
		cfg.Engine = cfg.Service.Backend()
	}
	if cfg.Generator == nil && cfg.Service != nil {
		cfg.Generator = cfg.Service.Generator()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, m: newMetrics(cfg.Registry)}
	if l, ok := cfg.Models.(ModelLister); ok {
		cfg.Registry.MustRegister(newModelCollector(l))
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = ErrorHandler(cfg.Logger)
	e.Use(middleware.RequestID())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.log.Error("panic in handler", "path", c.Path(), "err", err, "stack", string(stack))
		return err
	}}))
	e.Use(middleware.BodyLimit(fmt.Sprintf("%dB", cfg.MaxBodyBytes)))
	e.Use(requestMetrics(cfg.Registry))
	e.Use(s.accessLog)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: cfg.Registry}))
	e.GET("/openapi.json", s.openAPI)
	v1 := e.Group("/v1")
	// Routes that may stream apply RequestTimeout themselves, to their
	// non-streaming answers only. Document writes are bounded by
	// MaxBodyBytes instead: embedding a large upload on a CPU can take
	// minutes, and a write cut off midway is wasted work.
	v1.POST("/indexes", s.createIndex, s.timeout)
	v1.GET("/indexes", s.listIndexes, s.timeout)
	v1.GET("/indexes/:name", s.getIndex, s.timeout)
	v1.DELETE("/indexes/:name", s.deleteIndex, s.timeout)
	v1.POST("/indexes/:name/documents", s.putDocuments)
	v1.GET("/indexes/:name/documents", s.listDocuments, s.timeout)
	v1.GET("/indexes/:name/documents/*", s.getDocument, s.timeout)
	v1.DELETE("/indexes/:name/documents/*", s.deleteDocument, s.timeout)
	v1.POST("/indexes/:name/search", s.search, s.timeout)
	v1.POST("/indexes/:name/ask", s.ask)
	v1.POST("/chat/completions", s.chatCompletions)
	v1.POST("/embeddings", s.embeddings, s.timeout)
	v1.GET("/models", s.models)
	v1.POST("/snapshots", s.createSnapshot)
	s.e = e
	s.ready.Store(true)
	return s
}

// Handler is the server's http.Handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the router so other packages' routes can be mounted.
func (s *Server) Echo() *echo.Echo { return s.e }

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// it stops accepting, marks itself not ready, and waits up to grace for
// in-flight requests (streams included) to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("shutdown grace period over; closing remaining connections")
		err = srv.Close()
	}
	<-errc //nolint:errcheck // only waits for Serve to return: it returns http.ErrServerClosed once shut down
	return err
}

// timeout bounds a non-streaming request by Config.RequestTimeout; work
// that overruns it fails with context.DeadlineExceeded (504).
func (s *Server) timeout(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cancel := s.limitRequest(c)
		defer cancel()
		return next(c)
	}
}

// limitRequest puts Config.RequestTimeout on the request's context.
func (s *Server) limitRequest(c echo.Context) context.CancelFunc {
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
	c.SetRequest(c.Request().WithContext(ctx))
	return cancel
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(c echo.Context) error {
	if !s.ready.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		attrs := []any{"method", clipLog(req.Method), "path", clipLog(req.URL.Path), "status", c.Response().Status,
			"bytes", c.Response().Size, "ms", float64(time.Since(start).Microseconds()) / 1000,
			"request_id", clipLog(c.Response().Header().Get(echo.HeaderXRequestID)), "remote", req.RemoteAddr}
		if fwd := s.forwardedFor(req); fwd != "" {
			attrs = append(attrs, "forwarded_for", fwd)
		}
		s.log.Info("request", attrs...)
		return nil
	}
}

// maxForwardedFor bounds the X-Forwarded-For value the access log keeps.
const maxForwardedFor = 256

// forwardedFor is the request's X-Forwarded-For when the socket peer is a
// trusted proxy ("" otherwise), cut to maxForwardedFor bytes.
func (s *Server) forwardedFor(req *http.Request) string {
	if len(s.cfg.TrustedProxies) == 0 {
		return ""
	}
	fwd := strings.Join(req.Header.Values(echo.HeaderXForwardedFor), ", ")
	if fwd == "" {
		return ""
	}
	ap, err := netip.ParseAddrPort(req.RemoteAddr)
	if err != nil {
		return ""
	}
	ip := ap.Addr().Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			if len(fwd) > maxForwardedFor {
				fwd = fwd[:maxForwardedFor]
			}
			return fwd
		}
	}
	return ""
}

// apiError is the JSON error body.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorClass returns err's class from data's error table; an error that
// carries only a status (echo's 404, 405 or 413, with no sentinel inside)
// gets the class of that status.
func ErrorClass(err error) data.ErrorClass {
	cl := data.ClassOf(err)
	var he *echo.HTTPError
	if cl == data.InternalError && errors.As(err, &he) {
		return data.ClassOfStatus(he.Code)
	}
	return cl
}

// StatusFor maps an error to its HTTP status and stable code (ErrorClass).
func StatusFor(err error) (int, string) {
	cl := ErrorClass(err)
	return cl.Status, cl.Code
}

// ErrorMessage is the message a client sees for err: an echo.HTTPError's
// own message, else err's text; an internal error's text stays in the log.
func ErrorMessage(err error, cl data.ErrorClass, requestID string) string {
	if cl.Status == http.StatusInternalServerError {
		return "internal error (see the server log, request id " + requestID + ")"
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fmt.Sprint(he.Message)
	}
	return err.Error()
}

// PrepareError does what every error writer does before its body: it logs
// server failures (not a client that went away), sets Retry-After on 429
// and 503, and returns the class and message to write.
func PrepareError(log *slog.Logger, c echo.Context, err error) (data.ErrorClass, string) {
	cl := ErrorClass(err)
	if cl.Logged() {
		log.Error("request failed", "path", c.Request().URL.Path, "status", cl.Status, "err", err)
	}
	h := c.Response().Header()
	if (cl.Status == http.StatusTooManyRequests || cl.Status == http.StatusServiceUnavailable) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", RetryAfter(err))
	}
	return cl, ErrorMessage(err, cl, h.Get(echo.HeaderXRequestID))
}

// ErrorHandler is the writer of ragd's own error body
// ({"error":{"code","message"}}), for /v1, the OpenAI routes and auth.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		cl, msg := PrepareError(log, c, err)
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(cl.Status)
			return
		}
		_ = c.JSON(cl.Status, apiError{Error: errorBody{Code: cl.Code, Message: msg}})
	}
}
