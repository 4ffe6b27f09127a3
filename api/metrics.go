package api

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute is the url label of every request no route matched.
const unmatchedRoute = "unmatched"

// requestMetrics is the echoprometheus middleware with labels a client
// cannot multiply: it runs before authentication, and by default it labels
// requests by the raw Host header, method and, for unknown routes, path,
// so each request with new values added series that stayed until restart.
// Here url is the route pattern ("unmatched" for none), method one of the
// standard methods or "other", and host is left empty.
func requestMetrics(reg prometheus.Registerer) echo.MiddlewareFunc {
	return echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{Registerer: reg, Namespace: "ragd",
		LabelFuncs: map[string]echoprometheus.LabelValueFunc{
			"host":   func(echo.Context, error) string { return "" },
			"url":    func(c echo.Context, _ error) string { return routeLabel(c) },
			"method": func(c echo.Context, _ error) string { return methodLabel(c.Request().Method) },
		}})
}

// routeLabel is the request's route pattern, or unmatchedRoute.
func routeLabel(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return unmatchedRoute
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// maxLogValue bounds a client-chosen value (path, address) in the access
// log.
const maxLogValue = 256

// clipLog shortens s to maxLogValue bytes (on a rune boundary), noting
// the full length.
func clipLog(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	cut := maxLogValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:cut], len(s))
}

// metrics are ragd's own Prometheus series (request latency comes from the
// echoprometheus middleware).
type metrics struct {
	searchSeconds   *prometheus.HistogramVec
	ingestChunks    prometheus.Counter
	ingestDocs      prometheus.Counter
	embedSeconds    prometheus.Histogram
	generateSeconds prometheus.Histogram
	tokens          prometheus.Counter
	cacheHits       *prometheus.CounterVec
	cacheMisses     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		searchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "ragd", Name: "search_seconds",
			Help: "Search latency by mode.", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}, []string{"mode"}),
		ingestChunks: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ragd", Name: "ingest_chunks_total", Help: "Chunks written through the API."}),
		ingestDocs:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ragd", Name: "ingest_documents_total", Help: "Documents written through the API."}),
		embedSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ragd", Name: "embed_seconds",
			Help: "Embedding request latency.", Buckets: prometheus.DefBuckets}),
		generateSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ragd", Name: "generate_seconds",
			Help: "Generation latency (whole answer).", Buckets: prometheus.DefBuckets}),
		tokens: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ragd", Name: "generated_tokens_total", Help: "Completion tokens generated."}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ragd", Name: "cache_hits_total",
			Help: "Requests answered from the result cache, by route."}, []string{"route"}),
		cacheMisses: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ragd", Name: "cache_misses_total",
			Help: "Result cache lookups that found nothing, by route."}, []string{"route"}),
	}
	reg.MustRegister(m.searchSeconds, m.ingestChunks, m.ingestDocs, m.embedSeconds, m.generateSeconds, m.tokens, m.cacheHits, m.cacheMisses)
	return m
}

// modelCollector exports, at scrape time, each loaded model's load time
// and resident memory from the ModelLister.
type modelCollector struct {
	lister    ModelLister
	loadDesc  *prometheus.Desc
	memDesc   *prometheus.Desc
	estimated *prometheus.Desc
}

func newModelCollector(l ModelLister) *modelCollector {
	return &modelCollector{
		lister: l,
		loadDesc: prometheus.NewDesc("ragd_model_load_seconds",
			"Time the loaded model took to load.", []string{"model"}, nil),
		memDesc: prometheus.NewDesc("ragd_model_memory_bytes",
			"Resident memory of the loaded model: weights and persistent buffers (see ragd_model_memory_estimated).", []string{"model"}, nil),
		estimated: prometheus.NewDesc("ragd_model_memory_estimated",
			"1 when ragd_model_memory_bytes is an estimate (ONNX models: the model file's size), 0 when counted.", []string{"model"}, nil),
	}
}

func (c *modelCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.loadDesc
	ch <- c.memDesc
	ch <- c.estimated
}

func (c *modelCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.lister.ListModels() {
		if !m.Loaded {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.loadDesc, prometheus.GaugeValue, m.LoadMS/1000, m.ID)
		if m.MemoryBytes > 0 {
			est := 0.0
			if m.MemoryEstimated {
				est = 1
			}
			ch <- prometheus.MustNewConstMetric(c.memDesc, prometheus.GaugeValue, float64(m.MemoryBytes), m.ID)
			ch <- prometheus.MustNewConstMetric(c.estimated, prometheus.GaugeValue, est, m.ID)
		}
	}
}
