package cloudflare_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/index"
)

// hostileServer mounts both APIs on one router over a real engine, with a
// generator for /ask.
func hostileServer(t *testing.T) func(method, path, body string) (int, string) {
	t.Helper()
	eng, err := index.Open(context.Background(), index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	gen := &fakeGen{tokens: []string{"ok"}}
	srv := api.New(api.Config{Engine: eng, Generator: gen})
	svc := cloudflare.Register(srv.Echo(), cloudflare.Config{Engine: eng, Generator: gen, StateDir: t.TempDir()})
	t.Cleanup(svc.Close)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

// TestIDsMustBeCleanUTF8: ids with invalid UTF-8, lone surrogates or
// control characters are refused with 400 on /v1 documents and on
// Vectorize insert and upsert, so two different raw ids never fold into
// one stored id; a clean non-ASCII id still works.
func TestIDsMustBeCleanUTF8(t *testing.T) {
	call := hostileServer(t)
	if st, b := call("POST", "/v1/indexes", `{"name":"docs","model":"none"}`); st != 201 && st != 200 {
		t.Fatalf("create: %d %s", st, b)
	}
	if st, b := call("POST", base+"/vectorize/v2/indexes", `{"name":"vecs","config":{"dimensions":2,"metric":"cosine"}}`); st != 200 {
		t.Fatalf("create vectorize: %d %s", st, b)
	}
	for _, id := range []string{"x\xff", `x\ud800`, `x\u0000`, `x\u0007y`, "x\ty", `x\u0085`, `x\ufffd`} {
		if st, b := call("POST", "/v1/indexes/docs/documents", `{"id":"`+id+`","text":"hello"}`); st != 400 || !strings.Contains(b, "id") {
			t.Errorf("/v1 id %q: %d %s, want 400", id, st, b)
		}
		for _, op := range []string{"insert", "upsert"} {
			if st, b := call("POST", base+"/vectorize/v2/indexes/vecs/"+op, `{"id":"`+id+`","values":[1,0]}`); st != 400 || !strings.Contains(b, "id") {
				t.Errorf("vectorize %s id %q: %d %s, want 400", op, id, st, b)
			}
		}
	}
	if st, b := call("GET", "/v1/indexes/docs/documents", ""); st != 200 || strings.Contains(b, `"id":"x`) {
		t.Fatalf("a refused id was stored: %d %s", st, b)
	}
	if st, b := call("POST", "/v1/indexes/docs/documents", `{"id":"café/☕ 1","text":"hello"}`); st != 200 {
		t.Fatalf("clean UTF-8 id: %d %s", st, b)
	}
	if st, b := call("POST", base+"/vectorize/v2/indexes/vecs/upsert", `{"id":"café","values":[1,0]}`); st != 200 {
		t.Fatalf("clean UTF-8 vector id: %d %s", st, b)
	}
}

// TestLimitsAreTheSameEverywhere: the limits in data/limits.go apply on
// every route, with clear messages.
func TestLimitsAreTheSameEverywhere(t *testing.T) {
	call := hostileServer(t)
	if st, b := call("POST", "/v1/indexes", `{"name":"docs","model":"none"}`); st != 201 && st != 200 {
		t.Fatalf("create: %d %s", st, b)
	}
	if st, b := call("POST", "/v1/indexes/docs/documents", `{"id":"a","text":"bread is baked from dough"}`); st != 200 {
		t.Fatalf("put: %d %s", st, b)
	}
	big := `{"k":"` + strings.Repeat("m", 1<<20) + `"}`
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"v1 chunk_size 1e9", "POST", "/v1/indexes", `{"name":"huge","model":"none","chunk_size":1000000000}`, 400, "chunk_size 1000000000 out of range 32..2048"},
		{"v1 chunk_size 8", "POST", "/v1/indexes", `{"name":"tiny","model":"none","chunk_size":8}`, 400, "chunk_size 8 out of range"},
		{"ai search chunk_size 1e9", "POST", base + "/ai-search/instances", `{"id":"huge","chunk_size":1000000000}`, 400, "chunk_size 1000000000 out of range 32..2048"},
		{"v1 metadata 1 MB", "POST", "/v1/indexes/docs/documents", `{"id":"m","text":"x","metadata":` + big + `}`, 413, "metadata is"},
		{"ask temperature 99", "POST", "/v1/indexes/docs/ask", `{"query":"bread","temperature":99}`, 400, "temperature 99 out of range 0..2"},
		{"ask temperature -1", "POST", "/v1/indexes/docs/ask", `{"query":"bread","temperature":-1}`, 400, "temperature"},
		{"chat temperature 99", "POST", "/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":99}`, 400, "temperature must be in [0, 2]"},
		{"trailing garbage after documents", "POST", "/v1/indexes/docs/documents", `{"documents":[{"id":"t","text":"x"}]} garbage`, 400, "trailing data"},
		{"trailing garbage after one document", "POST", "/v1/indexes/docs/documents", `{"id":"t","text":"x"} {"id":"u"}`, 400, "trailing data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, b := call(tt.method, tt.path, tt.body)
			if st != tt.status || !strings.Contains(b, tt.msg) || strings.Contains(b, "unknown field") {
				t.Fatalf("%d %.300s, want %d with %q", st, b, tt.status, tt.msg)
			}
		})
	}
	if st, b := call("GET", "/v1/indexes/docs/documents", ""); st != 200 || strings.Contains(b, `"id":"m"`) || strings.Contains(b, `"id":"t"`) {
		t.Fatalf("a refused document was stored: %d %s", st, b)
	}
	if st, b := call("POST", "/v1/indexes/docs/ask", `{"query":"bread","temperature":2}`); st != 200 {
		t.Fatalf("temperature 2 is in range: %d %s", st, b)
	}
}

// TestMetadataIndexPropertyName: Vectorize's rules for property names
// apply to metadata_index/create; nested names with dots still work.
func TestMetadataIndexPropertyName(t *testing.T) {
	call := hostileServer(t)
	if st, b := call("POST", base+"/vectorize/v2/indexes", `{"name":"vecs","config":{"dimensions":2,"metric":"cosine"}}`); st != 200 {
		t.Fatalf("create: %d %s", st, b)
	}
	create := base + "/vectorize/v2/indexes/vecs/metadata_index/create"
	for _, p := range []string{"../x", "a/b", `a\\b`, "$x", ".x", "x.", "a..b", `a\"b`, `a\u0000b`, `a\nb`, "x\xff", ""} {
		if st, b := call("POST", create, `{"propertyName":"`+p+`","indexType":"string"}`); st != 400 || !strings.Contains(b, "propertyName") {
			t.Errorf("propertyName %q: %d %s, want 400", p, st, b)
		}
	}
	for _, p := range []string{"genre", "pandas.nice", "user_id-2", "café"} {
		if st, b := call("POST", create, `{"propertyName":"`+p+`","indexType":"string"}`); st != 200 {
			t.Errorf("propertyName %q: %d %s, want 200", p, st, b)
		}
	}
	if st, b := call("GET", base+"/vectorize/v2/indexes/vecs/metadata_index/list", ""); st != 200 || strings.Contains(b, "..") || !strings.Contains(b, "pandas.nice") {
		t.Fatalf("list: %d %s", st, b)
	}
}

// TestAISearchKeywordOnlyAndBinary: index_method {"vector": false} makes a
// keyword-only instance on a server with a default model (search and chat
// use BM25), and binary content is a 400 that stores nothing, whatever
// its file name or Content-Type says.
func TestAISearchKeywordOnlyAndBinary(t *testing.T) {
	e := newEnv(t)
	inst := decodeInto[struct {
		IndexMethod struct{ Keyword, Vector bool } `json:"index_method"`
	}](t, e.json("POST", ais+"/instances", `{"id":"kw","index_method":{"vector":false}}`, 200))
	if !inst.IndexMethod.Keyword || inst.IndexMethod.Vector {
		t.Fatalf("index_method: %+v, want keyword only", inst.IndexMethod)
	}
	items := ais + "/namespaces/default/instances/kw/items"
	if it := e.upload(items, 200, formPart{name: "file", filename: "bread.txt", value: "Sourdough bread rises slowly overnight."},
		formPart{name: "wait_for_completion", value: "true"}); it.Status != "completed" {
		t.Fatalf("upload: %+v", it)
	}
	r := decodeInto[searchResult](t, e.json("POST", ais+"/instances/kw/search", `{"query":"sourdough"}`, 200))
	if len(r.Chunks) != 1 {
		t.Fatalf("keyword search: %+v", r)
	}
	e.fail("POST", ais+"/instances/kw/search", "application/json", `{"query":"sourdough","ai_search_options":{"retrieval":{"retrieval_type":"vector"}}}`, 400, "")
	resp, err := http.Post(e.srv.URL+ais+"/instances/kw/chat/completions", "application/json", strings.NewReader(`{"messages":[{"role":"user","content":"sourdough?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"keyword_rank":1`) || !strings.Contains(string(b), "bread.txt") {
		t.Fatalf("chat on a keyword-only instance: %d %s", resp.StatusCode, b)
	}

	before := list[itemOut](e, items)
	binary := "\x00\x01\x02\xff\xfe\x00PK\x03\x04 not text at all \x00\x00"
	e.upload(items, 400, formPart{name: "file", filename: "blob.txt", value: binary}, formPart{name: "wait_for_completion", value: "true"})
	e.upload(items, 400, formPart{name: "file", filename: "blob.md", value: binary})
	e.upload(items, 400, formPart{name: "file", filename: "blob", contentType: "text/plain", value: binary})
	e.upload(items, 400, formPart{name: "file", filename: "fake.pdf", value: binary})
	if after := list[itemOut](e, items); after.ResultInfo.TotalCount != before.ResultInfo.TotalCount {
		t.Fatalf("binary uploads were stored: %d -> %d items", before.ResultInfo.TotalCount, after.ResultInfo.TotalCount)
	}
}
