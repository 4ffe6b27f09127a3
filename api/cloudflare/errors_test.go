package cloudflare_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/api/auth"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/index"
)

// failingBackend answers every index lookup with err.
type failingBackend struct {
	index.Backend
	err error
}

func (f *failingBackend) Index(context.Context, string) (index.IndexInfo, error) {
	return index.IndexInfo{}, fmt.Errorf("index lookup: %w", f.err)
}

// errorServer mounts both APIs on one router, the way cmd/ragd does, over
// a backend that fails with *err; the log goes to logs.
func errorServer(t *testing.T, err *error, logs *bytes.Buffer) http.Handler {
	t.Helper()
	fb := &failingBackend{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	srv := api.New(api.Config{Engine: fb, Logger: log})
	svc := cloudflare.Register(srv.Echo(), cloudflare.Config{Engine: fb, Logger: log})
	t.Cleanup(svc.Close)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fb.err = *err
		srv.Handler().ServeHTTP(w, r)
	})
}

// TestOneErrorTable sends every sentinel through a real route of /v1 and
// of /client/v4 and checks both answer the same status, each in its own
// wire format, with the code from data's table; only server failures are
// logged as errors.
func TestOneErrorTable(t *testing.T) {
	var err error
	var logs bytes.Buffer
	h := errorServer(t, &err, &logs)
	for _, tt := range []struct {
		err    error
		status int
		code   string
		number int
		logged bool
	}{
		{data.ErrNotFound, 404, "not_found", 40401, false},
		{embed.ErrModelNotFound, 404, "not_found", 40401, false},
		{data.ErrExists, 409, "already_exists", 40901, false},
		{data.ErrConflict, 409, "conflict", 40902, false},
		{data.ErrModelMismatch, 409, "model_mismatch", 40903, false},
		{data.ErrInvalid, 400, "invalid_request", 40001, false},
		{data.ErrDimension, 400, "dimension_mismatch", 40002, false},
		{data.ErrUnsupported, 400, "unsupported", 40003, false},
		{data.ErrContextFull, 400, "context_length_exceeded", 40004, false},
		{generate.ErrContextFull, 400, "context_length_exceeded", 40004, false},
		{data.ErrTooLarge, 413, "too_large", 41301, false},
		{data.ErrUnauthorized, 401, "unauthorized", 10000, false},
		{data.ErrForbidden, 403, "forbidden", 10001, false},
		{data.ErrRateLimited, 429, "rate_limited", 42902, false},
		{data.ErrOverloaded, 429, "overloaded", 42901, false},
		{generate.ErrOverloaded, 429, "overloaded", 42901, false},
		{data.ErrUnavailable, 503, "unavailable", 50301, true},
		{generate.ErrUnavailable, 503, "unavailable", 50301, true},
		{data.ErrClosed, 503, "unavailable", 50301, true},
		{data.ErrUpstream, 502, "upstream_error", 50201, true},
		{generate.ErrUpstream, 502, "upstream_error", 50201, true},
		{context.DeadlineExceeded, 504, "timeout", 50401, true},
		{context.Canceled, 499, "cancelled", 49901, false},
		{errors.New("disk on fire"), 500, "internal", 50001, true},
	} {
		t.Run(tt.err.Error(), func(t *testing.T) {
			err = tt.err
			logs.Reset()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/indexes/docs", nil))
			var body struct {
				Error struct{ Code, Message string }
			}
			if e := json.Unmarshal(rec.Body.Bytes(), &body); e != nil || rec.Code != tt.status || body.Error.Code != tt.code || body.Error.Message == "" {
				t.Fatalf("/v1: %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.code)
			}
			if got := strings.Contains(logs.String(), "level=ERROR"); got != tt.logged {
				t.Fatalf("/v1 logged an error: %v, want %v: %s", got, tt.logged, logs.String())
			}
			logs.Reset()
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", base+"/vectorize/v2/indexes/docs", nil))
			var env struct {
				Result  any
				Success bool
				Errors  []struct {
					Code    int
					Message string
				}
				Messages []any
			}
			if e := json.Unmarshal(rec.Body.Bytes(), &env); e != nil || rec.Code != tt.status || env.Success || env.Result != nil ||
				len(env.Errors) != 1 || env.Errors[0].Code != tt.number || env.Errors[0].Message == "" || env.Messages == nil {
				t.Fatalf("/client/v4: %d %s, want %d %d", rec.Code, rec.Body, tt.status, tt.number)
			}
			if got := strings.Contains(logs.String(), "level=ERROR"); got != tt.logged {
				t.Fatalf("/client/v4 logged an error: %v, want %v: %s", got, tt.logged, logs.String())
			}
			if tt.status == 500 && (strings.Contains(rec.Body.String(), "disk on fire")) {
				t.Fatalf("internal error text leaked: %s", rec.Body)
			}
		})
	}
}

// TestAuthErrorsInRouteFormat: auth's 401, 403 and 429 are ragd's error
// body on /v1 and Cloudflare's envelope on /client/v4, with the same
// statuses and headers.
func TestAuthErrorsInRouteFormat(t *testing.T) {
	eng, err := index.Open(context.Background(), index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	store, err := auth.OpenStore(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	reader, _, err := store.Create("reader", auth.ScopeRead, 0.001, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Config{Engine: eng})
	svc := cloudflare.Register(srv.Echo(), cloudflare.Config{Engine: eng})
	defer svc.Close()
	srv.Echo().Use(auth.Middleware(auth.Config{Store: store}))
	do := func(method, path, key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader("{}"))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	for _, tt := range []struct {
		name, key string
		status    int
		code      string
		number    int
		header    string
		v1m, v1   string // method and path on /v1
		cfm, cf   string // and on /client/v4
	}{
		{name: "no key", status: 401, code: "unauthorized", number: 10000, header: "WWW-Authenticate",
			v1m: "GET", v1: "/v1/indexes", cfm: "GET", cf: base + "/vectorize/v2/indexes"},
		{name: "bad key", key: "ragd_nope", status: 401, code: "unauthorized", number: 10000, header: "WWW-Authenticate",
			v1m: "GET", v1: "/v1/indexes", cfm: "GET", cf: base + "/vectorize/v2/indexes"},
		{name: "read key writes", key: reader, status: 403, code: "forbidden", number: 10001,
			v1m: "DELETE", v1: "/v1/indexes/x", cfm: "DELETE", cf: base + "/vectorize/v2/indexes/x"},
		// The reader's one token went on the 403s above (scope is
		// checked first, then the rate): spend it, then be limited.
		{name: "rate limited", key: reader, status: 429, code: "rate_limited", number: 42902, header: "Retry-After",
			v1m: "GET", v1: "/v1/indexes", cfm: "GET", cf: base + "/vectorize/v2/indexes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status == 429 {
				do("GET", "/v1/indexes", tt.key) // spends the burst, if any is left
			}
			rec := do(tt.v1m, tt.v1, tt.key)
			var body struct {
				Error struct{ Code, Message string }
			}
			if e := json.Unmarshal(rec.Body.Bytes(), &body); e != nil || rec.Code != tt.status || body.Error.Code != tt.code || body.Error.Message == "" {
				t.Fatalf("/v1: %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.code)
			}
			if tt.header != "" && rec.Header().Get(tt.header) == "" {
				t.Fatalf("/v1: no %s header", tt.header)
			}
			rec = do(tt.cfm, tt.cf, tt.key)
			var env struct {
				Success bool
				Errors  []struct {
					Code    int
					Message string
				}
				Messages []any
			}
			if e := json.Unmarshal(rec.Body.Bytes(), &env); e != nil || rec.Code != tt.status || env.Success ||
				len(env.Errors) != 1 || env.Errors[0].Code != tt.number || env.Errors[0].Message == "" || env.Messages == nil {
				t.Fatalf("/client/v4: %d %s, want %d with errors[0].code %d", rec.Code, rec.Body, tt.status, tt.number)
			}
			if tt.header != "" && rec.Header().Get(tt.header) == "" {
				t.Fatalf("/client/v4: no %s header", tt.header)
			}
		})
	}
}
