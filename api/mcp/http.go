package mcp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/ragd/ragd/api/auth"
	"github.com/ragd/ragd/data"
)

// accessHeader carries, from Handler to the tool handlers, the access of
// the API key that sent the HTTP request. Handler always replaces what a
// client sends under this name.
const accessHeader = "X-Ragd-Mcp-Access"

// DefaultSessionTimeout closes HTTP sessions idle for this long.
const DefaultSessionTimeout = 30 * time.Minute

// Handler serves MCP's Streamable HTTP transport. Mount it behind
// auth.Middleware (with /mcp in its ReadOnly paths, as by default): a
// session gets the access of the key that opened it (auth.KeyFrom: a read
// key lists no write tools), and each write call is checked against the
// key that sent it. Without a key in the request (keyless mode) a session
// gets Config.Access.
func (s *Server) Handler() http.Handler {
	s.httpOnce.Do(func() {
		// One MCP server per access level, each holding many sessions.
		s.http = map[Access]*sdk.Server{ReadOnly: s.MCP(ReadOnly), ReadWrite: s.MCP(ReadWrite)}
	})
	h := sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server {
		return s.http[min(requestAccess(r), s.cfg.Access)]
	}, &sdk.StreamableHTTPOptions{SessionTimeout: DefaultSessionTimeout, Logger: s.log,
		MaxRequestBodyBytes: s.cfg.MaxBodyBytes, DisableLocalhostProtection: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rebound(r) {
			http.Error(w, fmt.Sprintf("forbidden: Host %q is not a loopback name; without API keys /mcp answers loopback names only", r.Host), http.StatusForbidden)
			return
		}
		r.Header.Del(accessHeader)
		r.Header.Set(accessHeader, accessName(min(requestAccess(r), s.cfg.Access)))
		if r.Method != http.MethodGet {
			// GET is a session's standing event stream: it never ends by
			// itself, so Shutdown does not wait for it.
			s.inflight.Add(1)
			defer s.inflight.Add(-1)
		}
		h.ServeHTTP(w, r)
	})
}

// Shutdown ends the HTTP sessions, so that their standing event streams
// do not hold up the HTTP server's graceful shutdown: it waits for the
// requests in progress (tool calls) to finish, or for ctx, then closes
// every session. Call it when the HTTP server starts shutting down.
func (s *Server) Shutdown(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			s.log.Warn("mcp: closing sessions with requests still in progress", "requests", s.inflight.Load())
			break wait
		case <-tick.C:
		}
	}
	for _, srv := range s.http {
		for ss := range srv.Sessions() {
			_ = ss.Close() // the session is being dropped either way
		}
	}
}

// rebound reports a keyless request that reached a loopback socket under
// another host name: what a DNS-rebinding web page sends. The SDK's own
// check would refuse every such request, which also breaks a reverse
// proxy on the same machine; a request with a valid API key cannot come
// from a rebinding page, so only keyless ones are refused.
func rebound(r *http.Request) bool {
	if _, ok := auth.KeyFrom(r.Context()); ok {
		return false
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return ok && local != nil && loopbackName(local.String()) && !loopbackName(r.Host)
}

// loopbackName reports whether hostport names a loopback host.
func loopbackName(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// requestAccess is the access of the key that sent r.
func requestAccess(r *http.Request) Access {
	key, ok := auth.KeyFrom(r.Context())
	if !ok {
		return ReadWrite
	}
	if key.Scope.Allows(auth.ScopeWrite) {
		return ReadWrite
	}
	return ReadOnly
}

func accessName(a Access) string {
	if a >= ReadWrite {
		return "write"
	}
	return "read"
}

// callAccess is the access of one tool call: that of the HTTP request
// carrying it, or Config.Access on other transports (stdio, in memory).
func (s *Server) callAccess(req *sdk.CallToolRequest) Access {
	if req == nil || req.Extra == nil || req.Extra.Header == nil {
		return s.cfg.Access
	}
	if req.Extra.Header.Get(accessHeader) == "write" {
		return min(ReadWrite, s.cfg.Access)
	}
	return ReadOnly
}

// guardWrite refuses a write tool's call unless the caller has write
// access.
func guardWrite[In, Out any](s *Server, h sdk.ToolHandlerFor[In, Out]) sdk.ToolHandlerFor[In, Out] {
	return func(ctx context.Context, req *sdk.CallToolRequest, in In) (*sdk.CallToolResult, Out, error) {
		if s.callAccess(req) < ReadWrite {
			var zero Out
			name := ""
			if req != nil && req.Params != nil {
				name = req.Params.Name
			}
			return nil, zero, s.toolError(name, fmt.Errorf("%w: %s needs a write key; this API key has read access only", data.ErrForbidden, name))
		}
		return h(ctx, req, in)
	}
}
