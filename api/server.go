package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	// ResultCache keeps search results and non-streamed answers keyed by
	// (index, index version, options); nil turns caching off.
	ResultCache *rcache.Cache
	// Scheduler runs searches on a bounded set of CPU workers in arrival
	// order (nil: each request searches on its own goroutine).
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
	s := &Server{cfg: cfg, log: cfg.Logger, m: newMetrics(cfg.Registry)}
	if l, ok := cfg.Models.(ModelLister); ok {
		cfg.Registry.MustRegister(newModelCollector(l))
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.RequestID())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.log.Error("panic in handler", "path", c.Path(), "err", err, "stack", string(stack))
		return err
	}}))
	e.Use(middleware.BodyLimit(fmt.Sprintf("%dB", cfg.MaxBodyBytes)))
	e.Use(echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{Registerer: cfg.Registry, Namespace: "ragd"}))
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
		s.log.Info("request", "method", req.Method, "path", req.URL.Path, "status", c.Response().Status,
			"bytes", c.Response().Size, "ms", float64(time.Since(start).Microseconds())/1000,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "remote", c.RealIP())
		return nil
	}
}

// apiError is the JSON error body.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// StatusFor maps an error to its HTTP status and a stable code.
func StatusFor(err error) (int, string) {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusRequestEntityTooLarge:
			return he.Code, "too_large"
		case http.StatusNotFound:
			return he.Code, "not_found"
		case http.StatusMethodNotAllowed:
			return he.Code, "method_not_allowed"
		}
		return he.Code, strings.ReplaceAll(strings.ToLower(http.StatusText(he.Code)), " ", "_")
	case errors.Is(err, data.ErrNotFound), errors.Is(err, embed.ErrModelNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, data.ErrExists):
		return http.StatusConflict, "already_exists"
	case errors.Is(err, data.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, data.ErrDimension):
		return http.StatusBadRequest, "dimension_mismatch"
	case errors.Is(err, data.ErrModelMismatch):
		return http.StatusConflict, "model_mismatch"
	case errors.Is(err, data.ErrInvalid):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, data.ErrUnsupported):
		return http.StatusBadRequest, "unsupported"
	case errors.Is(err, data.ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, data.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, data.ErrOverloaded), errors.Is(err, generate.ErrOverloaded):
		return http.StatusTooManyRequests, "overloaded"
	case errors.Is(err, generate.ErrContextFull):
		return http.StatusBadRequest, "context_length_exceeded"
	case errors.Is(err, data.ErrUnavailable), errors.Is(err, generate.ErrUnavailable), errors.Is(err, data.ErrClosed):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, generate.ErrUpstream):
		return http.StatusBadGateway, "upstream_error"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "timeout"
	case errors.Is(err, context.Canceled):
		return 499, "cancelled"
	}
	return http.StatusInternalServerError, "internal"
}

func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code := StatusFor(err)
	msg := err.Error()
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg = fmt.Sprint(he.Message)
	}
	if status >= 500 {
		s.log.Error("request failed", "path", c.Request().URL.Path, "err", err)
		if status == http.StatusInternalServerError {
			msg = "internal error (see the server log, request id " + c.Response().Header().Get(echo.HeaderXRequestID) + ")"
		}
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", RetryAfter(err))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, apiError{Error: errorBody{Code: code, Message: msg}})
}
