package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/generate"
)

// postStream posts body and returns the open response.
func postStream(t *testing.T, ctx context.Context, client *http.Client, url string, body any) *http.Response {
	t.Helper()
	j, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestAskStream(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("kw", "none")
	q := map[string]any{"query": "How do I bake bread?", "mode": "bm25"}

	var whole struct {
		Answer    string `json:"answer"`
		Citations []struct {
			ChunkID string `json:"chunk_id"`
		} `json:"citations"`
	}
	e.mustJSON("POST", "/v1/indexes/kw/ask", q, http.StatusOK, &whole)

	q["stream"] = true
	resp := postStream(t, context.Background(), e.srv.Client(), e.srv.URL+"/v1/indexes/kw/ask", q)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	evs := readSSE(t, resp.Body, nil)
	if len(evs) < 3 {
		t.Fatalf("%d events: %+v", len(evs), evs)
	}
	if evs[0].Name != "retrieval" {
		t.Fatalf("first event %q, want retrieval", evs[0].Name)
	}
	var retr struct {
		Hits []struct {
			DocID   string `json:"doc_id"`
			ChunkID string `json:"chunk_id"`
		} `json:"hits"`
	}
	if err := json.Unmarshal([]byte(evs[0].Data), &retr); err != nil || len(retr.Hits) == 0 || retr.Hits[0].DocID != "bread" {
		t.Fatalf("retrieval event %s: %v", evs[0].Data, err)
	}
	last := evs[len(evs)-1]
	if last.Name != "done" {
		t.Fatalf("last event %q, want done", last.Name)
	}
	var text strings.Builder
	for i, ev := range evs[1 : len(evs)-1] {
		if ev.Name != "token" {
			t.Fatalf("event %d is %q between retrieval and done", i+1, ev.Name)
		}
		var tok struct {
			Delta string `json:"delta"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &tok); err != nil || tok.Delta == "" {
			t.Fatalf("token event %q: %v", ev.Data, err)
		}
		text.WriteString(tok.Delta)
	}
	if text.String() != whole.Answer {
		t.Fatalf("streamed text %q differs from the non-streamed answer %q", text.String(), whole.Answer)
	}
	var done struct {
		Citations []struct {
			ChunkID string `json:"chunk_id"`
		} `json:"citations"`
		FinishReason string `json:"finish_reason"`
		Generator    struct {
			Backend string `json:"backend"`
		} `json:"generator"`
	}
	if err := json.Unmarshal([]byte(last.Data), &done); err != nil {
		t.Fatal(err)
	}
	if len(done.Citations) != len(whole.Citations) || len(done.Citations) == 0 || done.FinishReason == "" || done.Generator.Backend != "extractive" {
		t.Fatalf("done event %s (non-streamed citations %+v)", last.Data, whole.Citations)
	}
	for i := range done.Citations {
		if done.Citations[i].ChunkID != whole.Citations[i].ChunkID {
			t.Fatalf("citation %d: %q vs %q", i, done.Citations[i].ChunkID, whole.Citations[i].ChunkID)
		}
	}

	// Errors found before the stream starts are plain JSON errors.
	e.wantError("POST", "/v1/indexes/nope/ask", map[string]any{"query": "bread", "stream": true}, http.StatusNotFound, "not_found")
	e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread", "stream": true, "mode": "x"}, http.StatusBadRequest, "invalid_request")
}

// A generation failure mid-stream ends the stream with one error event.
func TestAskStreamGenerationError(t *testing.T) {
	gen := &scriptGen{tokens: []string{"one ", "two ", "three "}, failAfter: 2}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")
	resp := postStream(t, context.Background(), e.srv.Client(), e.srv.URL+"/v1/indexes/kw/ask", map[string]any{"query": "bread", "stream": true})
	defer resp.Body.Close()
	evs := readSSE(t, resp.Body, nil)
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Name)
	}
	if strings.Join(names, ",") != "retrieval,token,token,error" {
		t.Fatalf("events %v, want retrieval,token,token,error", names)
	}
	if !strings.Contains(evs[3].Data, "backend exploded") {
		t.Fatalf("error event %s does not carry the cause", evs[3].Data)
	}
	// Non-streamed, the same failure is a 502.
	e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread"}, http.StatusBadGateway, "upstream_error")
}

// A client that goes away mid-stream cancels generation; the server keeps
// serving.
func TestAskStreamClientDisconnect(t *testing.T) {
	gen := &scriptGen{forever: true, delay: 2 * time.Millisecond, finished: make(chan error, 1)}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := postStream(t, ctx, e.srv.Client(), e.srv.URL+"/v1/indexes/kw/ask", map[string]any{"query": "bread", "stream": true})
	tokens := 0
	evs := readSSE(t, resp.Body, func(ev sseEvent) bool {
		if ev.Name == "token" {
			tokens++
		}
		return tokens == 3
	})
	if evs[0].Name != "retrieval" || tokens != 3 {
		t.Fatalf("events before disconnect: %+v", evs)
	}
	cancel()
	resp.Body.Close()
	select {
	case err := <-gen.finished:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("generation ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("generation still running 5 s after the client left")
	}
	var hz map[string]string
	e.mustJSON("GET", "/healthz", nil, http.StatusOK, &hz)
	e.mustJSON("POST", "/v1/indexes/kw/search", map[string]any{"query": "bread"}, http.StatusOK, nil)
}

func TestChatCompletions(t *testing.T) {
	gen := &scriptGen{tokens: []string{"Hel", "lo", " world"}, usage: generate.Usage{PromptTokens: 7, CompletionTokens: 3}}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	msgs := []map[string]string{{"role": "system", "content": "be brief"}, {"role": "user", "content": "say hello"}}

	var r struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Role, Content string
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	e.mustJSON("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "max_tokens": 9, "temperature": 0.5}, http.StatusOK, &r)
	if r.Object != "chat.completion" || !strings.HasPrefix(r.ID, "chatcmpl-") || r.Model != "script-gen" {
		t.Fatalf("response header fields %+v", r)
	}
	if len(r.Choices) != 1 || r.Choices[0].Message.Content != "Hello world" || r.Choices[0].Message.Role != "assistant" || r.Choices[0].FinishReason != "stop" {
		t.Fatalf("choices %+v", r.Choices)
	}
	if r.Usage.PromptTokens != 7 || r.Usage.CompletionTokens != 3 || r.Usage.TotalTokens != 10 {
		t.Fatalf("usage %+v", r.Usage)
	}
	reqs := gen.requests()
	if len(reqs) != 1 || len(reqs[0].Messages) != 2 || reqs[0].Messages[1].Content != "say hello" || reqs[0].MaxTokens != 9 || reqs[0].Temperature != 0.5 {
		t.Fatalf("generator got %+v", reqs)
	}

	// Streamed, with a usage chunk.
	resp := postStream(t, context.Background(), e.srv.Client(), e.srv.URL+"/v1/chat/completions",
		map[string]any{"model": "mine", "messages": msgs, "stream": true, "stream_options": map[string]bool{"include_usage": true}})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream status %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	evs := readSSE(t, resp.Body, nil)
	if len(evs) < 2 || evs[len(evs)-1].Data != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %+v", evs)
	}
	var content strings.Builder
	var finish []string
	sawUsage := false
	for i, ev := range evs[:len(evs)-1] {
		if ev.Name != "" {
			t.Fatalf("chat chunk %d has event name %q (OpenAI streams are data-only)", i, ev.Name)
		}
		var ch struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Model   string `json:"model"`
			Choices []struct {
				Delta struct {
					Role, Content string
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &ch); err != nil {
			t.Fatalf("chunk %d %q: %v", i, ev.Data, err)
		}
		if ch.Object != "chat.completion.chunk" || ch.Model != "mine" || !strings.HasPrefix(ch.ID, "chatcmpl-") {
			t.Fatalf("chunk %d header %+v", i, ch)
		}
		if i == 0 && (len(ch.Choices) != 1 || ch.Choices[0].Delta.Role != "assistant") {
			t.Fatalf("first chunk lacks the assistant role: %s", ev.Data)
		}
		for _, c := range ch.Choices {
			content.WriteString(c.Delta.Content)
			if c.FinishReason != nil {
				finish = append(finish, *c.FinishReason)
			}
		}
		if ch.Usage != nil {
			if i != len(evs)-2 || len(ch.Choices) != 0 || ch.Usage.TotalTokens != 10 {
				t.Fatalf("usage chunk %d: %s", i, ev.Data)
			}
			sawUsage = true
		}
	}
	if content.String() != "Hello world" || len(finish) != 1 || finish[0] != "stop" || !sawUsage {
		t.Fatalf("streamed content %q, finish reasons %v, usage chunk %v", content.String(), finish, sawUsage)
	}

	for _, tc := range []struct {
		name string
		body any
	}{
		{"no messages", map[string]any{"messages": []any{}}},
		{"bad role", map[string]any{"messages": []map[string]string{{"role": "wizard", "content": "x"}}}},
		{"bad temperature", map[string]any{"messages": msgs, "temperature": 3}},
		{"unknown field", map[string]any{"messages": msgs, "frobnicate": true}},
		{"bad JSON", `{"messages":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.wantError("POST", "/v1/chat/completions", tc.body, http.StatusBadRequest, "invalid_request")
		})
	}
	e.t = t
	if n := len(gen.requests()); n != 2 {
		t.Fatalf("generator ran %d times, want 2 (bad requests must not reach it)", n)
	}

	none := newEnv(t, func(c *api.Config) { c.Generator = nil })
	none.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs}, http.StatusServiceUnavailable, "unavailable")
	none.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "stream": true}, http.StatusServiceUnavailable, "unavailable")
}

// A backend failure before the first token is a proper HTTP error even
// when streaming was asked for; after it, an error chunk ends the stream.
func TestChatCompletionsErrors(t *testing.T) {
	gen := failingGen{}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	msgs := []map[string]string{{"role": "user", "content": "hi"}}
	e.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs}, http.StatusBadGateway, "upstream_error")
	e.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "stream": true}, http.StatusBadGateway, "upstream_error")

	mid := &scriptGen{tokens: []string{"a", "b", "c"}, failAfter: 1}
	e2 := newEnv(t, func(c *api.Config) { c.Generator = mid })
	resp := postStream(t, context.Background(), e2.srv.Client(), e2.srv.URL+"/v1/chat/completions", map[string]any{"messages": msgs, "stream": true})
	defer resp.Body.Close()
	evs := readSSE(t, resp.Body, nil)
	if len(evs) != 2 {
		t.Fatalf("events %+v, want one content chunk and one error chunk", evs)
	}
	var errChunk struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(evs[1].Data), &errChunk); err != nil || !strings.Contains(errChunk.Error.Message, "backend exploded") {
		t.Fatalf("error chunk %q: %v", evs[1].Data, err)
	}
	for _, ev := range evs {
		if ev.Data == "[DONE]" {
			t.Fatal("[DONE] after a failure")
		}
	}
}

// failingGen fails before emitting anything.
type failingGen struct{}

func (failingGen) Info() generate.Info { return generate.Info{ID: "failing", Backend: "script"} }
func (failingGen) Generate(ctx context.Context, req generate.Request, emit func(generate.Event) error) error {
	return fmt.Errorf("backend exploded: %w", generate.ErrUpstream)
}

// Serve drains in-flight requests after its context is cancelled.
func TestServeGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	gen := &scriptGen{tokens: []string{"slow", " answer"}, delay: 150 * time.Millisecond, started: started, finished: make(chan error, 1)}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	srv := e.api

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, 10*time.Second) }()

	url := "http://" + ln.Addr().String()
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			res <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("request never reached the generator")
	}
	cancel()

	// Not ready any more while draining.
	time.Sleep(20 * time.Millisecond)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz while shutting down: %d, want 503", rec.Code)
	}

	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	// The handler (and so its generation) finished before Serve returned.
	select {
	case err := <-gen.finished:
		if err != nil {
			t.Fatalf("in-flight generation ended with %v", err)
		}
	default:
		t.Fatal("Serve returned while the in-flight request was still running")
	}
	r := <-res
	if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, "slow answer") {
		t.Fatalf("in-flight request: %+v", r)
	}
	// New connections are refused.
	if resp, err := http.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("server still accepts connections after shutdown")
	}
}

// A stream that outlives the grace period is cut off and Serve returns.
func TestServeGraceExpires(t *testing.T) {
	started := make(chan struct{})
	gen := &scriptGen{forever: true, delay: 5 * time.Millisecond, started: started}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- e.api.Serve(ctx, ln, 100*time.Millisecond) }()
	resp := postStream(t, context.Background(), http.DefaultClient, "http://"+ln.Addr().String()+"/v1/chat/completions",
		map[string]any{"messages": []map[string]string{{"role": "user", "content": "hi"}}, "stream": true})
	defer resp.Body.Close()
	body := resp.Body
	<-started
	start := time.Now()
	cancel()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still waiting 5 s after a 100 ms grace period")
	}
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("Serve returned after %v, before the grace period", d)
	}
	// The stream was cut: reading ends (with an error or EOF) promptly.
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, body); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after forced close")
	}
}
