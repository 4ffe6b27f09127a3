package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"golang.org/x/time/rate"
)

// ContextKey is the echo context key under which Middleware stores the
// authenticated key's ID (a string), e.g. for access logs.
const ContextKey = "ragd.key"

// Defaults for Config's path lists.
var (
	// DefaultPublic are the paths that never need a key.
	DefaultPublic = []string{"/healthz", "/readyz"}
	// DefaultReadOnlyPOST are the POST routes that only read: search,
	// answers, vector queries, embeddings, chat completions and Workers AI
	// model runs.
	DefaultReadOnlyPOST = []string{"/search", "/ask", "/query", "/get_by_ids", "/embeddings", "/chat/completions", "/ai/run/"}
	// DefaultAdmin are the routes that need the admin scope: key
	// management and snapshots (a snapshot copies every index and the
	// keys file, and fills the disk).
	DefaultAdmin = []string{"/v1/keys", "/v1/snapshots"}
	// DefaultReadOnly are the routes that need only the read scope at the
	// door whatever the method, because the handler checks finer scopes
	// itself with KeyFrom: the MCP endpoint (its write tools need a write
	// key, checked per call).
	DefaultReadOnly = []string{"/mcp"}
)

// Config configures Middleware.
type Config struct {
	// Store holds the keys (nil: no keys).
	Store *Store
	// Open allows requests from any address while the store has no active
	// keys; without it, keyless mode serves loopback clients only. Once an
	// active key exists, every non-public route needs one either way.
	Open bool
	// Public lists paths that never need a key (default DefaultPublic).
	// An entry matches itself and the paths under it ("/ui/" and "/ui"
	// match "/ui/app.js"); "/" matches only "/".
	Public []string
	// ReadOnlyPOST lists POST routes that need only the read scope
	// (default DefaultReadOnlyPOST): an entry matches paths that end with
	// it, or, when it ends in "/", paths that contain it.
	ReadOnlyPOST []string
	// Admin lists path prefixes that need the admin scope, whatever the
	// method (default DefaultAdmin); matched like Public.
	Admin []string
	// ReadOnly lists paths that need only the read scope whatever the
	// method (default DefaultReadOnly); matched like Public. Their
	// handlers enforce anything finer with KeyFrom.
	ReadOnly []string
	// DefaultRate and DefaultBurst limit keys that have no rate of their
	// own (0: unlimited).
	DefaultRate  float64
	DefaultBurst int
	// Logger receives denials (key IDs only, never secrets).
	Logger *slog.Logger

	now func() time.Time // tests
}

// Middleware authenticates requests with API keys from the store
// ("Authorization: Bearer ragd_..." or "X-API-Key: ragd_..."), checks the
// key's scope against the route, and rate-limits each key. Denials are
// returned as errors for the server's error writer (so each wire format
// renders them its own way): 401 unauthorized, 403 forbidden (or 403 when
// keyless mode refuses a non-loopback client), 429 rate_limited with
// Retry-After.
func Middleware(cfg Config) echo.MiddlewareFunc {
	if cfg.Public == nil {
		cfg.Public = DefaultPublic
	}
	if cfg.ReadOnlyPOST == nil {
		cfg.ReadOnlyPOST = DefaultReadOnlyPOST
	}
	if cfg.Admin == nil {
		cfg.Admin = DefaultAdmin
	}
	if cfg.ReadOnly == nil {
		cfg.ReadOnly = DefaultReadOnly
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	g := &guard{cfg: cfg, limiters: map[string]*limiter{}}
	return g.middleware
}

type guard struct {
	cfg      Config
	mu       sync.Mutex
	limiters map[string]*limiter // by key ID
}

type limiter struct {
	rate  float64
	burst int
	lim   *rate.Limiter
}

func (g *guard) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		paths := candidatePaths(req)
		if allMatch(paths, g.cfg.Public, prefixMatch) {
			return next(c)
		}
		if g.cfg.Store == nil || g.cfg.Store.Active() == 0 {
			if g.cfg.Open || isLoopback(req.RemoteAddr) {
				return next(c)
			}
			g.deny(c, "", "no API keys exist and the client is not on loopback")
			return denied(http.StatusForbidden, data.ErrForbidden,
				"this server has no API keys and serves loopback clients only; create a key with `ragd keys create`")
		}
		secret, ok := presented(req)
		if !ok {
			g.deny(c, "", "no API key")
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ragd"`)
			return denied(http.StatusUnauthorized, data.ErrUnauthorized,
				"an API key is required: send \"Authorization: Bearer KEY\" or \"X-API-Key: KEY\"")
		}
		key, err := g.cfg.Store.Authenticate(secret)
		if err != nil {
			msg := "invalid API key"
			if errors.Is(err, ErrRevokedKey) {
				msg = "API key revoked"
			}
			g.deny(c, "", msg)
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ragd", error="invalid_token"`)
			return denied(http.StatusUnauthorized, data.ErrUnauthorized, msg)
		}
		c.Set(ContextKey, key.ID)
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), keyCtx{}, key)))
		req = c.Request()
		need := g.required(req.Method, paths)
		if !key.Scope.Allows(need) {
			g.deny(c, key.ID, "scope "+string(key.Scope)+" < "+string(need))
			return denied(http.StatusForbidden, data.ErrForbidden,
				"this API key has scope "+string(key.Scope)+"; "+req.Method+" "+req.URL.Path+" needs "+string(need))
		}
		if wait, ok := g.take(key); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			if secs < 1 {
				secs = 1
			}
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			g.cfg.Logger.Info("auth: rate limited", "key", key.ID, "method", clip(req.Method), "path", clip(req.URL.Path), "retry_after_s", secs)
			return denied(http.StatusTooManyRequests, data.ErrRateLimited,
				"rate limit exceeded for this API key; retry in "+strconv.Itoa(secs)+"s")
		}
		return next(c)
	}
}

// keyCtx is the request-context key under which Middleware stores the
// authenticated Key.
type keyCtx struct{}

// KeyFrom returns the key Middleware authenticated for the request whose
// context is ctx; false when the request carried none (keyless mode, a
// public path, or no Middleware).
func KeyFrom(ctx context.Context) (Key, bool) {
	k, ok := ctx.Value(keyCtx{}).(Key)
	return k, ok
}

// required is the scope a request needs: the highest over its path
// spellings, so no spelling can lower it.
func (g *guard) required(method string, paths []string) Scope {
	need := ScopeRead
	for _, p := range paths {
		s := ScopeRead
		switch {
		case anyMatch(p, g.cfg.Admin, prefixMatch):
			s = ScopeAdmin
		case method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions:
		case anyMatch(p, g.cfg.ReadOnly, prefixMatch):
		case method == http.MethodPost && anyMatch(p, g.cfg.ReadOnlyPOST, suffixMatch):
		default:
			s = ScopeWrite
		}
		if s.rank() > need.rank() {
			need = s
		}
	}
	return need
}

// take spends one token of the key's bucket; when it is empty it returns
// how long until a token is available.
func (g *guard) take(key Key) (time.Duration, bool) {
	r, b := key.Rate, key.Burst
	if r <= 0 {
		r, b = g.cfg.DefaultRate, g.cfg.DefaultBurst
	}
	if r <= 0 {
		return 0, true
	}
	if b <= 0 {
		b = max(1, int(math.Ceil(r)))
	}
	now := g.cfg.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.limiters[key.ID]
	if l == nil || l.rate != r || l.burst != b {
		l = &limiter{rate: r, burst: b, lim: rate.NewLimiter(rate.Limit(r), b)}
		g.limiters[key.ID] = l
	}
	res := l.lim.ReserveN(now, 1)
	if !res.OK() {
		return time.Second, false
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

// clip bounds a client-chosen value in a log line to 256 bytes (on a rune
// boundary), noting the full length: an unauthenticated client must not
// be able to write megabytes to the log.
func clip(s string) string {
	const maxLen = 256
	if len(s) <= maxLen {
		return s
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...(%d bytes)", s[:cut], len(s))
}

func (g *guard) deny(c echo.Context, keyID, reason string) {
	req := c.Request()
	attrs := []any{"reason", reason, "method", clip(req.Method), "path", clip(req.URL.Path), "remote", req.RemoteAddr}
	if keyID != "" {
		attrs = append(attrs, "key", keyID)
	}
	g.cfg.Logger.Warn("auth: request denied", attrs...)
}

// presented returns the key sent with the request: a Bearer token, else the
// X-API-Key header.
func presented(req *http.Request) (string, bool) {
	if h := strings.TrimSpace(req.Header.Get(echo.HeaderAuthorization)); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			if tok = strings.TrimSpace(tok); tok != "" {
				return tok, true
			}
		}
	}
	if k := strings.TrimSpace(req.Header.Get("X-API-Key")); k != "" {
		return k, true
	}
	return "", false
}

// isLoopback reports whether the connection's peer is a loopback address.
// It reads the socket address only, never forwarding headers.
func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// candidatePaths are the spellings of the request path that routing or a
// proxy might act on: as decoded, cleaned of dot segments, and escaped.
func candidatePaths(req *http.Request) []string {
	p := req.URL.Path
	if p == "" {
		p = "/"
	}
	out := []string{p}
	if cl := path.Clean("/" + p); cl != p {
		out = append(out, cl)
	}
	if rp := req.URL.RawPath; rp != "" && rp != p {
		out = append(out, rp)
	}
	return out
}

// prefixMatch: p is entry or lies under it; "/" matches only "/".
func prefixMatch(p, entry string) bool {
	e := strings.TrimSuffix(entry, "/")
	if e == "" {
		return p == "/"
	}
	return p == e || strings.HasPrefix(p, e+"/")
}

// suffixMatch: p ends with entry, or contains it when it ends in "/".
func suffixMatch(p, entry string) bool {
	if strings.HasSuffix(entry, "/") {
		return strings.Contains(p, entry)
	}
	return strings.HasSuffix(p, entry)
}

func anyMatch(p string, entries []string, match func(p, entry string) bool) bool {
	for _, e := range entries {
		if e != "" && match(p, e) {
			return true
		}
	}
	return false
}

func allMatch(paths, entries []string, match func(p, entry string) bool) bool {
	for _, p := range paths {
		if !anyMatch(p, entries, match) {
			return false
		}
	}
	return true
}

// denied is a refusal for the route's error writer, which renders it in
// the route's wire format (ragd's error body on /v1, Cloudflare's envelope
// on /client/v4): the status, the message a client sees, and the sentinel
// that gives the code. Headers set before it (Retry-After,
// WWW-Authenticate) are kept.
func denied(status int, kind error, msg string) error {
	return &echo.HTTPError{Code: status, Message: msg, Internal: kind}
}
