package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed static
var staticFS embed.FS

// contentTypes maps the asset extensions the page uses to their media
// types; the system's MIME tables are not consulted, so the answer does
// not depend on the machine.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// csp is the page's Content-Security-Policy: everything from this origin
// only, no inline scripts or styles, no framing.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
	hash  string // first 12 hex digits of the content's SHA-256
}

// site holds the page and its assets.
type site struct {
	index  asset
	assets map[string]asset // by name under /ui/, e.g. "app.js"
}

func newAsset(name string, body []byte) asset {
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])[:12]
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	return asset{body: body, ctype: ct, etag: `"` + h + `"`, hash: h}
}

// load reads the embedded files and versions the asset URLs in index.html.
func load(fsys fs.FS) (*site, error) {
	s := &site{assets: map[string]asset{}}
	var page []byte
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if p == "index.html" {
			page = b
			return nil
		}
		s.assets[p] = newAsset(p, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if page == nil {
		return nil, fmt.Errorf("web: index.html missing from the embedded assets")
	}
	html := string(page)
	for name, a := range s.assets {
		html = strings.ReplaceAll(html, `"/ui/`+name+`"`, `"/ui/`+name+`?v=`+a.hash+`"`)
	}
	s.index = newAsset("index.html", []byte(html))
	return s, nil
}

// Register mounts the page at "/" and its assets at "/ui/*" (GET and HEAD).
func Register(e *echo.Echo) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	s, err := load(sub)
	if err != nil {
		panic(err) // a build without the page is a programming error
	}
	methods := []string{http.MethodGet, http.MethodHead}
	e.Match(methods, "/", s.servePage)
	e.Match(methods, "/index.html", s.servePage)
	e.Match(methods, "/ui", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/") })
	e.Match(methods, "/ui/", s.servePage)
	e.Match(methods, "/ui/*", s.serveAsset)
}

func (s *site) servePage(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	return serve(c, s.index, cacheRevalidate)
}

func (s *site) serveAsset(c echo.Context) error {
	name := c.Param("*")
	a, ok := s.assets[name]
	if !ok {
		return echo.ErrNotFound
	}
	cache := cacheRevalidate
	if c.QueryParam("v") == a.hash {
		cache = cacheImmutable
	}
	return serve(c, a, cache)
}

func serve(c echo.Context, a asset, cache string) error {
	h := c.Response().Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if etagMatch(c.Request().Header.Get("If-None-Match"), a.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	h.Set("Content-Length", fmt.Sprint(len(a.body)))
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	_, err := c.Response().Write(a.body)
	return err
}

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, "*" matches anything).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
