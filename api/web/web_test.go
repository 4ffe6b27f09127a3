package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	e := echo.New()
	Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var assetRef = regexp.MustCompile(`"(/ui/[a-z]+\.(?:js|css|svg))\?v=([0-9a-f]{12})"`)

func TestPageAndAssets(t *testing.T) {
	srv := newServer(t)
	resp, page := get(t, srv, http.MethodGet, "/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-cache",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("GET / %s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("GET / CSP = %q", csp)
	}
	if !strings.Contains(page, `id="search-form"`) || !strings.Contains(page, `id="ask-form"`) {
		t.Errorf("GET / is not the page:\n%.300s", page)
	}
	refs := assetRef.FindAllStringSubmatch(page, -1)
	if len(refs) != 5 {
		t.Fatalf("page references %d versioned assets, want 5 (favicon.svg, app.css, app.js, index.js, eval.js): %v", len(refs), refs)
	}
	wantType := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	for _, ref := range refs {
		path, v := ref[1], ref[2]
		ext := path[strings.LastIndex(path, "."):]
		resp, body := get(t, srv, http.MethodGet, path+"?v="+v, nil)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Fatalf("GET %s = %d, %d bytes", path, resp.StatusCode, len(body))
		}
		if got := resp.Header.Get("Content-Type"); got != wantType[ext] {
			t.Errorf("GET %s Content-Type = %q, want %q", path, got, wantType[ext])
		}
		if got := resp.Header.Get("Cache-Control"); got != cacheImmutable {
			t.Errorf("GET %s?v=current Cache-Control = %q, want immutable", path, got)
		}
		etag := resp.Header.Get("ETag")
		if etag != `"`+v+`"` {
			t.Errorf("GET %s ETag = %q, want %q", path, etag, v)
		}
		// Without the current version the asset revalidates.
		resp, _ = get(t, srv, http.MethodGet, path+"?v=old", nil)
		if got := resp.Header.Get("Cache-Control"); got != cacheRevalidate {
			t.Errorf("GET %s?v=old Cache-Control = %q, want %q", path, got, cacheRevalidate)
		}
		resp, body = get(t, srv, http.MethodGet, path, map[string]string{"If-None-Match": etag})
		if resp.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("conditional GET %s = %d with %d bytes, want 304 and no body", path, resp.StatusCode, len(body))
		}
		resp, body = get(t, srv, http.MethodHead, path, nil)
		if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Type") != wantType[ext] {
			t.Errorf("HEAD %s = %d, %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
}

func TestRoutes(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/", http.StatusOK},
		{"/index.html", http.StatusOK},
		{"/ui/", http.StatusOK},
		{"/ui/app.js", http.StatusOK},
		{"/ui/eval.js", http.StatusOK},
		{"/ui/index.js", http.StatusOK},
		{"/ui/app.css", http.StatusOK},
		{"/ui/favicon.svg", http.StatusOK},
		{"/ui/nope.js", http.StatusNotFound},
		{"/ui/../web.go", http.StatusNotFound},
		{"/ui/index.html", http.StatusNotFound},
	} {
		resp, _ := get(t, srv, http.MethodGet, tc.path, nil)
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
	}
}

var rawSink = regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\('on`)

// TestNoRawHTMLSinks keeps untrusted text out of the HTML parser: the
// scripts build the DOM with text nodes only.
func TestNoRawHTMLSinks(t *testing.T) {
	for _, name := range []string{"static/app.js", "static/index.js", "static/eval.js"} {
		b, err := staticFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if m := rawSink.FindString(string(b)); m != "" {
			t.Errorf("%s uses %s", name, m)
		}
	}
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html": {Data: []byte(`<script src="/ui/a.js"></script><link href="/ui/b.css">`)},
		"a.js":       {Data: []byte("1")},
		"b.css":      {Data: []byte("2")},
	}
	s, err := load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	page := string(s.index.body)
	if !strings.Contains(page, `"/ui/a.js?v=`+s.assets["a.js"].hash+`"`) {
		t.Errorf("a.js not versioned: %s", page)
	}
	if !strings.Contains(page, `"/ui/b.css?v=`+s.assets["b.css"].hash+`"`) {
		t.Errorf("b.css not versioned: %s", page)
	}
	if _, err := load(fstest.MapFS{"a.js": {Data: []byte("1")}}); err == nil {
		t.Error("load without index.html: no error")
	}
}

func TestETagMatch(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{`"abc"`, true},
		{`W/"abc"`, true},
		{`"x", "abc"`, true},
		{`*`, true},
		{`"abd"`, false},
		{``, false},
	} {
		if got := etagMatch(tc.header, `"abc"`); got != tc.want {
			t.Errorf("etagMatch(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}
