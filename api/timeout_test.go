package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/api"
)

// Config.RequestTimeout bounds non-streaming requests (504 "timeout") but
// not streams.
func TestRequestTimeout(t *testing.T) {
	gen := &scriptGen{tokens: []string{"a ", "b ", "c ", "d ", "e "}, delay: 60 * time.Millisecond}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen; c.RequestTimeout = 100 * time.Millisecond })
	e.seed("kw", "none")
	msgs := []map[string]string{{"role": "user", "content": "hi"}}

	start := time.Now()
	e.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs}, http.StatusGatewayTimeout, "timeout")
	e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread"}, http.StatusGatewayTimeout, "timeout")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timed-out requests took %v", d)
	}
	// Fast requests are unaffected.
	e.mustJSON("POST", "/v1/indexes/kw/search", map[string]any{"query": "bread"}, http.StatusOK, nil)

	// A stream may run longer than the timeout (5 tokens x 60 ms).
	for _, tc := range []struct{ path, done string }{
		{"/v1/chat/completions", "[DONE]"},
		{"/v1/indexes/kw/ask", "done"},
	} {
		body := map[string]any{"stream": true}
		if strings.HasPrefix(tc.path, "/v1/chat") {
			body["messages"] = msgs
		} else {
			body["query"] = "bread"
		}
		resp := postStream(t, context.Background(), e.srv.Client(), e.srv.URL+tc.path, body)
		evs := readSSE(t, resp.Body, nil)
		resp.Body.Close()
		if len(evs) == 0 || (evs[len(evs)-1].Data != tc.done && evs[len(evs)-1].Name != tc.done) {
			t.Fatalf("%s stream cut short: %+v", tc.path, evs)
		}
	}
}
