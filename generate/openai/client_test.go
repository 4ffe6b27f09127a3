package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
)

// upstream is an httptest server whose handler sees the 0-based request number.
type upstream struct {
	*httptest.Server
	n    atomic.Int32
	last atomic.Value // map[string]any: the last request body
	hdr  atomic.Value // http.Header of the last request
	path atomic.Value // string
}

func newUpstream(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(u.n.Add(1)) - 1
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		u.last.Store(body)
		u.hdr.Store(r.Header.Clone())
		u.path.Store(r.URL.Path)
		h(w, r, n)
	}))
	t.Cleanup(u.Close)
	return u
}

func sseHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
}

func send(w http.ResponseWriter, s string) {
	_, _ = io.WriteString(w, s)
	w.(http.Flusher).Flush()
}

func chunk(content string) string {
	return fmt.Sprintf("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", content)
}

const finishChunk = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n"

func testClient(t *testing.T, base string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: base, Model: "tiny", RetryBackoff: time.Millisecond, MaxRetryWait: 20 * time.Millisecond,
		Timeout: 2 * time.Second, IdleTimeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type recorder struct {
	deltas []string
	done   *generate.Event
}

func (r *recorder) emit(e generate.Event) error {
	switch e.Type {
	case generate.EventToken:
		r.deltas = append(r.deltas, e.Delta)
	case generate.EventDone:
		r.done = &e
	}
	return nil
}

var chatReq = generate.Request{
	Messages:  []generate.Message{{Role: "system", Content: "sys"}, {Role: "user", Content: "hi"}},
	MaxTokens: 32, Temperature: 0, Stop: []string{"END"},
}

func TestHappyStream(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		sseHeaders(w)
		send(w, ": keep-alive comment\r\n\r\n")
		send(w, "event: message\r\nid: 1\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\r\n\r\n")
		send(w, chunk("Hello"))
		// One event whose JSON is split over two data lines.
		send(w, "data: {\"choices\":[{\"index\":0,\n")
		send(w, "data: \"delta\":{\"content\":\", world\"}}]}\n\n")
		send(w, finishChunk)
		send(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":3,\"total_tokens\":14}}\n\n")
		send(w, "data: [DONE]\n\n")
	})
	for _, base := range []string{up.URL, up.URL + "/", up.URL + "/v1"} {
		c := testClient(t, base, func(c *Config) { c.APIKey = "sk-test"; c.Headers = map[string]string{"X-Org": "ragd"} })
		var rec recorder
		if err := c.Generate(context.Background(), chatReq, rec.emit); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rec.deltas, ""); got != "Hello, world" || len(rec.deltas) != 2 {
			t.Errorf("deltas = %q", rec.deltas)
		}
		if rec.done == nil || rec.done.FinishReason != "length" || *rec.done.Usage != (generate.Usage{PromptTokens: 11, CompletionTokens: 3}) {
			t.Errorf("done = %+v", rec.done)
		}
		if p := up.path.Load().(string); p != "/v1/chat/completions" {
			t.Errorf("%s: path = %q", base, p)
		}
	}
	h := up.hdr.Load().(http.Header)
	if h.Get("Authorization") != "Bearer sk-test" || h.Get("X-Org") != "ragd" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", h)
	}
	body := up.last.Load().(map[string]any)
	so, _ := body["stream_options"].(map[string]any)
	if body["model"] != "tiny" || body["stream"] != true || so["include_usage"] != true || body["max_tokens"] != 32.0 ||
		body["temperature"] != 0.0 || fmt.Sprint(body["stop"]) != "[END]" || len(body["messages"].([]any)) != 2 {
		t.Errorf("request body = %v", body)
	}
	if c := testClient(t, up.URL, nil); c.Info() != (generate.Info{ID: "tiny", Backend: "openai", ContextSize: DefaultContextSize}) {
		t.Errorf("info = %+v", c.Info())
	}
}

func TestPromptUsesCompletionsEndpoint(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		sseHeaders(w)
		send(w, "data: {\"choices\":[{\"index\":0,\"text\":\"raw \"}]}\n\n")
		send(w, "data: {\"choices\":[{\"index\":0,\"text\":\"text\",\"finish_reason\":\"stop\"}]}\n\n")
		send(w, "data: [DONE]\n\n")
	})
	c := testClient(t, up.URL, func(c *Config) { c.DisableStreamUsage = true })
	var rec recorder
	if err := c.Generate(context.Background(), generate.Request{Prompt: "[INST] hi [/INST]"}, rec.emit); err != nil {
		t.Fatal(err)
	}
	body := up.last.Load().(map[string]any)
	if up.path.Load() != "/v1/completions" || body["prompt"] != "[INST] hi [/INST]" || body["stream_options"] != nil {
		t.Errorf("path %v body %v", up.path.Load(), body)
	}
	if strings.Join(rec.deltas, "") != "raw text" || rec.done.FinishReason != "stop" || rec.done.Usage != nil {
		t.Errorf("got %q %+v", rec.deltas, rec.done)
	}
}

func TestJSONFallback(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"whole answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":2}}`)
	})
	var rec recorder
	if err := testClient(t, up.URL, nil).Generate(context.Background(), chatReq, rec.emit); err != nil {
		t.Fatal(err)
	}
	if len(rec.deltas) != 1 || rec.deltas[0] != "whole answer" || rec.done.Usage.PromptTokens != 4 {
		t.Errorf("got %q %+v", rec.deltas, rec.done)
	}
}

func TestStreamFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, n int)
		want    []error
		msg     string
		deltas  string
		reqs    int32
	}{
		{"malformed chunk", func(w http.ResponseWriter, r *http.Request, _ int) {
			sseHeaders(w)
			send(w, chunk("ok"))
			send(w, "data: {\"choices\":[{\"delta\":\n\n")
		}, []error{generate.ErrUpstream}, "malformed chunk", "ok", 1},
		{"truncated after tokens", func(w http.ResponseWriter, r *http.Request, _ int) {
			sseHeaders(w)
			send(w, chunk("par"))
			send(w, chunk("tial"))
		}, []error{generate.ErrUpstream}, "ended before completion", "partial", 1},
		{"cut inside an event", func(w http.ResponseWriter, r *http.Request, _ int) {
			sseHeaders(w)
			send(w, chunk("a"))
			send(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}")
		}, []error{generate.ErrUpstream}, "ended before completion", "a", 1},
		{"error object in stream", func(w http.ResponseWriter, r *http.Request, _ int) {
			sseHeaders(w)
			send(w, chunk("x"))
			send(w, "data: {\"error\":{\"message\":\"model crashed\",\"type\":\"server_error\"}}\n\n")
		}, []error{generate.ErrUpstream}, "model crashed", "x", 1},
		{"401", func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`)
		}, []error{generate.ErrUpstream, data.ErrUnauthorized}, "Incorrect API key", "", 1},
		{"400 context overflow", func(w http.ResponseWriter, r *http.Request, _ int) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"This model's maximum context length is 4096 tokens"}`)
		}, []error{generate.ErrUpstream, generate.ErrContextFull}, "maximum context length", "", 1},
		{"404 model", func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Error(w, "model not found", http.StatusNotFound)
		}, []error{generate.ErrUpstream, data.ErrNotFound}, "model not found", "", 1},
		{"500 until retries run out", func(w http.ResponseWriter, r *http.Request, _ int) {
			w.WriteHeader(http.StatusInternalServerError)
		}, []error{generate.ErrUpstream, generate.ErrUnavailable}, "HTTP 500", "", 3},
		{"429 until retries run out", func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		}, []error{generate.ErrOverloaded}, "HTTP 429", "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, tt.handler)
			var rec recorder
			err := testClient(t, up.URL, nil).Generate(context.Background(), chatReq, rec.emit)
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want %v", err, w)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want mention of %q", err, tt.msg)
			}
			if got := strings.Join(rec.deltas, ""); got != tt.deltas || rec.done != nil {
				t.Errorf("deltas %q done %+v", got, rec.done)
			}
			if n := up.n.Load(); n != tt.reqs {
				t.Errorf("%d requests, want %d", n, tt.reqs)
			}
		})
	}
}

func TestRetriesBeforeFirstToken(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "1") // capped by MaxRetryWait
			w.WriteHeader(http.StatusTooManyRequests)
		case 1:
			w.WriteHeader(http.StatusBadGateway)
		case 2:
			sseHeaders(w) // a stream that breaks before any token
			send(w, ": warming up\n\n")
		default:
			sseHeaders(w)
			send(w, chunk("finally"))
			send(w, "data: [DONE]\n\n")
		}
	})
	var rec recorder
	start := time.Now()
	err := testClient(t, up.URL, func(c *Config) { c.MaxRetries = 3 }).Generate(context.Background(), chatReq, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if up.n.Load() != 4 || strings.Join(rec.deltas, "") != "finally" || rec.done.FinishReason != "stop" {
		t.Errorf("%d requests, deltas %q", up.n.Load(), rec.deltas)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Retry-After not capped: took %v", d)
	}
}

func TestNoRetryAfterFirstToken(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, n int) {
		sseHeaders(w)
		send(w, chunk("one"))
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // reset mid-stream
		}
	})
	var rec recorder
	err := testClient(t, up.URL, func(c *Config) { c.MaxRetries = 5 }).Generate(context.Background(), chatReq, rec.emit)
	if !errors.Is(err, generate.ErrUpstream) || up.n.Load() != 1 || strings.Join(rec.deltas, "") != "one" {
		t.Errorf("err %v, %d requests, deltas %q", err, up.n.Load(), rec.deltas)
	}
}

func TestFinishWithoutDoneIsAccepted(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		sseHeaders(w)
		send(w, chunk("fine"))
		send(w, finishChunk)
	})
	var rec recorder
	if err := testClient(t, up.URL, nil).Generate(context.Background(), chatReq, rec.emit); err != nil || rec.done.FinishReason != "length" {
		t.Errorf("err %v done %+v", err, rec.done)
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("stalled stream", func(t *testing.T) {
		observed := make(chan struct{})
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			sseHeaders(w)
			send(w, chunk("slow"))
			<-r.Context().Done()
			close(observed)
		})
		var rec recorder
		start := time.Now()
		err := testClient(t, up.URL, func(c *Config) { c.IdleTimeout = 100 * time.Millisecond }).Generate(context.Background(), chatReq, rec.emit)
		if !errors.Is(err, generate.ErrUpstream) || !strings.Contains(err.Error(), "no data") {
			t.Errorf("err = %v", err)
		}
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("idle timeout took %v", d)
		}
		waitClosed(t, observed, "upstream did not see the connection close")
	})
	t.Run("keep-alive comments are activity", func(t *testing.T) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			sseHeaders(w)
			for range 8 {
				send(w, ": still thinking\n\n")
				time.Sleep(40 * time.Millisecond)
			}
			send(w, chunk("late"))
			send(w, "data: [DONE]\n\n")
		})
		var rec recorder
		err := testClient(t, up.URL, func(c *Config) { c.IdleTimeout = 150 * time.Millisecond }).Generate(context.Background(), chatReq, rec.emit)
		if err != nil || strings.Join(rec.deltas, "") != "late" {
			t.Errorf("err %v deltas %q", err, rec.deltas)
		}
	})
	t.Run("no response headers", func(t *testing.T) {
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			<-r.Context().Done()
		})
		err := testClient(t, up.URL, func(c *Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 1 }).Generate(context.Background(), chatReq, (&recorder{}).emit)
		if !errors.Is(err, generate.ErrUpstream) || !strings.Contains(err.Error(), "no response") || up.n.Load() != 2 {
			t.Errorf("err = %v after %d requests", err, up.n.Load())
		}
	})
}

func waitClosed(t *testing.T, ch chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Error(msg)
	}
}

func TestCancellationClosesUpstream(t *testing.T) {
	observed := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		sseHeaders(w)
		send(w, chunk("first"))
		<-r.Context().Done()
		close(observed)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	err := testClient(t, up.URL, nil).Generate(ctx, chatReq, func(e generate.Event) error {
		if e.Type == generate.EventToken {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancellation took %v", d)
	}
	waitClosed(t, observed, "upstream did not observe the cancellation")
}

func TestEmitErrorStops(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		sseHeaders(w)
		send(w, chunk("a"))
		send(w, chunk("b"))
		send(w, "data: [DONE]\n\n")
	})
	stop := errors.New("client gone")
	calls := 0
	err := testClient(t, up.URL, nil).Generate(context.Background(), chatReq, func(generate.Event) error { calls++; return stop })
	if err != stop || calls != 1 || up.n.Load() != 1 {
		t.Errorf("err %v after %d calls, %d requests", err, calls, up.n.Load())
	}
}

func TestBadInput(t *testing.T) {
	for _, base := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := New(Config{BaseURL: base}); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("New(%q): err = %v", base, err)
		}
	}
	c := testClient(t, "http://127.0.0.1:1", nil)
	if err := c.Generate(context.Background(), generate.Request{}, (&recorder{}).emit); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("empty request: %v", err)
	}
	if err := c.Generate(context.Background(), generate.Request{Prompt: "x", MaxTokens: -1}, (&recorder{}).emit); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("negative max tokens: %v", err)
	}
	// Nothing listens on port 1: a connection error, retried, then reported.
	err := testClient(t, "http://127.0.0.1:1", func(c *Config) { c.MaxRetries = 1 }).Generate(context.Background(), chatReq, (&recorder{}).emit)
	if !errors.Is(err, generate.ErrUnavailable) {
		t.Errorf("connection refused: %v", err)
	}
}
