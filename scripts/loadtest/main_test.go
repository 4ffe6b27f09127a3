package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer answers like ragd: it checks each request's shape and fails
// every fifth one with 429.
type fakeServer struct {
	t     *testing.T
	n     atomic.Int64
	mu    sync.Mutex
	paths map[string]int
	bad   []string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.paths[r.URL.Path]++
	var ok bool
	switch r.URL.Path {
	case "/v1/embeddings":
		_, ok = body["input"].(string)
	case "/v1/indexes/docs/search":
		q, isQ := body["query"].(string)
		v, isV := body["vector"].([]any)
		ok = (isQ && q != "") || (isV && len(v) == 8 && body["mode"] == "vector")
	case "/v1/indexes/docs/documents":
		docs, _ := body["documents"].([]any)
		ok = len(docs) == 3
	default:
		ok = false
	}
	if !ok {
		f.bad = append(f.bad, r.URL.Path)
	}
	f.mu.Unlock()
	if f.n.Add(1)%5 == 0 {
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error":"overloaded"}`, http.StatusTooManyRequests)
		return
	}
	w.Write([]byte(`{"ok":true}`))
}

func TestRunKinds(t *testing.T) {
	for _, kind := range []string{"embed", "search", "vector", "ingest"} {
		t.Run(kind, func(t *testing.T) {
			f := &fakeServer{t: t, paths: map[string]int{}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			cfg := config{URL: srv.URL, Clients: 4, Duration: time.Minute, Requests: 50, Kind: kind,
				Index: "docs", Dims: 8, TopK: 5, Docs: 3, Timeout: 5 * time.Second, Seed: 1, PID: os.Getpid()}
			rep, err := run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Requests != 50 || rep.OK != 40 || rep.Statuses["200"] != 40 || rep.Statuses["429"] != 10 {
				t.Errorf("report %+v, want 50 requests: 40 ok, 10 429", rep)
			}
			if len(f.bad) > 0 {
				t.Errorf("malformed requests to %v", f.bad)
			}
			if rep.P50ms <= 0 || rep.P50ms > rep.P90ms || rep.P90ms > rep.P99ms || rep.P99ms > rep.MaxMs {
				t.Errorf("percentiles out of order: %+v", rep)
			}
			if rep.PeakRSSKiB <= 0 || rep.HWMKiB < rep.PeakRSSKiB {
				t.Errorf("rss: peak %d KiB, hwm %d KiB", rep.PeakRSSKiB, rep.HWMKiB)
			}
			var sb strings.Builder
			rep.print(&sb)
			if !strings.Contains(sb.String(), "429: 10") {
				t.Errorf("printed report lacks the 429 count:\n%s", sb.String())
			}
		})
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	f := &fakeServer{t: t, paths: map[string]int{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	cfg := config{URL: srv.URL, Clients: 2, Duration: 200 * time.Millisecond, Kind: "embed",
		Dims: 8, TopK: 5, Docs: 1, Timeout: 5 * time.Second, Seed: 1}
	rep, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests == 0 || rep.Seconds > 30 {
		t.Errorf("report %+v", rep)
	}
}

func TestCheck(t *testing.T) {
	ok := config{URL: "http://127.0.0.1:7474", Clients: 8, Duration: 10 * time.Second, Kind: "embed", Dims: 1, TopK: 1, Docs: 1, Timeout: time.Second}
	cases := []struct {
		name string
		edit func(*config)
		good bool
	}{
		{"default", func(*config) {}, true},
		{"localhost", func(c *config) { c.URL = "http://localhost:8080" }, true},
		{"ipv6 loopback", func(c *config) { c.URL = "http://[::1]:7474" }, true},
		{"127/8", func(c *config) { c.URL = "https://127.1.2.3" }, true},
		{"remote ip", func(c *config) { c.URL = "http://10.0.0.1:7474" }, false},
		{"remote name", func(c *config) { c.URL = "http://example.com" }, false},
		{"unspecified", func(c *config) { c.URL = "http://0.0.0.0:7474" }, false},
		{"localhost lookalike", func(c *config) { c.URL = "http://localhost.example.com" }, false},
		{"scheme", func(c *config) { c.URL = "ftp://127.0.0.1" }, false},
		{"search without index", func(c *config) { c.Kind = "search" }, false},
		{"unknown kind", func(c *config) { c.Kind = "chat" }, false},
		{"too long", func(c *config) { c.Duration = 11 * time.Minute }, false},
		{"no clients", func(c *config) { c.Clients = 0 }, false},
		{"negative requests", func(c *config) { c.Requests = -1 }, false},
	}
	for _, tc := range cases {
		c := ok
		tc.edit(&c)
		if err := c.check(); (err == nil) != tc.good {
			t.Errorf("%s: check() = %v, want ok=%v", tc.name, err, tc.good)
		}
	}
	if _, err := run(context.Background(), config{URL: "http://192.0.2.1", Clients: 1, Duration: time.Second, Kind: "embed", Dims: 1, TopK: 1, Docs: 1, Timeout: time.Second}); err == nil {
		t.Error("run accepted a non-loopback URL")
	}
}

// A server that sends Server-Timing gets its wait and service split
// reported; Little's law's mean sits beside p99.
func TestRunReadsServerTiming(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		switch {
		case i%4 == 0: // no header: counted in latency, not in the split
		case i%2 == 0:
			w.Header().Set("Server-Timing", "queue;dur=3.000, search;dur=0.500")
		default:
			w.Header().Set("Server-Timing", "queue;dur=1.000, search;dur=0.250")
		}
		w.Write([]byte(`{"hits":[]}`))
	}))
	defer srv.Close()
	cfg := config{URL: srv.URL, Clients: 2, Duration: time.Minute, Requests: 40, Kind: "search",
		Index: "docs", Dims: 8, TopK: 5, Docs: 1, Timeout: 5 * time.Second, Seed: 1}
	rep, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Timed != 30 {
		t.Fatalf("timed %d, want 30 of 40", rep.Timed)
	}
	// 20 responses waited 1 ms and 10 waited 3 ms.
	if rep.WaitP50ms != 1 || rep.WaitP99ms != 3 || rep.ServiceP50 != 0.25 || rep.ServiceP99 != 0.5 {
		t.Fatalf("split %+v", rep)
	}
	if want := float64(cfg.Clients) / rep.QPS * 1000; rep.LittleMs <= 0 || rep.LittleMs < want*0.99 || rep.LittleMs > want*1.01 {
		t.Fatalf("Little's law mean %v ms, want clients/qps = %v", rep.LittleMs, want)
	}
	var sb strings.Builder
	rep.print(&sb)
	if !strings.Contains(sb.String(), "wait p50 1.00  p99 3.00; search p50 0.25  p99 0.50") {
		t.Fatalf("printed report lacks the split:\n%s", sb.String())
	}
}

func TestServerTiming(t *testing.T) {
	for _, tc := range []struct {
		h          string
		wait, serv time.Duration
		ok         bool
	}{
		{"queue;dur=0.125, search;dur=2.5", 125 * time.Microsecond, 2500 * time.Microsecond, true},
		{`search;desc="x";dur=1,queue;dur=0`, 0, time.Millisecond, true},
		{"queue;dur=1", 0, 0, false},
		{"", 0, 0, false},
		{"queue;dur=x, search;dur=1", 0, 0, false},
	} {
		w, s, ok := serverTiming(tc.h)
		if ok != tc.ok || (ok && (w != tc.wait || s != tc.serv)) {
			t.Errorf("serverTiming(%q) = %v, %v, %v; want %v, %v, %v", tc.h, w, s, ok, tc.wait, tc.serv, tc.ok)
		}
	}
}
