package cloudflare_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/openaiwire"
)

const base = "/client/v4/accounts/acc123"

// fakeEmbedder returns, for each text, a vector whose first component is
// the text's length and whose i-th component is i+1: easy to predict.
type fakeEmbedder struct {
	id   string
	dims int

	mu    sync.Mutex
	kinds []embed.Kind
}

func (f *fakeEmbedder) Info() embed.Info { return embed.Info{ID: f.id, Dims: f.dims} }

func (f *fakeEmbedder) Embed(ctx context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	f.mu.Lock()
	f.kinds = append(f.kinds, kind)
	f.mu.Unlock()
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, f.dims)
		for j := range v {
			v[j] = float32(j + 1)
		}
		v[0] = float32(len(t))
		out[i] = v
	}
	return out, nil
}

// fakeModels has the models named in installed.
type fakeModels struct {
	models map[string]*fakeEmbedder

	mu   sync.Mutex
	slow embed.Embedder // when set, answers for the model "slow"
}

func (m *fakeModels) Embedder(ctx context.Context, name string) (embed.Embedder, error) {
	m.mu.Lock()
	slow := m.slow
	m.mu.Unlock()
	if slow != nil && name == "slow" {
		return slow, nil
	}
	if e, ok := m.models[name]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("model %q: %w", name, embed.ErrModelNotFound)
}

// fakeGen streams fixed tokens; with failAfter > 0 it fails after that
// many tokens, with failFirst it fails before any.
type fakeGen struct {
	tokens    []string
	calls     []openaiwire.ToolCall // sent on the done event
	failAfter int
	failFirst error

	mu   sync.Mutex
	reqs []generate.Request
}

func (g *fakeGen) Info() generate.Info { return generate.Info{ID: "fake-gen", Backend: "fake"} }

func (g *fakeGen) Generate(ctx context.Context, req generate.Request, emit func(generate.Event) error) error {
	g.mu.Lock()
	g.reqs = append(g.reqs, req)
	g.mu.Unlock()
	if g.failFirst != nil {
		return g.failFirst
	}
	for i, t := range g.tokens {
		if g.failAfter > 0 && i == g.failAfter {
			return fmt.Errorf("backend exploded: %w", generate.ErrUpstream)
		}
		if err := emit(generate.Event{Type: generate.EventToken, Delta: t}); err != nil {
			return err
		}
	}
	return emit(generate.Event{Type: generate.EventDone, FinishReason: "stop", Usage: &generate.Usage{PromptTokens: 7, CompletionTokens: len(g.tokens)}, ToolCalls: g.calls})
}

func (g *fakeGen) last() generate.Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reqs[len(g.reqs)-1]
}

type env struct {
	t      *testing.T
	engine *index.Engine
	srv    *httptest.Server
	gen    *fakeGen
	models *fakeModels
	dir    string
	svc    *cloudflare.Service
}

func newEnv(t *testing.T, mod ...func(*cloudflare.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	eng, err := index.Open(context.Background(), index.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	models := &fakeModels{models: map[string]*fakeEmbedder{
		"bge-small-en-v1.5": {id: "bge-small-en-v1.5", dims: 384},
		"use-lite":          {id: "use-lite", dims: 512},
	}}
	return newEnvWith(t, eng, dir, models, mod...)
}

// newEnvWith mounts the routes on an existing engine and data dir.
func newEnvWith(t *testing.T, eng *index.Engine, dir string, models *fakeModels, mod ...func(*cloudflare.Config)) *env {
	t.Helper()
	gen := &fakeGen{tokens: []string{"Hel", "lo", " world"}}
	cfg := cloudflare.Config{Engine: eng, Models: models, Generator: gen, StateDir: dir, DefaultModel: "use-lite",
		InstalledModels: func() []string { return []string{"bge-small-en-v1.5", "use-lite"} }}
	for _, m := range mod {
		m(&cfg)
	}
	e := echo.New()
	svc := cloudflare.Register(e, cfg)
	t.Cleanup(svc.Close)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{t: t, engine: eng, srv: srv, gen: gen, models: models, dir: dir, svc: svc}
}

// envelope is a decoded Cloudflare response.
type envelope struct {
	Result  json.RawMessage `json:"result"`
	Success *bool           `json:"success"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Messages []json.RawMessage `json:"messages"`
}

// do sends a request and decodes the envelope, checking its invariants:
// success agrees with the status, errors is non-empty exactly on failure,
// and both arrays are present.
func (e *env) do(method, path, contentType string, body string) (int, envelope) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("%s %s: content type %q, body %s", method, path, ct, raw)
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&env); err != nil {
		e.t.Fatalf("%s %s: not an envelope: %v: %s", method, path, err, raw)
	}
	if env.Success == nil || env.Errors == nil || env.Messages == nil || !bytes.Contains(raw, []byte(`"result":`)) {
		e.t.Fatalf("%s %s: envelope lacks result/success/errors/messages: %s", method, path, raw)
	}
	okStatus := resp.StatusCode == http.StatusOK
	if *env.Success != okStatus || (len(env.Errors) == 0) != okStatus {
		e.t.Fatalf("%s %s: status %d with success=%v errors=%v", method, path, resp.StatusCode, *env.Success, env.Errors)
	}
	if !okStatus && string(env.Result) != "null" {
		e.t.Fatalf("%s %s: failed response carries a result: %s", method, path, raw)
	}
	return resp.StatusCode, env
}

// json sends a JSON body and expects status want; it returns the result.
func (e *env) json(method, path string, body any, want int) json.RawMessage {
	e.t.Helper()
	var s string
	switch b := body.(type) {
	case nil:
	case string:
		s = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		s = string(raw)
	}
	status, env := e.do(method, path, "application/json", s)
	if status != want {
		e.t.Fatalf("%s %s %s: status %d, want %d (errors %v)", method, path, clip(s), status, want, env.Errors)
	}
	return env.Result
}

// fail sends a request that must fail with status and an error message
// containing substr; it returns the error code.
func (e *env) fail(method, path, contentType, body string, status int, substr string) int {
	e.t.Helper()
	got, env := e.do(method, path, contentType, body)
	if got != status {
		e.t.Fatalf("%s %s %s: status %d, want %d (errors %v)", method, path, clip(body), got, status, env.Errors)
	}
	if !strings.Contains(env.Errors[0].Message, substr) {
		e.t.Fatalf("%s %s: error %q does not mention %q", method, path, env.Errors[0].Message, substr)
	}
	return env.Errors[0].Code
}

func (e *env) ndjson(index, op, body string, want int) json.RawMessage {
	e.t.Helper()
	status, env := e.do("POST", base+"/vectorize/v2/indexes/"+index+"/"+op, "application/x-ndjson", body)
	if status != want {
		e.t.Fatalf("%s %s: status %d, want %d (errors %v)", op, clip(body), status, want, env.Errors)
	}
	return env.Result
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func decodeInto[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

func (e *env) createIndex(name string, dims int, metric string) {
	e.t.Helper()
	e.json("POST", base+"/vectorize/v2/indexes", map[string]any{"name": name, "config": map[string]any{"dimensions": dims, "metric": metric}}, 200)
}

var errBoom = errors.New("boom")
