package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// CORS returns middleware that lets browser pages served from origins
// ("https://app.example.com", or "*" for any) call the API: preflights are
// answered and responses carry Access-Control-Allow-Origin for those
// origins only. Requests may send Authorization, Content-Type, X-API-Key,
// Cache-Control (the result cache's opt-out) and MCP's Mcp-Session-Id,
// Mcp-Protocol-Version and Last-Event-ID; responses expose X-Request-Id,
// Retry-After, X-Ragd-Cache and Mcp-Session-Id. With no
// origins it adds nothing (no cross-origin access), since echo's own
// default would allow every origin.
//
// Register it with Echo.Pre so that preflight OPTIONS requests, which
// match no route, are answered too.
func CORS(origins []string) echo.MiddlewareFunc {
	if len(origins) == 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins: append([]string(nil), origins...),
		AllowMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete},
		AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, "X-API-Key", echo.HeaderCacheControl,
			"Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID"},
		ExposeHeaders: []string{echo.HeaderXRequestID, echo.HeaderRetryAfter, HeaderCache, "Mcp-Session-Id"},
		MaxAge:        600,
	})
}
