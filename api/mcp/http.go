package mcp

import (
	"context"
	"fmt"
	"net/http"
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
	h := sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server {
		return s.MCP(requestAccess(r))
	}, &sdk.StreamableHTTPOptions{SessionTimeout: DefaultSessionTimeout, Logger: s.log,
		MaxRequestBodyBytes: s.cfg.MaxBodyBytes})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(accessHeader)
		r.Header.Set(accessHeader, accessName(min(requestAccess(r), s.cfg.Access)))
		h.ServeHTTP(w, r)
	})
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
