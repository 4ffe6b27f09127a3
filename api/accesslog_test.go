package api_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
)

// TestAccessLogRemote: the access log's remote is the socket address, never
// X-Forwarded-For; the forwarded address is logged apart, and only when
// the peer is a configured trusted proxy.
func TestAccessLogRemote(t *testing.T) {
	for _, tt := range []struct {
		name      string
		trusted   []netip.Prefix
		peer, xff string
		want      []string
		not       []string
	}{
		{name: "no proxies configured", peer: "203.0.113.9:4000", xff: "198.51.100.7",
			want: []string{"remote=203.0.113.9:4000"}, not: []string{"198.51.100.7"}},
		{name: "untrusted peer", trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, peer: "203.0.113.9:4000", xff: "198.51.100.7",
			want: []string{"remote=203.0.113.9:4000"}, not: []string{"198.51.100.7", "forwarded_for"}},
		{name: "trusted proxy", trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, peer: "10.1.2.3:4000", xff: "198.51.100.7",
			want: []string{"remote=10.1.2.3:4000", "forwarded_for=198.51.100.7"}},
		{name: "trusted proxy, long header", trusted: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32")}, peer: "10.1.2.3:4000", xff: strings.Repeat("9", 10000),
			want: []string{"remote=10.1.2.3:4000", "forwarded_for=" + strings.Repeat("9", 256) + "\n"}, not: []string{strings.Repeat("9", 257)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			srv := api.New(api.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), TrustedProxies: tt.trusted})
			req := httptest.NewRequest("GET", "/healthz", nil)
			req.RemoteAddr = tt.peer
			req.Header.Set("X-Forwarded-For", tt.xff)
			srv.Handler().ServeHTTP(httptest.NewRecorder(), req)
			line := logs.String()
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("log %q lacks %q", line, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(line, n) {
					t.Errorf("log %q has %q", line, n)
				}
			}
		})
	}
}
