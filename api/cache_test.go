package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/api/rcache"
	"github.com/ragd/ragd/index"
)

// cacheEnv is a test server with a result cache and its own registry.
func cacheEnv(t *testing.T, mut func(*api.Config)) (*testEnv, *rcache.Cache, *prometheus.Registry) {
	t.Helper()
	rc := rcache.New(rcache.DefaultConfig())
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(c *api.Config) {
		c.ResultCache = rc
		c.Registry = reg
		if mut != nil {
			mut(c)
		}
	})
	return e, rc, reg
}

// doH is do with extra request headers.
func (e *testEnv) doH(method, path string, body any, hdr map[string]string) (int, []byte, http.Header) {
	e.t.Helper()
	j, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(j))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, out, resp.Header
}

// cachedSearch searches and returns the hits, the X-Ragd-Cache header
// and the hits' raw JSON.
func (e *testEnv) cachedSearch(index string, body map[string]any, hdr map[string]string) (hitsResponse, string, string) {
	e.t.Helper()
	st, out, h := e.doH("POST", "/v1/indexes/"+index+"/search", body, hdr)
	if st != http.StatusOK {
		e.t.Fatalf("search %v: status %d: %s", body, st, out)
	}
	var r hitsResponse
	if err := json.Unmarshal(out, &r); err != nil {
		e.t.Fatal(err)
	}
	var raw struct {
		Hits json.RawMessage `json:"hits"`
	}
	_ = json.Unmarshal(out, &raw)
	if r.TookMS == nil {
		e.t.Fatalf("no took_ms in %s", out)
	}
	return r, h.Get(api.HeaderCache), string(raw.Hits)
}

func wantCache(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: %s = %q, want %q", what, api.HeaderCache, got, want)
	}
}

func TestCacheSearchHitAndInvalidation(t *testing.T) {
	e, rc, reg := cacheEnv(t, nil)
	e.seed("kw", "none")
	q := map[string]any{"query": "bread yeast", "mode": "bm25", "top_k": 10}

	r1, st1, raw1 := e.cachedSearch("kw", q, nil)
	wantCache(t, "first search", st1, "miss")
	if len(r1.Hits) == 0 {
		t.Fatal("no hits")
	}
	r2, st2, raw2 := e.cachedSearch("kw", q, nil)
	wantCache(t, "repeat", st2, "hit")
	if raw1 != raw2 {
		t.Fatalf("cached hits differ:\n%s\n%s", raw1, raw2)
	}
	t.Logf("server time: miss %.3f ms, hit %.3f ms", *r1.TookMS, *r2.TookMS)
	if !slices.Equal(r1.docIDs(), r2.docIDs()) {
		t.Fatalf("hit ids %v vs %v", r1.docIDs(), r2.docIDs())
	}
	if got := counterValue(t, reg, "ragd_cache_hits_total", "search"); got != 1 {
		t.Fatalf("hits counter %v", got)
	}
	if got := counterValue(t, reg, "ragd_cache_misses_total", "search"); got != 1 {
		t.Fatalf("misses counter %v", got)
	}
	if st := rc.Stats(); st.Hits != 1 || st.Misses != 1 || st.Size != 1 {
		t.Fatalf("cache stats %+v", st)
	}

	// An ingest into the index makes the next identical search a miss
	// that sees the new document.
	e.mustJSON("POST", "/v1/indexes/kw/documents", map[string]any{"documents": []map[string]any{
		{"id": "rye", "title": "Rye bread", "text": "Rye bread needs yeast, rye flour and more bread yeast."}}}, http.StatusOK, nil)
	r3, st3, _ := e.cachedSearch("kw", q, nil)
	wantCache(t, "after ingest", st3, "miss")
	if !slices.Contains(r3.docIDs(), "rye") {
		t.Fatalf("after ingest: hits %v lack the new document", r3.docIDs())
	}
	_, st4, _ := e.cachedSearch("kw", q, nil)
	wantCache(t, "repeat after ingest", st4, "hit")

	// Deleting a document invalidates too.
	e.mustJSON("DELETE", "/v1/indexes/kw/documents/rye", nil, http.StatusNoContent, nil)
	r5, st5, _ := e.cachedSearch("kw", q, nil)
	wantCache(t, "after delete", st5, "miss")
	if slices.Contains(r5.docIDs(), "rye") {
		t.Fatalf("deleted document still served: %v", r5.docIDs())
	}

	// Writing to another index leaves this one's entries valid.
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "other", "model": "none"}, http.StatusCreated, nil)
	e.mustJSON("POST", "/v1/indexes/other/documents", map[string]any{"documents": corpus}, http.StatusOK, nil)
	_, st6, _ := e.cachedSearch("kw", q, nil)
	wantCache(t, "after a write elsewhere", st6, "hit")
}

func TestCacheRecreatedIndex(t *testing.T) {
	e, _, _ := cacheEnv(t, nil)
	e.seed("kw", "none")
	q := map[string]any{"query": "bread", "mode": "bm25"}
	r1, _, _ := e.cachedSearch("kw", q, nil)
	_, st, _ := e.cachedSearch("kw", q, nil)
	wantCache(t, "repeat", st, "hit")
	if len(r1.Hits) == 0 {
		t.Fatal("no hits")
	}
	// Drop and re-create with the same name and the same number of writes
	// (one), so only a fresh version can tell the two apart.
	e.mustJSON("DELETE", "/v1/indexes/kw", nil, http.StatusNoContent, nil)
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "kw", "model": "none"}, http.StatusCreated, nil)
	e.mustJSON("POST", "/v1/indexes/kw/documents", map[string]any{"documents": []map[string]any{
		{"id": "flatbread", "title": "Flatbread", "text": "Flatbread is bread without a rise."}}}, http.StatusOK, nil)
	r2, st2, _ := e.cachedSearch("kw", q, nil)
	wantCache(t, "re-created index", st2, "miss")
	if got := r2.docIDs(); !slices.Equal(got, []string{"flatbread"}) {
		t.Fatalf("re-created index served %v, want [flatbread]", got)
	}
	// A search of a missing index is an error, never a cached answer.
	e.mustJSON("DELETE", "/v1/indexes/kw", nil, http.StatusNoContent, nil)
	e.wantError("POST", "/v1/indexes/kw/search", q, http.StatusNotFound, "not_found")
}

func TestCacheOptionsAreKeys(t *testing.T) {
	e, rc, _ := cacheEnv(t, nil)
	e.seed("kw", "hash")
	base := map[string]any{"query": "bread dough", "mode": "bm25", "top_k": 3}
	variants := []map[string]any{
		base,
		{"query": "bread dough", "mode": "bm25", "top_k": 1},
		{"query": "bread dough", "mode": "vector", "top_k": 3},
		{"query": "bread dough", "mode": "hybrid", "top_k": 3},
		{"query": "bread dough", "mode": "bm25", "top_k": 3, "filter": map[string]any{"lang": "fr"}},
		{"query": "bread dough", "mode": "bm25", "top_k": 3, "filter": map[string]any{"lang": "en"}},
		{"query": "bread dough", "mode": "bm25", "top_k": 3, "explain": true},
		{"query": "sourdough", "mode": "bm25", "top_k": 3},
		// query vectors enter the key by digest: one component apart is
		// another key, and the two really rank differently
		{"mode": "vector", "top_k": 3, "vector": oneHot(hashDims, 1)},
		{"mode": "vector", "top_k": 3, "vector": oneHot(hashDims, 2)},
	}
	results := make([]string, len(variants))
	for i, v := range variants {
		_, st, raw := e.cachedSearch("kw", v, nil)
		wantCache(t, "first run of variant", st, "miss")
		results[i] = raw
	}
	for i, v := range variants {
		_, st, raw := e.cachedSearch("kw", v, nil)
		wantCache(t, "second run of variant", st, "hit")
		if raw != results[i] {
			t.Fatalf("variant %d served another variant's hits: %s vs %s", i, raw, results[i])
		}
	}
	if rc.Len() != len(variants) {
		t.Fatalf("cache holds %d entries, want %d", rc.Len(), len(variants))
	}
	// The filters really select different hits, so sharing a key would show.
	var fr, en hitsResponse
	_ = json.Unmarshal([]byte(`{"hits":`+results[4]+`,"took_ms":0}`), &fr)
	_ = json.Unmarshal([]byte(`{"hits":`+results[5]+`,"took_ms":0}`), &en)
	if slices.Equal(fr.docIDs(), en.docIDs()) {
		t.Fatalf("filters gave the same hits %v", fr.docIDs())
	}
}

// oneHot is a vector of n zeros but for a 1 at i.
func oneHot(n, i int) []float32 {
	v := make([]float32, n)
	v[i] = 1
	return v
}

func TestCacheControlOptOut(t *testing.T) {
	e, rc, reg := cacheEnv(t, nil)
	e.seed("kw", "none")
	q := map[string]any{"query": "cat", "mode": "bm25"}

	_, st, _ := e.cachedSearch("kw", q, map[string]string{"Cache-Control": "no-store"})
	wantCache(t, "no-store", st, "bypass")
	if rc.Len() != 0 {
		t.Fatal("no-store stored a result")
	}
	_, st, _ = e.cachedSearch("kw", q, map[string]string{"Cache-Control": "max-age=0, No-Cache"})
	wantCache(t, "no-cache", st, "bypass")
	if rc.Len() != 1 {
		t.Fatal("no-cache should store the fresh result")
	}
	_, st, _ = e.cachedSearch("kw", q, nil)
	wantCache(t, "after no-cache", st, "hit")
	_, st, _ = e.cachedSearch("kw", q, map[string]string{"Cache-Control": "no-cache"})
	wantCache(t, "no-cache with an entry present", st, "bypass")
	if got := counterValue(t, reg, "ragd_cache_hits_total", "search"); got != 1 {
		t.Fatalf("bypasses counted as hits: %v", got)
	}
	if got := counterValue(t, reg, "ragd_cache_misses_total", "search"); got != 0 {
		t.Fatalf("bypasses counted as misses: %v", got)
	}
}

func TestCacheOffByDefault(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("kw", "none")
	for range 2 {
		st, out, h := e.do("POST", "/v1/indexes/kw/search", map[string]any{"query": "cat", "mode": "bm25"})
		if st != http.StatusOK || h.Get(api.HeaderCache) != "" {
			t.Fatalf("status %d header %q: %s", st, h.Get(api.HeaderCache), out)
		}
	}
}

func TestCacheAsk(t *testing.T) {
	gen := &scriptGen{tokens: []string{"Bread ", "needs ", "yeast [1]."}}
	e, _, reg := cacheEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")
	q := map[string]any{"query": "How do I bake bread?", "mode": "bm25"}
	st1, out1, h1 := e.doH("POST", "/v1/indexes/kw/ask", q, nil)
	st2, out2, h2 := e.doH("POST", "/v1/indexes/kw/ask", q, nil)
	if st1 != http.StatusOK || st2 != http.StatusOK {
		t.Fatalf("status %d %d: %s %s", st1, st2, out1, out2)
	}
	wantCache(t, "first ask", h1.Get(api.HeaderCache), "miss")
	wantCache(t, "repeat ask", h2.Get(api.HeaderCache), "hit")
	if !bytes.Equal(out1, out2) {
		t.Fatalf("cached answer differs:\n%s\n%s", out1, out2)
	}
	if !strings.Contains(string(out1), "Bread needs yeast") {
		t.Fatalf("answer %s", out1)
	}
	if n := len(gen.requests()); n != 1 {
		t.Fatalf("generator ran %d times, want 1 (the repeat is cached)", n)
	}
	if got := counterValue(t, reg, "ragd_cache_hits_total", "ask"); got != 1 {
		t.Fatalf("ask hits counter %v", got)
	}
	// Other generation options are another key.
	_, _, h3 := e.doH("POST", "/v1/indexes/kw/ask", map[string]any{"query": "How do I bake bread?", "mode": "bm25", "max_tokens": 7}, nil)
	wantCache(t, "other max_tokens", h3.Get(api.HeaderCache), "miss")
	// An ingest invalidates answers too.
	e.mustJSON("POST", "/v1/indexes/kw/documents", map[string]any{"documents": []map[string]any{
		{"id": "rye", "title": "Rye bread", "text": "Bake rye bread slowly."}}}, http.StatusOK, nil)
	_, _, h4 := e.doH("POST", "/v1/indexes/kw/ask", q, nil)
	wantCache(t, "ask after ingest", h4.Get(api.HeaderCache), "miss")
	if n := len(gen.requests()); n != 3 {
		t.Fatalf("generator ran %d times, want 3", n)
	}
	// Streamed answers are never cached.
	st, out, h := e.doH("POST", "/v1/indexes/kw/ask", map[string]any{"query": "How do I bake bread?", "mode": "bm25", "stream": true}, nil)
	if st != http.StatusOK || h.Get(api.HeaderCache) != "" || !strings.Contains(string(out), "event: done") {
		t.Fatalf("stream: status %d header %q body %s", st, h.Get(api.HeaderCache), out)
	}
	if n := len(gen.requests()); n != 4 {
		t.Fatalf("generator ran %d times, want 4", n)
	}
}

// counterValue is a labelled counter's value in reg (0 when absent).
func counterValue(t *testing.T, reg *prometheus.Registry, name, route string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && l.GetValue() == route {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// BenchmarkSearchCacheHit is a repeated search answered from the cache,
// through the whole handler stack in-process.
func BenchmarkSearchCacheHit(b *testing.B) {
	eng, err := index.Open(context.Background(), index.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	s := api.New(api.Config{Engine: eng, Models: newFakeModels(), DefaultModel: "none", ResultCache: rcache.New(rcache.DefaultConfig())})
	h := s.Handler()
	send := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:1234"
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := send("POST", "/v1/indexes", `{"name":"kw","model":"none"}`); w.Code != http.StatusCreated {
		b.Fatalf("create: %d %s", w.Code, w.Body)
	}
	docs, _ := json.Marshal(map[string]any{"documents": corpus})
	if w := send("POST", "/v1/indexes/kw/documents", string(docs)); w.Code != http.StatusOK {
		b.Fatalf("put: %d %s", w.Code, w.Body)
	}
	const q = `{"query":"bread yeast","mode":"bm25","top_k":10}`
	send("POST", "/v1/indexes/kw/search", q)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if w := send("POST", "/v1/indexes/kw/search", q); w.Header().Get(api.HeaderCache) != "hit" {
			b.Fatalf("not a hit: %d %s", w.Code, w.Body)
		}
	}
}
