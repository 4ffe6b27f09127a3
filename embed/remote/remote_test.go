package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/openaiwire"
)

// fakeServer is an OpenAI-compatible embeddings server whose vector for a
// text is [len(text), first byte, 1, 1, ...].
type fakeServer struct {
	dims     int
	reverse  bool          // answer items in reverse order
	failures int32         // fail this many requests first
	status   int           // with this status
	after    string        // and this Retry-After
	delay    time.Duration // sleep before answering
	body     string        // answer this body instead
	wantKey  string

	mu       sync.Mutex
	calls    atomic.Int32
	inflight atomic.Int32
	peak     atomic.Int32
	inputs   [][]string
	models   []string
}

func vectorFor(s string, dims int) []float32 {
	v := make([]float32, dims)
	for i := range v {
		v[i] = 1
	}
	v[0] = float32(len(s))
	if len(s) > 0 && dims > 1 {
		v[1] = float32(s[0])
	}
	return v
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	cur := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		p := f.peak.Load()
		if cur <= p || f.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if f.wantKey != "" && r.Header.Get("Authorization") != "Bearer "+f.wantKey {
		http.Error(w, `{"error":"bad key"}`, http.StatusUnauthorized)
		return
	}
	if n <= f.failures {
		if f.after != "" {
			w.Header().Set("Retry-After", f.after)
		}
		http.Error(w, "try later", f.status)
		return
	}
	var req openaiwire.EmbeddingsRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	f.inputs = append(f.inputs, []string(req.Input))
	f.models = append(f.models, req.Model)
	f.mu.Unlock()
	if f.body != "" {
		fmt.Fprint(w, f.body)
		return
	}
	type item struct {
		Object    string    `json:"object"`
		Embedding []float32 `json:"embedding"`
		Index     int       `json:"index"`
	}
	items := make([]item, len(req.Input))
	for i, s := range req.Input {
		j := i
		if f.reverse {
			j = len(items) - 1 - i
		}
		items[j] = item{"embedding", vectorFor(s, f.dims), i}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": items, "model": req.Model})
}

func newEmbedder(t *testing.T, f *fakeServer, cfg Config) (*Embedder, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	if cfg.Model == "" {
		cfg.Model = "bge-small-en-v1.5"
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = time.Millisecond
		cfg.MaxBackoff = 20 * time.Millisecond
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, srv
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%c text number %d%s", 'a'+i%26, i, strings.Repeat("!", i%7))
	}
	return out
}

func checkVectors(t *testing.T, in []string, got [][]float32, prefix string, dims int) {
	t.Helper()
	if len(got) != len(in) {
		t.Fatalf("%d vectors for %d texts", len(got), len(in))
	}
	for i, s := range in {
		want := vectorFor(prefix+s, dims)
		if len(got[i]) != dims || got[i][0] != want[0] || got[i][1] != want[1] {
			t.Fatalf("vector %d = %v..., want %v...", i, got[i][:2], want[:2])
		}
	}
}

func TestEmbedHappyPath(t *testing.T) {
	f := &fakeServer{dims: 8, wantKey: "sekret"}
	e, _ := newEmbedder(t, f, Config{APIKey: "sekret", BatchSize: 10, Concurrency: 2,
		QueryPrefix: "query: ", PassagePrefix: "passage: "})
	if d := e.Info().Dims; d != 0 {
		t.Fatalf("dims before first call = %d", d)
	}
	in := texts(95)
	got, err := e.Embed(context.Background(), embed.Passage, in)
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, in, got, "passage: ", 8)
	if c := f.calls.Load(); c != 10 {
		t.Errorf("%d requests, want 10 batches", c)
	}
	if p := f.peak.Load(); p > 2 {
		t.Errorf("%d requests in flight, limit 2", p)
	}
	if info := e.Info(); info.Dims != 8 || info.ID != "bge-small-en-v1.5" || info.QueryPrefix != "query: " {
		t.Errorf("info %+v", info)
	}
	q, err := e.Embed(context.Background(), embed.Query, in[:3])
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, in[:3], q, "query: ", 8)
	for _, m := range f.models {
		if m != "bge-small-en-v1.5" {
			t.Errorf("model %q sent", m)
		}
	}
	empty, err := e.Embed(context.Background(), embed.Query, nil)
	if err != nil || len(empty) != 0 {
		t.Errorf("empty input: %v %v", empty, err)
	}
}

func TestEmbedOrderByIndex(t *testing.T) {
	f := &fakeServer{dims: 4, reverse: true}
	e, _ := newEmbedder(t, f, Config{BatchSize: 7})
	in := texts(30)
	got, err := e.Embed(context.Background(), embed.Passage, in)
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, in, got, "", 4)
}

func TestEmbedBaseURLWithV1(t *testing.T) {
	f := &fakeServer{dims: 4}
	srv := httptest.NewServer(f)
	defer srv.Close()
	e, err := New(Config{BaseURL: srv.URL + "/v1/", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Embed(context.Background(), embed.Passage, []string{"x"}); err != nil {
		t.Fatal(err)
	}
}

func TestEmbedRetries(t *testing.T) {
	cases := []struct {
		name      string
		f         *fakeServer
		retries   int
		wantErr   error
		wantCalls int32
	}{
		{"5xx then success", &fakeServer{dims: 4, failures: 2, status: 503}, 3, nil, 3},
		{"429 with Retry-After then success", &fakeServer{dims: 4, failures: 1, status: 429, after: "0"}, 3, nil, 2},
		{"persistent 500", &fakeServer{dims: 4, failures: 100, status: 500}, 2, data.ErrUnavailable, 3},
		{"400 is not retried", &fakeServer{dims: 4, failures: 100, status: 400}, 3, data.ErrInvalid, 1},
		{"408 is retried", &fakeServer{dims: 4, failures: 1, status: 408}, 3, nil, 2},
		{"404 is not retried", &fakeServer{dims: 4, failures: 100, status: 404}, 3, data.ErrNotFound, 1},
		{"bad key", &fakeServer{dims: 4, wantKey: "right"}, 3, data.ErrUnauthorized, 1},
		{"retries disabled", &fakeServer{dims: 4, failures: 100, status: 502}, -1, data.ErrUnavailable, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := newEmbedder(t, c.f, Config{MaxRetries: c.retries, APIKey: "wrong"})
			got, err := e.Embed(context.Background(), embed.Passage, []string{"a", "b"})
			if c.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				checkVectors(t, []string{"a", "b"}, got, "", 4)
			} else {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("error %v, want %v", err, c.wantErr)
				}
				if c.wantErr != data.ErrUnavailable && !errors.Is(err, ErrUpstream) {
					t.Errorf("error %v does not wrap ErrUpstream", err)
				}
			}
			if n := c.f.calls.Load(); n != c.wantCalls {
				t.Errorf("%d calls, want %d", n, c.wantCalls)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := &fakeServer{dims: 4, failures: 1, status: 429, after: "1"}
	e, _ := newEmbedder(t, f, Config{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Second})
	start := time.Now()
	if _, err := e.Embed(context.Background(), embed.Passage, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("retried after %v, server asked for 1s", el)
	}
}

func TestEmbedBadResponses(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		dims    int
		wantErr error
	}{
		{"malformed json", `{"data": [`, 0, ErrBadResponse},
		{"wrong count", `{"data":[{"embedding":[1,2],"index":0}]}`, 0, ErrBadResponse},
		{"repeated index", `{"data":[{"embedding":[1,2],"index":0},{"embedding":[1,2],"index":0}]}`, 0, ErrBadResponse},
		{"index out of range", `{"data":[{"embedding":[1,2],"index":0},{"embedding":[1,2],"index":5}]}`, 0, ErrBadResponse},
		{"ragged dims", `{"data":[{"embedding":[1,2],"index":0},{"embedding":[1,2,3],"index":1}]}`, 0, data.ErrDimension},
		{"configured dims differ", `{"data":[{"embedding":[1,2],"index":0},{"embedding":[1,2],"index":1}]}`, 3, data.ErrDimension},
		{"empty vector", `{"data":[{"embedding":[],"index":0},{"embedding":[1],"index":1}]}`, 0, ErrBadResponse},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeServer{body: c.body}
			e, _ := newEmbedder(t, f, Config{Dims: c.dims})
			_, err := e.Embed(context.Background(), embed.Passage, []string{"a", "b"})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			if n := f.calls.Load(); n != 1 {
				t.Errorf("%d calls: shape errors must not be retried", n)
			}
		})
	}
}

// A server may leave out "index" (data in input order) or send base64
// vectors; both read as the server meant them.
func TestEmbedResponseShapes(t *testing.T) {
	for name, body := range map[string]string{
		"no index": `{"data":[{"embedding":[1,2]},{"embedding":[3,4]}]}`,
		"base64":   `{"data":[{"embedding":"AACAPwAAAEA=","index":0},{"embedding":"AABAQAAAgEA=","index":1}]}`,
	} {
		e, _ := newEmbedder(t, &fakeServer{body: body}, Config{})
		vecs, err := e.Embed(context.Background(), embed.Passage, []string{"a", "b"})
		if err != nil || len(vecs) != 2 || vecs[0][0] != 1 || vecs[0][1] != 2 || vecs[1][0] != 3 || vecs[1][1] != 4 {
			t.Errorf("%s: %v, %v", name, vecs, err)
		}
	}
}

func TestEmbedTimeout(t *testing.T) {
	f := &fakeServer{dims: 4, delay: 2 * time.Second}
	e, _ := newEmbedder(t, f, Config{Timeout: 50 * time.Millisecond, MaxRetries: 1})
	start := time.Now()
	_, err := e.Embed(context.Background(), embed.Passage, []string{"a"})
	if !errors.Is(err, data.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want unavailable after deadline", err)
	}
	if f.calls.Load() != 2 {
		t.Errorf("%d calls, want 2 (one retry)", f.calls.Load())
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v", el)
	}
}

func TestEmbedContextCancel(t *testing.T) {
	f := &fakeServer{dims: 4, delay: 5 * time.Second}
	e, _ := newEmbedder(t, f, Config{BatchSize: 1, Concurrency: 2})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := e.Embed(ctx, embed.Passage, texts(10))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("cancel took %v", el)
	}
	if n := f.calls.Load(); n > 2 {
		t.Errorf("%d requests started after cancel, want at most 2", n)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{Model: "m"},
		{BaseURL: "http://x"},
		{BaseURL: "ftp://x", Model: "m"},
		{BaseURL: "http://x", Model: "m", Dims: -1},
	} {
		if _, err := New(cfg); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	e, err := New(Config{BaseURL: url, Model: "m", MaxRetries: 1, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Embed(context.Background(), embed.Passage, []string{"a"}); !errors.Is(err, data.ErrUnavailable) {
		t.Fatalf("error %v, want ErrUnavailable", err)
	}
}

func TestDims(t *testing.T) {
	f := &fakeServer{dims: 12}
	e, _ := newEmbedder(t, f, Config{})
	for range 2 {
		d, err := e.Dims(context.Background())
		if err != nil || d != 12 {
			t.Fatalf("Dims = %d, %v", d, err)
		}
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("%d probes, want 1", n)
	}
	fixed, _ := newEmbedder(t, &fakeServer{dims: 12}, Config{Dims: 7})
	if d, err := fixed.Dims(context.Background()); err != nil || d != 7 {
		t.Errorf("configured Dims = %d, %v", d, err)
	}
}
