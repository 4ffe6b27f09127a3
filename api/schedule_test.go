package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag/sched"
)

// countingBackend counts the searches that reach the storage tier.
type countingBackend struct {
	index.Backend
	searches atomic.Int32
}

func (b *countingBackend) Search(ctx context.Context, name string, q data.Query) ([]data.Hit, error) {
	b.searches.Add(1)
	return b.Backend.Search(ctx, name, q)
}

// schedEnv serves a real scheduler with one worker and the given queue;
// hold() occupies the worker until the returned func is called.
type schedEnv struct {
	*testEnv
	s       *sched.Scheduler
	backend *countingBackend
}

func newSchedEnv(t *testing.T, queue int) *schedEnv {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := sched.New(sched.Config{Name: "search", Workers: 1, Queue: queue, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	cb := &countingBackend{}
	e := newEnv(t, func(c *api.Config) {
		cb.Backend = c.Engine
		c.Engine, c.Scheduler, c.Registry = cb, s, reg
	})
	e.seed("kw", "none")
	return &schedEnv{testEnv: e, s: s, backend: cb}
}

func (e *schedEnv) hold() (release func()) {
	started, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		_ = e.s.Do(context.Background(), 1, func(context.Context) error { close(started); <-stop; return nil })
	}()
	<-started
	return func() { close(stop); <-done }
}

func (e *schedEnv) waitQueued(n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.s.Stats().Queued != n {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d requests queued, want %d", e.s.Stats().Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSearchThroughSchedulerReportsTiming(t *testing.T) {
	e := newSchedEnv(t, 0)
	st, out, h := e.do("POST", "/v1/indexes/kw/search", map[string]any{"query": "bread", "top_k": 1})
	if st != http.StatusOK || !strings.Contains(string(out), `"bread"`) {
		t.Fatalf("search: %d %s", st, out)
	}
	if got := h.Get("Server-Timing"); !strings.HasPrefix(got, "queue;dur=") || !strings.Contains(got, ", search;dur=") {
		t.Fatalf("Server-Timing %q, want queue and search durations", got)
	}
	_, metrics, _ := e.do("GET", "/metrics", nil)
	for _, m := range []string{`ragd_sched_wait_seconds_count{pool="search"} 1`, `ragd_sched_service_seconds_count{pool="search"} 1`, `ragd_sched_queue_depth{pool="search"} 0`} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func TestSearchQueueFullIs429WithRetryAfter(t *testing.T) {
	e := newSchedEnv(t, -1) // no waiting: a busy worker refuses at once
	release := e.hold()
	defer release()
	before := e.backend.searches.Load()
	st, out, h := e.do("POST", "/v1/indexes/kw/search", map[string]any{"query": "bread"})
	checkError(t, "search while busy", st, out, h, http.StatusTooManyRequests, "overloaded")
	if ra := h.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want 1", ra)
	}
	if e.backend.searches.Load() != before {
		t.Fatal("a refused search reached the index")
	}
}

// retryScheduler refuses every job with a long Retry-After hint.
type retryScheduler struct{}

func (retryScheduler) Do(context.Context, int, func(context.Context) error) error {
	return &sched.OverloadedError{Pool: "search", Queued: 9, Limit: 9, After: 2500 * time.Millisecond}
}

func TestRetryAfterCarriesTheSchedulerHint(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.Scheduler = retryScheduler{} })
	e.seed("kw", "none")
	st, out, h := e.do("POST", "/v1/indexes/kw/search", map[string]any{"query": "bread"})
	checkError(t, "search", st, out, h, http.StatusTooManyRequests, "overloaded")
	if ra := h.Get("Retry-After"); ra != "3" {
		t.Fatalf("Retry-After %q, want 3 (2.5 s rounded up)", ra)
	}
}

func TestSearchWhoseClientLeftNeverRuns(t *testing.T) {
	e := newSchedEnv(t, 8)
	release := e.hold()
	before := e.backend.searches.Load()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/indexes/kw/search", strings.NewReader(`{"query":"bread"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	e.waitQueued(1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context.Canceled", err)
	}
	e.waitQueued(0) // the server dropped the request from the queue
	release()
	// The next search runs (and proves the worker is free again).
	e.mustJSON("POST", "/v1/indexes/kw/search", map[string]any{"query": "bread"}, http.StatusOK, nil)
	if got := e.backend.searches.Load() - before; got != 1 {
		t.Fatalf("%d searches reached the index, want 1 (the cancelled one must not run)", got)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "1"},
		{data.ErrOverloaded, "1"},
		{&sched.OverloadedError{After: 0}, "1"},
		{&sched.OverloadedError{After: time.Second}, "1"},
		{&sched.OverloadedError{After: 1001 * time.Millisecond}, "2"},
		{errors.Join(errors.New("wrapped"), &sched.OverloadedError{After: 10 * time.Second}), "10"},
	} {
		if got := api.RetryAfter(tc.err); got != tc.want {
			t.Errorf("RetryAfter(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
