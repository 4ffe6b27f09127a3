package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/embedtest"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/extractive"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/openaiwire"
)

// hashDims is the length of the fake model's vectors.
const hashDims = 64

// hashVector is the fake "hash" model's vector of a text: a bag of words
// (texts that share words get a high cosine).
func hashVector(text string) []float32 { return embedtest.BagOfWords(text, hashDims) }

// fakeModels serves the "hash" model to the API (api.Models, api.ModelLister)
// and to the engine (index.QueryEmbedder).
type fakeModels struct {
	hash *embedtest.Embedder
}

func newFakeModels() *fakeModels {
	return &fakeModels{hash: embedtest.NewHash("hash", hashDims)}
}

func (m *fakeModels) Embedder(ctx context.Context, name string) (embed.Embedder, error) {
	if name == "hash" {
		return m.hash, nil
	}
	return nil, fmt.Errorf("model %q: %w", name, embed.ErrModelNotFound)
}

func (m *fakeModels) ListModels() []api.ModelInfo {
	return []api.ModelInfo{
		{ID: "hash", Kind: "embedding", Dims: hashDims, Loaded: true, LoadMS: 12.5, MemoryBytes: 4096},
		{ID: "onnx-fake", Kind: "embedding", Dims: 8, Loaded: true, LoadMS: 250, MemoryBytes: 1 << 20, MemoryEstimated: true},
		{ID: "not-loaded", Kind: "embedding", SizeBytes: 99},
	}
}

func (m *fakeModels) EmbedQuery(ctx context.Context, model, text string) ([]float32, error) {
	emb, err := m.Embedder(ctx, model)
	if err != nil {
		return nil, err
	}
	vs, err := emb.Embed(ctx, embed.Query, []string{text})
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

// scriptGen is a fake generate.Generator that streams fixed tokens. With
// delay it pauses before each token; with forever it keeps streaming until
// its context ends; with failAfter > 0 it fails after that many tokens.
type scriptGen struct {
	tokens    []string
	delay     time.Duration
	forever   bool
	failAfter int
	usage     generate.Usage
	calls     []openaiwire.ToolCall // sent on the done event (finish reason tool_calls)

	mu       sync.Mutex
	reqs     []generate.Request
	started  chan struct{} // closed when the first Generate starts (if set)
	finished chan error    // receives Generate's result (if set)
	once     sync.Once
}

func (g *scriptGen) Info() generate.Info {
	return generate.Info{ID: "script-gen", Backend: "script", ContextSize: 4096}
}

func (g *scriptGen) Generate(ctx context.Context, req generate.Request, emit func(generate.Event) error) (err error) {
	g.mu.Lock()
	g.reqs = append(g.reqs, req)
	g.mu.Unlock()
	if g.started != nil {
		g.once.Do(func() { close(g.started) })
	}
	if g.finished != nil {
		defer func() { g.finished <- err }()
	}
	n := 0
	for i := 0; g.forever || i < len(g.tokens); i++ {
		if g.failAfter > 0 && n == g.failAfter {
			return fmt.Errorf("backend exploded: %w", generate.ErrUpstream)
		}
		if g.delay > 0 {
			select {
			case <-time.After(g.delay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		tok := "tok "
		if len(g.tokens) > 0 {
			tok = g.tokens[i%len(g.tokens)]
		}
		if err := emit(generate.Event{Type: generate.EventToken, Delta: tok}); err != nil {
			return err
		}
		n++
	}
	u := g.usage
	if len(g.calls) > 0 {
		return emit(generate.Event{Type: generate.EventDone, Usage: &u, FinishReason: "tool_calls", ToolCalls: g.calls})
	}
	return emit(generate.Event{Type: generate.EventDone, Usage: &u, FinishReason: "stop"})
}

func (g *scriptGen) requests() []generate.Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]generate.Request(nil), g.reqs...)
}

// testEnv is a server over a real engine in a temp dir.
type testEnv struct {
	t      *testing.T
	srv    *httptest.Server
	api    *api.Server
	eng    *index.Engine
	models *fakeModels
}

// newEnv opens an engine in t.TempDir() and serves it; mut may adjust the
// config (generator, limits). The default generator is extractive and the
// default model is "none" (keyword-only indexes).
func newEnv(t *testing.T, mut func(*api.Config)) *testEnv {
	t.Helper()
	models := newFakeModels()
	eng, err := index.Open(context.Background(), index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := eng.Close(); err != nil {
			t.Errorf("engine close: %v", err)
		}
	})
	cfg := api.Config{Engine: eng, Models: models, Generator: extractive.New(extractive.Config{}), DefaultModel: "none", Version: "test-1"}
	if mut != nil {
		mut(&cfg)
	}
	s := api.New(cfg)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &testEnv{t: t, srv: srv, api: s, eng: eng, models: models}
}

// do sends a request with a JSON (or raw string) body and returns the
// status, body and headers.
func (e *testEnv) do(method, path string, body any) (int, []byte, http.Header) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp.StatusCode, out, resp.Header
}

// mustJSON sends a request, wants status want, and decodes the body into v
// (when v is not nil).
func (e *testEnv) mustJSON(method, path string, body any, want int, v any) {
	e.t.Helper()
	st, out, _ := e.do(method, path, body)
	if st != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, st, want, out)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, out, err)
		}
	}
}

// wantError sends a request and checks the status and the JSON error body
// {"error":{"code","message"}} with the expected code.
func (e *testEnv) wantError(method, path string, body any, status int, code string) string {
	e.t.Helper()
	st, out, h := e.do(method, path, body)
	return checkError(e.t, method+" "+path, st, out, h, status, code)
}

func checkError(t *testing.T, what string, st int, out []byte, h http.Header, status int, code string) string {
	t.Helper()
	if st != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, st, status, out)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: error Content-Type %q, want application/json", what, ct)
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("%s: error body %s is not {\"error\":{\"code\",\"message\"}}: %v", what, out, err)
	}
	if body.Error.Code != code {
		t.Errorf("%s: error code %q, want %q (message %q)", what, body.Error.Code, code, body.Error.Message)
	}
	if strings.TrimSpace(body.Error.Message) == "" {
		t.Errorf("%s: empty error message", what)
	}
	return body.Error.Message
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	Name string
	Data string
}

// readSSE parses a text/event-stream body: "event:" and "data:" fields,
// events ended by a blank line, comments skipped. stop, when not nil, ends
// reading early when it returns true for an event.
func readSSE(t *testing.T, r io.Reader, stop func(sseEvent) bool) []sseEvent {
	t.Helper()
	var evs []sseEvent
	var cur sseEvent
	var data []string
	has := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if has {
				cur.Data = strings.Join(data, "\n")
				evs = append(evs, cur)
				if stop != nil && stop(cur) {
					return evs
				}
			}
			cur, data, has = sseEvent{}, nil, false
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				cur.Name, has = value, true
			case "data":
				data, has = append(data, value), true
			default:
				t.Errorf("unexpected SSE field in line %q", line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading SSE stream: %v", err)
	}
	if has {
		t.Errorf("SSE stream ended inside an event (no blank line after %+v)", cur)
	}
	return evs
}

// corpus is a small collection with known BM25 behaviour.
var corpus = []map[string]any{
	{"id": "bread", "title": "Baking bread", "text": "To bake bread, mix flour, water, yeast and salt. Knead the dough, let it rise, and bake the loaf in a hot oven.",
		"metadata": map[string]any{"year": 2020, "lang": "en"}},
	{"id": "sourdough", "title": "Sourdough", "text": "Sourdough bread uses a starter instead of commercial yeast.",
		"metadata": map[string]any{"year": 2010, "lang": "fr"}},
	{"id": "cats", "title": "Cats", "text": "Cats are small domesticated felines. A cat purrs and sleeps most of the day."},
	{"id": "dogs", "title": "Dogs", "text": "Dogs are loyal animals. A dog barks at the mail carrier."},
	{"id": "stocks", "title": "Markets", "text": "The stock market fell today as investors sold shares."},
}

// hitsResponse is the search response shape.
type hitsResponse struct {
	Hits []struct {
		DocID   string         `json:"doc_id"`
		ChunkID string         `json:"chunk_id"`
		Score   float64        `json:"score"`
		Source  string         `json:"source"`
		Title   string         `json:"title"`
		Text    string         `json:"text"`
		Start   int            `json:"start"`
		End     int            `json:"end"`
		Meta    map[string]any `json:"metadata"`
		Explain *struct {
			BM25 *struct {
				Score float64
				Rank  int
			} `json:"bm25"`
			Vector *struct {
				Score float64
				Rank  int
			} `json:"vector"`
			Fused float64 `json:"fused"`
		} `json:"explain"`
	} `json:"hits"`
	TookMS *float64 `json:"took_ms"`
}

func (h hitsResponse) docIDs() []string {
	ids := make([]string, len(h.Hits))
	for i, x := range h.Hits {
		ids[i] = x.DocID
	}
	return ids
}

// seed creates index name (model "none" or "hash") and puts the corpus.
func (e *testEnv) seed(name, model string) {
	e.t.Helper()
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": name, "model": model}, http.StatusCreated, nil)
	var put struct {
		Written, Skipped, Chunks int
	}
	e.mustJSON("POST", "/v1/indexes/"+name+"/documents", map[string]any{"documents": corpus}, http.StatusOK, &put)
	if put.Written != len(corpus) || put.Chunks != len(corpus) {
		e.t.Fatalf("seeding %s: %+v, want %d documents of one chunk", name, put, len(corpus))
	}
}
