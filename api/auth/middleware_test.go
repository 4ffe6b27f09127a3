package auth

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/api"
)

const (
	loopback = "127.0.0.1:40000"
	remote   = "203.0.113.9:40000"
)

// newRouter mounts the middleware over routes shaped like ragd's; each
// handler answers 200 with the key ID from the context.
func newRouter(cfg Config) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = api.ErrorHandler(nil)
	e.Use(Middleware(cfg))
	h := func(c echo.Context) error {
		id, _ := c.Get(ContextKey).(string)
		// KeyFrom (the request context) agrees with the echo context.
		if k, ok := KeyFrom(c.Request().Context()); ok != (id != "") || k.ID != id {
			return c.String(http.StatusTeapot, "KeyFrom disagrees: "+k.ID)
		}
		return c.String(http.StatusOK, "key="+id)
	}
	e.GET("/healthz", h)
	e.GET("/readyz", h)
	e.GET("/metrics", h)
	e.GET("/v1/indexes", h)
	e.POST("/v1/indexes", h)
	e.DELETE("/v1/indexes/:name", h)
	e.POST("/v1/indexes/:name/documents", h)
	e.POST("/v1/indexes/:name/search", h)
	e.POST("/v1/indexes/:name/ask", h)
	e.POST("/v1/chat/completions", h)
	e.POST("/v1/embeddings", h)
	e.POST("/client/v4/accounts/:a/vectorize/v2/indexes/:index/query", h)
	e.POST("/client/v4/accounts/:a/vectorize/v2/indexes/:index/upsert", h)
	e.POST("/client/v4/accounts/:a/ai/run/*", h)
	e.GET("/v1/keys", h)
	e.POST("/v1/keys", h)
	e.DELETE("/v1/keys/:id", h)
	e.GET("/", h)
	e.GET("/ui/*", h)
	e.Any("/mcp", h)
	return e
}

type request struct {
	method, path, remote string
	bearer, apiKey       string
	auth                 string // raw Authorization header
}

func do(e *echo.Echo, r request) *httptest.ResponseRecorder {
	var body *strings.Reader
	if r.method == http.MethodPost || r.method == http.MethodPut {
		body = strings.NewReader("{}")
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(r.method, r.path, body)
	req.RemoteAddr = r.remote
	if r.remote == "" {
		req.RemoteAddr = remote
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.apiKey != "" {
		req.Header.Set("X-API-Key", r.apiKey)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// errCode decodes {"error":{"code"}}.
func errCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", rec.Body, err)
	}
	if b.Error.Message == "" {
		t.Fatalf("error without a message: %s", rec.Body)
	}
	return b.Error.Code
}

func TestKeylessMode(t *testing.T) {
	empty := openAt(t, filepath.Join(t.TempDir(), "keys.json"), newClock())
	allRevoked := openAt(t, filepath.Join(t.TempDir(), "keys.json"), newClock())
	secret, k := mustCreate(t, allRevoked, "gone", ScopeAdmin, 0, 0)
	if err := allRevoked.Revoke(k.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   Config
		req   request
		code  int
		ecode string
	}{
		{"no store, loopback", Config{}, request{method: "DELETE", path: "/v1/indexes/a", remote: loopback}, 200, ""},
		{"loopback v4", Config{Store: empty}, request{method: "POST", path: "/v1/keys", remote: "127.0.0.1:1"}, 200, ""},
		{"loopback v6", Config{Store: empty}, request{method: "GET", path: "/v1/indexes", remote: "[::1]:1"}, 200, ""},
		{"non-loopback refused", Config{Store: empty}, request{method: "GET", path: "/v1/indexes", remote: remote}, 403, "forbidden"},
		{"forwarded header is not trusted", Config{Store: empty}, request{method: "GET", path: "/v1/indexes", remote: "10.0.0.1:1"}, 403, "forbidden"},
		{"non-loopback public route", Config{Store: empty}, request{method: "GET", path: "/healthz", remote: remote}, 200, ""},
		{"open mode", Config{Store: empty, Open: true}, request{method: "DELETE", path: "/v1/indexes/a", remote: remote}, 200, ""},
		{"all keys revoked is keyless", Config{Store: allRevoked}, request{method: "GET", path: "/v1/indexes", remote: remote, bearer: secret}, 403, "forbidden"},
		{"all keys revoked, loopback", Config{Store: allRevoked}, request{method: "GET", path: "/v1/indexes", remote: loopback}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRouter(tt.cfg)
			req := httptest.NewRequest(tt.req.method, tt.req.path, nil)
			req.RemoteAddr = tt.req.remote
			req.Header.Set("X-Forwarded-For", "127.0.0.1")
			req.Header.Set("X-Real-IP", "127.0.0.1")
			if tt.req.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.req.bearer)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.ecode != "" && errCode(t, rec) != tt.ecode {
				t.Fatalf("code %q, want %q", errCode(t, rec), tt.ecode)
			}
		})
	}
}

func TestKeysRequired(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "keys.json"), newClock())
	read, rk := mustCreate(t, s, "r", ScopeRead, 0, 0)
	write, wk := mustCreate(t, s, "w", ScopeWrite, 0, 0)
	admin, ak := mustCreate(t, s, "a", ScopeAdmin, 0, 0)
	revoked, vk := mustCreate(t, s, "v", ScopeAdmin, 0, 0)
	if err := s.Revoke(vk.ID); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg := Config{Store: s, Open: true, Public: append(append([]string(nil), DefaultPublic...), "/", "/ui/"),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	e := newRouter(cfg)

	tests := []struct {
		name  string
		req   request
		code  int
		ecode string
		keyID string // expected in the context
	}{
		// Public routes need nothing, from anywhere.
		{"healthz", request{method: "GET", path: "/healthz"}, 200, "", ""},
		{"readyz", request{method: "GET", path: "/readyz"}, 200, "", ""},
		{"root", request{method: "GET", path: "/"}, 200, "", ""},
		{"ui asset", request{method: "GET", path: "/ui/app.js"}, 200, "", ""},
		{"bad key on public route ignored", request{method: "GET", path: "/healthz", bearer: "junk"}, 200, "", ""},
		// Keys exist: open mode and loopback no longer bypass them.
		{"missing key", request{method: "GET", path: "/v1/indexes"}, 401, "unauthorized", ""},
		{"missing key from loopback", request{method: "GET", path: "/v1/indexes", remote: loopback}, 401, "unauthorized", ""},
		{"metrics not public by default", request{method: "GET", path: "/metrics"}, 401, "unauthorized", ""},
		{"bad key", request{method: "GET", path: "/v1/indexes", bearer: SecretPrefix + strings.Repeat("A", 43)}, 401, "unauthorized", ""},
		{"key without Bearer scheme", request{method: "GET", path: "/v1/indexes", auth: read}, 401, "unauthorized", ""},
		{"basic auth scheme", request{method: "GET", path: "/v1/indexes", auth: "Basic " + read}, 401, "unauthorized", ""},
		{"lower-case bearer", request{method: "GET", path: "/v1/indexes", auth: "bearer " + read}, 200, "", rk.ID},
		{"revoked key", request{method: "GET", path: "/v1/indexes", bearer: revoked}, 401, "unauthorized", ""},
		{"dot segments leave public", request{method: "GET", path: "/healthz/../v1/indexes"}, 401, "unauthorized", ""},
		// Scopes.
		{"read GET", request{method: "GET", path: "/v1/indexes", bearer: read}, 200, "", rk.ID},
		{"read via X-API-Key", request{method: "GET", path: "/v1/indexes", apiKey: read}, 200, "", rk.ID},
		{"read DELETE", request{method: "DELETE", path: "/v1/indexes/a", bearer: read}, 403, "forbidden", ""},
		{"read POST create", request{method: "POST", path: "/v1/indexes", bearer: read}, 403, "forbidden", ""},
		{"read POST documents", request{method: "POST", path: "/v1/indexes/a/documents", bearer: read}, 403, "forbidden", ""},
		{"read POST search", request{method: "POST", path: "/v1/indexes/a/search", bearer: read}, 200, "", rk.ID},
		{"read POST ask", request{method: "POST", path: "/v1/indexes/a/ask", bearer: read}, 200, "", rk.ID},
		{"read POST chat", request{method: "POST", path: "/v1/chat/completions", bearer: read}, 200, "", rk.ID},
		{"read POST embeddings", request{method: "POST", path: "/v1/embeddings", bearer: read}, 200, "", rk.ID},
		{"read POST vectorize query", request{method: "POST", path: "/client/v4/accounts/x/vectorize/v2/indexes/i/query", bearer: read}, 200, "", rk.ID},
		{"read POST vectorize upsert", request{method: "POST", path: "/client/v4/accounts/x/vectorize/v2/indexes/i/upsert", bearer: read}, 403, "forbidden", ""},
		{"read POST workers ai run", request{method: "POST", path: "/client/v4/accounts/x/ai/run/@cf/baai/bge-small-en-v1.5", bearer: read}, 200, "", rk.ID},
		{"write POST ok", request{method: "POST", path: "/v1/indexes", bearer: write}, 200, "", wk.ID},
		{"write DELETE ok", request{method: "DELETE", path: "/v1/indexes/a", bearer: write}, 200, "", wk.ID},
		{"X-API-Key write POST", request{method: "POST", path: "/v1/indexes/a/documents", apiKey: write}, 200, "", wk.ID},
		{"bearer wins over X-API-Key", request{method: "POST", path: "/v1/indexes", bearer: read, apiKey: write}, 403, "forbidden", ""},
		// /mcp needs a read key at the door whatever the method (its
		// handler checks write tools per call with KeyFrom).
		{"mcp without a key", request{method: "POST", path: "/mcp"}, 401, "unauthorized", ""},
		{"read POST mcp", request{method: "POST", path: "/mcp", bearer: read}, 200, "", rk.ID},
		{"read GET mcp", request{method: "GET", path: "/mcp", bearer: read}, 200, "", rk.ID},
		{"read DELETE mcp", request{method: "DELETE", path: "/mcp", bearer: read}, 200, "", rk.ID},
		{"write POST mcp", request{method: "POST", path: "/mcp", bearer: write}, 200, "", wk.ID},
		{"dot segments leave mcp", request{method: "DELETE", path: "/mcp/../v1/indexes/a", bearer: read}, 403, "forbidden", ""},
		// Admin routes need admin whatever the method.
		{"write GET keys", request{method: "GET", path: "/v1/keys", bearer: write}, 403, "forbidden", ""},
		{"read GET keys", request{method: "GET", path: "/v1/keys", bearer: read}, 403, "forbidden", ""},
		{"dot segments reach admin", request{method: "GET", path: "/v1/indexes/../keys", bearer: write}, 403, "forbidden", ""},
		{"admin GET keys", request{method: "GET", path: "/v1/keys", bearer: admin}, 200, "", ak.ID},
		{"admin DELETE key", request{method: "DELETE", path: "/v1/keys/abc", bearer: admin}, 200, "", ak.ID},
		{"admin does everything", request{method: "DELETE", path: "/v1/indexes/a", bearer: admin}, 200, "", ak.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(e, tt.req)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, rec.Body)
			}
			if tt.ecode != "" {
				if got := errCode(t, rec); got != tt.ecode {
					t.Fatalf("code %q, want %q", got, tt.ecode)
				}
			}
			if tt.code == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: %v", rec.Header())
			}
			if tt.code == 200 && rec.Body.String() != "key="+tt.keyID {
				t.Fatalf("context key: body %q, want key=%s", rec.Body, tt.keyID)
			}
		})
	}

	out := logs.String()
	for _, secret := range []string{read, write, admin, revoked} {
		if strings.Contains(out, secret[len(SecretPrefix)+IDLen:]) {
			t.Fatalf("a secret reached the log:\n%s", out)
		}
	}
	// Denials name the key by ID.
	if !strings.Contains(out, "key="+rk.ID) || !strings.Contains(out, "request denied") {
		t.Fatalf("forbidden requests not logged with the key id:\n%s", out)
	}
}

func TestRateLimit(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "keys.json"), newClock())
	slow, _ := mustCreate(t, s, "slow", ScopeRead, 0.5, 1)
	burst, _ := mustCreate(t, s, "burst", ScopeRead, 1, 2)
	free, _ := mustCreate(t, s, "free", ScopeRead, 0, 0)
	c := newClock()
	var logs bytes.Buffer
	e := newRouter(Config{Store: s, now: c.now, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	get := func(key string) *httptest.ResponseRecorder {
		return do(e, request{method: "GET", path: "/v1/indexes", apiKey: key})
	}
	expect := func(rec *httptest.ResponseRecorder, code int, retryAfter string) {
		t.Helper()
		if rec.Code != code {
			t.Fatalf("status %d, want %d: %s", rec.Code, code, rec.Body)
		}
		if got := rec.Header().Get("Retry-After"); got != retryAfter {
			t.Fatalf("Retry-After %q, want %q", got, retryAfter)
		}
		if code == 429 && errCode(t, rec) != "rate_limited" {
			t.Fatalf("429 body %s", rec.Body)
		}
	}

	// 0.5/s, burst 1: a token every 2 s; Retry-After rounds up.
	expect(get(slow), 200, "")
	expect(get(slow), 429, "2")
	c.advance(1500 * time.Millisecond)
	expect(get(slow), 429, "1")
	c.advance(500 * time.Millisecond)
	expect(get(slow), 200, "")

	// 1/s, burst 2: two at once, then one per second.
	expect(get(burst), 200, "")
	expect(get(burst), 200, "")
	expect(get(burst), 429, "1")
	c.advance(time.Second)
	expect(get(burst), 200, "")
	expect(get(burst), 429, "1")

	// Buckets are per key, and keys without a rate are not limited.
	for i := 0; i < 50; i++ {
		expect(get(free), 200, "")
	}
	// Rejected requests spend no tokens: after a run of 429s the slow key
	// gets its next token on time.
	// (slow has half a token now: its last 200 was a second ago.)
	expect(get(slow), 429, "1")
	expect(get(slow), 429, "1")
	expect(get(slow), 429, "1")
	c.advance(time.Second)
	expect(get(slow), 200, "")

	// DefaultRate limits keys that have none of their own.
	e = newRouter(Config{Store: s, now: c.now, DefaultRate: 1, DefaultBurst: 1})
	expect(get(free), 200, "")
	expect(get(free), 429, "1")
	expect(get(slow), 200, "") // fresh bucket in the new middleware, own rate
	if strings.Contains(logs.String(), slow[len(SecretPrefix)+IDLen:]) {
		t.Fatal("secret in the rate-limit log")
	}
}
