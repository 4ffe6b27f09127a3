package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
)

func TestCORS(t *testing.T) {
	const allowed, other = "https://app.example.com", "https://evil.example.net"
	tests := []struct {
		name      string
		origins   []string
		method    string
		origin    string
		wantAllow string // Access-Control-Allow-Origin; "" means absent
	}{
		{"preflight from an allowed origin", []string{allowed}, http.MethodOptions, allowed, allowed},
		{"preflight from another origin", []string{allowed}, http.MethodOptions, other, ""},
		{"request from an allowed origin", []string{allowed}, http.MethodGet, allowed, allowed},
		{"request from another origin", []string{allowed}, http.MethodGet, other, ""},
		{"no origins configured", nil, http.MethodOptions, allowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil)
			env.api.Echo().Pre(api.CORS(tt.origins))
			req := httptest.NewRequest(tt.method, "/v1/indexes", nil)
			req.Header.Set("Origin", tt.origin)
			if tt.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", http.MethodPost)
				req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			}
			rec := httptest.NewRecorder()
			env.api.Handler().ServeHTTP(rec, req)
			h := rec.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Fatalf("Access-Control-Allow-Origin = %q, want %q (status %d)", got, tt.wantAllow, rec.Code)
			}
			if tt.wantAllow == "" {
				for k := range h {
					if strings.HasPrefix(k, "Access-Control-Allow-") {
						t.Errorf("unexpected %s: %q", k, h.Get(k))
					}
				}
				return
			}
			if tt.method == http.MethodOptions {
				if rec.Code != http.StatusNoContent {
					t.Errorf("preflight status = %d, want 204", rec.Code)
				}
				for _, want := range []string{"Authorization", "Content-Type", "X-API-Key", "Cache-Control", "Mcp-Session-Id", "Mcp-Protocol-Version"} {
					if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
						t.Errorf("Access-Control-Allow-Headers = %q, lacks %s", h.Get("Access-Control-Allow-Headers"), want)
					}
				}
				for _, want := range []string{"GET", "POST", "DELETE"} {
					if !strings.Contains(h.Get("Access-Control-Allow-Methods"), want) {
						t.Errorf("Access-Control-Allow-Methods = %q, lacks %s", h.Get("Access-Control-Allow-Methods"), want)
					}
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Errorf("status = %d, want 200", rec.Code)
			}
			for _, want := range []string{"X-Request-Id", "Retry-After", api.HeaderCache, "Mcp-Session-Id"} {
				if !strings.Contains(h.Get("Access-Control-Expose-Headers"), want) {
					t.Errorf("Access-Control-Expose-Headers = %q, lacks %s", h.Get("Access-Control-Expose-Headers"), want)
				}
			}
		})
	}
}
