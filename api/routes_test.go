package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
)

func TestIndexesLifecycle(t *testing.T) {
	e := newEnv(t, nil)

	var list struct {
		Indexes []map[string]any `json:"indexes"`
	}
	e.mustJSON("GET", "/v1/indexes", nil, http.StatusOK, &list)
	if list.Indexes == nil || len(list.Indexes) != 0 {
		t.Fatalf("fresh engine: indexes %v, want an empty list (not null)", list.Indexes)
	}

	var created struct {
		Name  string `json:"name"`
		Model string `json:"model"`
		Dims  int    `json:"dims"`
		Stats struct {
			Documents int `json:"documents"`
		} `json:"stats"`
	}
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "kw"}, http.StatusCreated, &created)
	if created.Name != "kw" || created.Model != "" || created.Dims != 0 {
		t.Fatalf("keyword index (server default model none): %+v", created)
	}
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "vec", "model": "hash"}, http.StatusCreated, &created)
	if created.Model != "hash" || created.Dims != hashDims {
		t.Fatalf("vector index: %+v, want model hash with %d dims", created, hashDims)
	}

	e.wantError("POST", "/v1/indexes", map[string]any{"name": "bad name!"}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes", map[string]any{"name": ""}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes", map[string]any{"name": "kw"}, http.StatusConflict, "already_exists")
	e.wantError("POST", "/v1/indexes", map[string]any{"name": "m", "model": "no-such-model"}, http.StatusNotFound, "not_found")
	e.wantError("POST", "/v1/indexes", map[string]any{"name": "m", "metric": "manhattan"}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes", `{"name": "m"`, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes", `{"name": "m", "colour": "blue"}`, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes", `{"name": "m"} {"name": "n"}`, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes", "", http.StatusBadRequest, "invalid_request")

	e.mustJSON("GET", "/v1/indexes", nil, http.StatusOK, &list)
	var names []string
	for _, in := range list.Indexes {
		names = append(names, in["name"].(string))
	}
	if !slices.Equal(names, []string{"kw", "vec"}) {
		t.Fatalf("listed %v, want [kw vec] (the failed creates must not leave indexes behind)", names)
	}

	e.mustJSON("GET", "/v1/indexes/vec", nil, http.StatusOK, &created)
	if created.Name != "vec" || created.Dims != hashDims {
		t.Fatalf("GET vec: %+v", created)
	}
	e.wantError("GET", "/v1/indexes/nope", nil, http.StatusNotFound, "not_found")

	e.mustJSON("DELETE", "/v1/indexes/kw", nil, http.StatusNoContent, nil)
	e.wantError("GET", "/v1/indexes/kw", nil, http.StatusNotFound, "not_found")
	e.wantError("DELETE", "/v1/indexes/kw", nil, http.StatusNotFound, "not_found")
	e.wantError("POST", "/v1/indexes/kw/documents", corpus[0], http.StatusNotFound, "not_found")

	// A re-created index starts empty.
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "vec2", "model": "hash"}, http.StatusCreated, nil)
	e.mustJSON("POST", "/v1/indexes/vec2/documents", corpus[0], http.StatusOK, nil)
	e.mustJSON("DELETE", "/v1/indexes/vec2", nil, http.StatusNoContent, nil)
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "vec2", "model": "hash"}, http.StatusCreated, &created)
	if created.Stats.Documents != 0 {
		t.Fatalf("re-created index has %d documents, want 0", created.Stats.Documents)
	}
}

// An index created with both a model and matching dims must keep the model,
// or text queries cannot be embedded later.
func TestCreateIndexModelWithDims(t *testing.T) {
	e := newEnv(t, nil)
	var created struct {
		Model string `json:"model"`
		Dims  int    `json:"dims"`
	}
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "v", "model": "hash", "dims": hashDims}, http.StatusCreated, &created)
	if created.Model != "hash" || created.Dims != hashDims {
		t.Fatalf("created %+v, want model hash, %d dims", created, hashDims)
	}
	e.mustJSON("POST", "/v1/indexes/v/documents", corpus, http.StatusOK, nil)
	var res hitsResponse
	e.mustJSON("POST", "/v1/indexes/v/search", map[string]any{"query": "bake bread in an oven", "mode": "vector", "top_k": 1}, http.StatusOK, &res)
	if len(res.Hits) != 1 || res.Hits[0].DocID != "bread" {
		t.Fatalf("vector search on model+dims index: %v", res.docIDs())
	}
	e.wantError("POST", "/v1/indexes", map[string]any{"name": "w", "model": "hash", "dims": hashDims + 1}, http.StatusBadRequest, "dimension_mismatch")
	// dims alone (bring your own vectors) stays model-less.
	created.Model, created.Dims = "", 0
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "byo", "dims": 3}, http.StatusCreated, &created)
	if created.Model != "" || created.Dims != 3 {
		t.Fatalf("dims-only index: %+v", created)
	}
}

func TestPutDocumentsShapesAndErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "d"}, http.StatusCreated, nil)

	type putResp struct {
		Written  int `json:"written"`
		Skipped  int `json:"skipped"`
		Chunks   int `json:"chunks"`
		Embedded int `json:"embedded"`
	}
	var r putResp
	// A bare array, with the BEIR "_id" spelling.
	e.mustJSON("POST", "/v1/indexes/d/documents", `[{"id":"a","text":"alpha text"},{"_id":"b","title":"Bee","text":"beta text"}]`, http.StatusOK, &r)
	if r.Written != 2 || r.Chunks != 2 || r.Embedded != 0 {
		t.Fatalf("array: %+v", r)
	}
	// The wrapper object.
	e.mustJSON("POST", "/v1/indexes/d/documents", `{"documents":[{"id":"c","text":"gamma text"}]}`, http.StatusOK, &r)
	if r.Written != 1 {
		t.Fatalf("wrapper: %+v", r)
	}
	// One object.
	e.mustJSON("POST", "/v1/indexes/d/documents", `{"id":"e","text":"epsilon text","metadata":{"k":"v"}}`, http.StatusOK, &r)
	if r.Written != 1 {
		t.Fatalf("single object: %+v", r)
	}
	// One object that merely mentions "documents" is still one document.
	e.mustJSON("POST", "/v1/indexes/d/documents", `{"id":"f","title":"documents","text":"a page about \"documents\"","metadata":{"documents":3}}`, http.StatusOK, &r)
	if r.Written != 1 {
		t.Fatalf("single object mentioning documents: %+v", r)
	}
	// Unchanged documents are skipped; force rewrites them.
	e.mustJSON("POST", "/v1/indexes/d/documents", `[{"id":"a","text":"alpha text"},{"_id":"b","title":"Bee","text":"beta text"}]`, http.StatusOK, &r)
	if r.Written != 0 || r.Skipped != 2 {
		t.Fatalf("unchanged re-put: %+v, want 2 skipped", r)
	}
	e.mustJSON("POST", "/v1/indexes/d/documents", `{"documents":[{"id":"a","text":"alpha text"}],"force":true}`, http.StatusOK, &r)
	if r.Written != 1 {
		t.Fatalf("forced re-put: %+v", r)
	}
	var doc struct {
		ID       string         `json:"id"`
		Title    string         `json:"title"`
		Text     string         `json:"text"`
		Source   string         `json:"source"`
		Metadata map[string]any `json:"metadata"`
		Chunks   []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"chunks"`
	}
	e.mustJSON("GET", "/v1/indexes/d/documents/b", nil, http.StatusOK, &doc)
	if doc.ID != "b" || doc.Title != "Bee" || doc.Text != "beta text" || doc.Source != "api" || len(doc.Chunks) != 1 || doc.Chunks[0].ID != "b#0" {
		t.Fatalf("document b: %+v", doc)
	}
	e.mustJSON("GET", "/v1/indexes/d/documents/e", nil, http.StatusOK, &doc)
	if doc.Metadata["k"] != "v" {
		t.Fatalf("document e metadata: %v", doc.Metadata)
	}

	for _, tc := range []struct {
		name, body, code string
		status           int
	}{
		{"missing id", `{"text":"no id"}`, "invalid_request", 400},
		{"missing id in array", `[{"id":"x","text":"ok"},{"text":"no id"}]`, "invalid_request", 400},
		{"no text", `{"id":"x"}`, "invalid_request", 400},
		{"empty array", `[]`, "invalid_request", 400},
		{"empty wrapper", `{"documents":[]}`, "invalid_request", 400},
		{"invalid JSON", `{"id":"x","text":`, "invalid_request", 400},
		{"unknown field", `{"id":"x","text":"t","colour":"red"}`, "invalid_request", 400},
		{"unknown field in wrapper", `{"documents":[{"id":"x","text":"t"}],"colour":"red"}`, "invalid_request", 400},
		{"trailing data", `{"id":"x","text":"t"} {}`, "invalid_request", 400},
		{"empty body", ``, "invalid_request", 400},
		{"duplicate ids", `[{"id":"x","text":"t"},{"id":"x","text":"u"}]`, "invalid_request", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.wantError("POST", "/v1/indexes/d/documents", tc.body, tc.status, tc.code)
		})
	}
	e.t = t
	e.wantError("POST", "/v1/indexes/nope/documents", `{"id":"x","text":"t"}`, http.StatusNotFound, "not_found")

	// Nothing of the failed requests was written.
	var page struct {
		Documents []struct{ ID string } `json:"documents"`
	}
	e.mustJSON("GET", "/v1/indexes/d/documents", nil, http.StatusOK, &page)
	var ids []string
	for _, d := range page.Documents {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"a", "b", "c", "e", "f"}) {
		t.Fatalf("documents after the failed requests: %v", ids)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxBodyBytes = 1024 })
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "d"}, http.StatusCreated, nil)
	big := `{"id":"big","text":"` + strings.Repeat("word ", 1000) + `"}`
	small := `{"id":"small","text":"fits"}`
	e.mustJSON("POST", "/v1/indexes/d/documents", small, http.StatusOK, nil)
	e.wantError("POST", "/v1/indexes/d/documents", big, http.StatusRequestEntityTooLarge, "too_large")
	e.wantError("POST", "/v1/indexes/d/search", `{"query":"`+strings.Repeat("q ", 1000)+`"}`, http.StatusRequestEntityTooLarge, "too_large")

	// Without a Content-Length (chunked upload) the limit is found while
	// reading; the status must be the same.
	for _, path := range []string{"/v1/indexes/d/documents", "/v1/indexes/d/search"} {
		req, err := http.NewRequest("POST", e.srv.URL+path, io.MultiReader(strings.NewReader(big)))
		if err != nil {
			t.Fatal(err)
		}
		if req.ContentLength != 0 {
			t.Fatalf("want an unknown length, got %d", req.ContentLength)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkError(t, "chunked POST "+path, resp.StatusCode, out, resp.Header, http.StatusRequestEntityTooLarge, "too_large")
	}
	var page struct {
		Documents []struct{ ID string } `json:"documents"`
	}
	e.mustJSON("GET", "/v1/indexes/d/documents", nil, http.StatusOK, &page)
	if len(page.Documents) != 1 || page.Documents[0].ID != "small" {
		t.Fatalf("documents: %+v, want only small", page.Documents)
	}
}

func TestListDocumentsPagination(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("p", "none")
	type page struct {
		Documents []struct {
			ID     string `json:"id"`
			Title  string `json:"title"`
			Hash   string `json:"hash"`
			Chunks int    `json:"chunks"`
			Text   string `json:"text"`
		} `json:"documents"`
		Next string `json:"next"`
	}
	var all []string
	after := ""
	for i := 0; ; i++ {
		if i > 5 {
			t.Fatal("pagination does not end")
		}
		var p page
		e.mustJSON("GET", "/v1/indexes/p/documents?limit=2&after="+after, nil, http.StatusOK, &p)
		if len(p.Documents) > 2 {
			t.Fatalf("page of %d with limit 2", len(p.Documents))
		}
		for _, d := range p.Documents {
			if d.Hash == "" || d.Chunks != 1 || d.Text != "" || d.Title == "" {
				t.Errorf("summary %+v: want hash, 1 chunk, a title and no text", d)
			}
			all = append(all, d.ID)
		}
		if len(p.Documents) == 2 && p.Next != p.Documents[1].ID {
			t.Fatalf("full page: next %q, want the last id %q", p.Next, p.Documents[1].ID)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	want := []string{"bread", "cats", "dogs", "sourdough", "stocks"}
	if !slices.Equal(all, want) {
		t.Fatalf("paged ids %v, want %v", all, want)
	}
	var p page
	e.mustJSON("GET", "/v1/indexes/p/documents", nil, http.StatusOK, &p)
	if len(p.Documents) != 5 || p.Next != "" {
		t.Fatalf("default page: %d documents, next %q", len(p.Documents), p.Next)
	}
	// A full last page says nothing follows.
	e.mustJSON("GET", "/v1/indexes/p/documents?limit=5", nil, http.StatusOK, &p)
	if len(p.Documents) != 5 || p.Next != "" {
		t.Fatalf("exactly one full page: %d documents, next %q (want none)", len(p.Documents), p.Next)
	}
	e.mustJSON("GET", "/v1/indexes/p/documents?after=stocks", nil, http.StatusOK, &p)
	if p.Documents == nil || len(p.Documents) != 0 {
		t.Fatalf("past the end: %+v, want an empty list", p.Documents)
	}
	for _, q := range []string{"limit=0", "limit=-1", "limit=abc", "limit=1001"} {
		e.wantError("GET", "/v1/indexes/p/documents?"+q, nil, http.StatusBadRequest, "invalid_request")
	}
	e.wantError("GET", "/v1/indexes/nope/documents", nil, http.StatusNotFound, "not_found")
}

func TestDocumentIDsWithSlashes(t *testing.T) {
	e := newEnv(t, nil)
	e.mustJSON("POST", "/v1/indexes", map[string]any{"name": "d"}, http.StatusCreated, nil)
	ids := []string{"notes/2024/plan.md", "/abs/path/file.txt", "50%off.txt", "a%41b", "space name.txt"}
	var docs []map[string]any
	for _, id := range ids {
		docs = append(docs, map[string]any{"id": id, "text": "text of " + id})
	}
	e.mustJSON("POST", "/v1/indexes/d/documents", docs, http.StatusOK, nil)

	get := func(path, wantID string) {
		t.Helper()
		var d struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		e.mustJSON("GET", "/v1/indexes/d/documents/"+path, nil, http.StatusOK, &d)
		if d.ID != wantID || d.Text != "text of "+wantID {
			t.Fatalf("GET %s: got %+v, want id %q", path, d, wantID)
		}
	}
	get("notes/2024/plan.md", "notes/2024/plan.md")
	get("notes%2F2024%2Fplan.md", "notes/2024/plan.md")
	get("/abs/path/file.txt", "/abs/path/file.txt")
	get("%2Fabs%2Fpath%2Ffile.txt", "/abs/path/file.txt")
	get("50%25off.txt", "50%off.txt")
	get("a%2541b", "a%41b")
	get("space%20name.txt", "space name.txt")

	e.wantError("GET", "/v1/indexes/d/documents/notes/2024", nil, http.StatusNotFound, "not_found")
	e.wantError("GET", "/v1/indexes/d/documents/", nil, http.StatusBadRequest, "invalid_request")
	e.wantError("GET", "/v1/indexes/nope/documents/x", nil, http.StatusNotFound, "not_found")

	e.mustJSON("DELETE", "/v1/indexes/d/documents/notes%2F2024%2Fplan.md", nil, http.StatusNoContent, nil)
	e.wantError("GET", "/v1/indexes/d/documents/notes/2024/plan.md", nil, http.StatusNotFound, "not_found")
	e.wantError("DELETE", "/v1/indexes/d/documents/notes/2024/plan.md", nil, http.StatusNotFound, "not_found")
	e.mustJSON("DELETE", "/v1/indexes/d/documents/50%25off.txt", nil, http.StatusNoContent, nil)
	e.mustJSON("DELETE", "/v1/indexes/d/documents//abs/path/file.txt", nil, http.StatusNoContent, nil)
	e.wantError("DELETE", "/v1/indexes/nope/documents/x", nil, http.StatusNotFound, "not_found")

	// Deleted documents are gone from search too.
	var res hitsResponse
	e.mustJSON("POST", "/v1/indexes/d/search", map[string]any{"query": "text"}, http.StatusOK, &res)
	got := res.docIDs()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a%41b", "space name.txt"}) {
		t.Fatalf("search after deletes: %v", got)
	}
}

func TestSearchBM25(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("kw", "none")

	// Check the raw shape first.
	st, out, _ := e.do("POST", "/v1/indexes/kw/search", map[string]any{"query": "bake bread in a hot oven", "top_k": 3})
	if st != http.StatusOK {
		t.Fatalf("search: %d %s", st, out)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["took_ms"]; !ok {
		t.Fatalf("no took_ms in %s", out)
	}
	var rawHits []map[string]json.RawMessage
	if err := json.Unmarshal(raw["hits"], &rawHits); err != nil || len(rawHits) == 0 {
		t.Fatalf("hits in %s: %v", out, err)
	}
	for _, k := range []string{"doc_id", "chunk_id", "score", "source", "title", "text"} {
		if _, ok := rawHits[0][k]; !ok {
			t.Errorf("hit has no %q: %s", k, out)
		}
	}
	if _, ok := rawHits[0]["explain"]; ok {
		t.Errorf("explain present without being asked: %s", out)
	}

	var res hitsResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if got := res.docIDs(); !slices.Equal(got, []string{"bread", "sourdough"}) {
		t.Fatalf("bm25 ranking %v, want [bread sourdough] (only documents with a query term)", got)
	}
	h := res.Hits[0]
	if h.ChunkID != "bread#0" || h.Title != "Baking bread" || h.Source != "api" || !strings.Contains(h.Text, "hot oven") || h.Meta["lang"] != "en" {
		t.Fatalf("top hit fields: %+v", h)
	}
	if !(res.Hits[0].Score > res.Hits[1].Score && res.Hits[1].Score > 0) {
		t.Fatalf("scores not strictly decreasing and positive: %v, %v", res.Hits[0].Score, res.Hits[1].Score)
	}
	if *res.TookMS < 0 {
		t.Fatalf("took_ms %v", *res.TookMS)
	}

	e.mustJSON("POST", "/v1/indexes/kw/search", map[string]any{"query": "dog barks", "mode": "bm25"}, http.StatusOK, &res)
	if got := res.docIDs(); !slices.Equal(got, []string{"dogs"}) {
		t.Fatalf("dog barks: %v", got)
	}
	e.mustJSON("POST", "/v1/indexes/kw/search", map[string]any{"query": "bread", "top_k": 1}, http.StatusOK, &res)
	if len(res.Hits) != 1 {
		t.Fatalf("top_k 1: %d hits", len(res.Hits))
	}
	e.mustJSON("POST", "/v1/indexes/kw/search", map[string]any{"query": "zeppelin"}, http.StatusOK, &res)
	if res.Hits == nil || len(res.Hits) != 0 {
		t.Fatalf("no match: %v, want an empty list", res.Hits)
	}

	// Filters in the Vectorize shape.
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`{"year":{"$gte":2015}}`, []string{"bread"}},
		{`{"year":{"$lt":2015}}`, []string{"sourdough"}},
		{`{"lang":"fr"}`, []string{"sourdough"}},
		{`{"lang":{"$in":["en","fr"]}}`, []string{"bread", "sourdough"}},
		{`{"lang":{"$ne":"en"}}`, []string{"sourdough"}},
	} {
		e.mustJSON("POST", "/v1/indexes/kw/search", `{"query":"bread yeast","filter":`+tc.filter+`}`, http.StatusOK, &res)
		if got := res.docIDs(); !slices.Equal(got, tc.want) {
			t.Errorf("filter %s: %v, want %v", tc.filter, got, tc.want)
		}
	}

	// Explain carries the BM25 rank and score.
	e.mustJSON("POST", "/v1/indexes/kw/search", map[string]any{"query": "bake bread", "explain": true}, http.StatusOK, &res)
	for i, h := range res.Hits {
		if h.Explain == nil || h.Explain.BM25 == nil || h.Explain.BM25.Rank != i+1 || h.Explain.BM25.Score <= 0 || h.Explain.Vector != nil {
			t.Fatalf("hit %d explain: %+v", i, h.Explain)
		}
	}

	for _, tc := range []struct {
		name, body, code string
		status           int
	}{
		{"bad mode", `{"query":"bread","mode":"fuzzy"}`, "invalid_request", 400},
		{"empty query", `{"query":"  "}`, "invalid_request", 400},
		{"bad filter op", `{"query":"bread","filter":{"year":{"$near":3}}}`, "invalid_request", 400},
		{"filter not an object", `{"query":"bread","filter":[1]}`, "invalid_request", 400},
		{"negative top_k", `{"query":"bread","top_k":-1}`, "invalid_request", 400},
		{"huge top_k", `{"query":"bread","top_k":1000000}`, "invalid_request", 400},
		{"bad fusion", `{"query":"bread","fusion":"sum"}`, "invalid_request", 400},
		{"alpha out of range", `{"query":"bread","alpha":1.5}`, "invalid_request", 400},
		{"unknown field", `{"query":"bread","k":3}`, "invalid_request", 400},
		{"invalid JSON", `{"query":`, "invalid_request", 400},
		{"vector mode on keyword index", `{"query":"bread","mode":"vector"}`, "unsupported", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.wantError("POST", "/v1/indexes/kw/search", tc.body, tc.status, tc.code)
		})
	}
	e.t = t
	e.wantError("POST", "/v1/indexes/nope/search", `{"query":"bread"}`, http.StatusNotFound, "not_found")
}

func TestSearchVectorAndHybrid(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("v", "hash")
	info := struct {
		Stats struct {
			Vectors int `json:"vectors"`
		} `json:"stats"`
	}{}
	e.mustJSON("GET", "/v1/indexes/v", nil, http.StatusOK, &info)
	if info.Stats.Vectors != len(corpus) {
		t.Fatalf("%d vectors, want %d", info.Stats.Vectors, len(corpus))
	}

	var res hitsResponse
	e.mustJSON("POST", "/v1/indexes/v/search", map[string]any{"query": "a cat purrs and sleeps", "mode": "vector", "top_k": 2}, http.StatusOK, &res)
	if len(res.Hits) != 2 || res.Hits[0].DocID != "cats" {
		t.Fatalf("vector text query: %v", res.docIDs())
	}
	if !(res.Hits[0].Score > res.Hits[1].Score) {
		t.Fatalf("vector scores not decreasing: %v %v", res.Hits[0].Score, res.Hits[1].Score)
	}
	// The stored vector of a chunk is the fake model's vector of its text:
	// querying with that exact vector finds it with cosine 1.
	e.mustJSON("POST", "/v1/indexes/v/search", map[string]any{"vector": hashVector(corpus[4]["text"].(string)), "mode": "vector", "top_k": 1}, http.StatusOK, &res)
	if len(res.Hits) != 1 || res.Hits[0].DocID != "stocks" || math.Abs(res.Hits[0].Score-1) > 1e-4 {
		t.Fatalf("query by stored vector: %+v", res.Hits)
	}

	// Hybrid is the default for a model-backed index; explain shows both sides.
	e.mustJSON("POST", "/v1/indexes/v/search", map[string]any{"query": "bake bread", "explain": true}, http.StatusOK, &res)
	if len(res.Hits) == 0 || res.Hits[0].DocID != "bread" {
		t.Fatalf("hybrid: %v", res.docIDs())
	}
	ex := res.Hits[0].Explain
	if ex == nil || ex.BM25 == nil || ex.Vector == nil || ex.BM25.Rank != 1 || ex.Vector.Rank < 1 || ex.Fused <= 0 {
		t.Fatalf("hybrid explain of the top hit: %+v", ex)
	}
	if math.Abs(ex.Fused-res.Hits[0].Score) > 1e-9 {
		t.Fatalf("fused %v != score %v", ex.Fused, res.Hits[0].Score)
	}
	// Convex fusion: alpha 1 ranks by the vector side alone, alpha 0 puts
	// the BM25 winner first.
	var vecOnly hitsResponse
	e.mustJSON("POST", "/v1/indexes/v/search", map[string]any{"query": "sourdough starter for bread", "mode": "vector"}, http.StatusOK, &vecOnly)
	e.mustJSON("POST", "/v1/indexes/v/search", map[string]any{"query": "sourdough starter for bread", "fusion": "convex", "alpha": 1}, http.StatusOK, &res)
	if !slices.Equal(res.docIDs(), vecOnly.docIDs()) {
		t.Fatalf("convex alpha 1: %v, vector mode: %v", res.docIDs(), vecOnly.docIDs())
	}
	e.mustJSON("POST", "/v1/indexes/v/search", map[string]any{"query": "bake bread", "fusion": "convex", "alpha": 0}, http.StatusOK, &res)
	if got := res.docIDs(); len(got) < 2 || got[0] != "bread" {
		t.Fatalf("convex alpha 0: %v", got)
	}

	e.wantError("POST", "/v1/indexes/v/search", map[string]any{"vector": []float32{1, 2, 3}, "mode": "vector"}, http.StatusBadRequest, "dimension_mismatch")
	e.wantError("POST", "/v1/indexes/v/search", map[string]any{"vector": make([]float32, hashDims), "mode": "vector"}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes/v/search", map[string]any{"query": "bread", "model": "other"}, http.StatusConflict, "model_mismatch")
	e.wantError("POST", "/v1/indexes/v/search", map[string]any{"mode": "hybrid", "vector": hashVector("bread")}, http.StatusBadRequest, "invalid_request")
}

func TestAskNonStreaming(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("kw", "none")
	var ans struct {
		Answer    string `json:"answer"`
		Citations []struct {
			N       int    `json:"n"`
			DocID   string `json:"doc_id"`
			ChunkID string `json:"chunk_id"`
		} `json:"citations"`
		Hits []struct {
			DocID string `json:"doc_id"`
		} `json:"hits"`
		Generator    struct{ ID, Backend string } `json:"generator"`
		FinishReason string                       `json:"finish_reason"`
	}
	e.mustJSON("POST", "/v1/indexes/kw/ask", map[string]any{"query": "How do I bake bread?", "mode": "bm25"}, http.StatusOK, &ans)
	if !strings.HasPrefix(ans.Answer, "Extractive answer") {
		t.Fatalf("answer %q does not say it is extractive", ans.Answer)
	}
	if !strings.Contains(strings.ToLower(ans.Answer), "bake") {
		t.Fatalf("answer %q quotes nothing about baking", ans.Answer)
	}
	if ans.Generator.Backend != "extractive" || ans.FinishReason == "" {
		t.Fatalf("generator %+v, finish %q", ans.Generator, ans.FinishReason)
	}
	if len(ans.Citations) == 0 {
		t.Fatalf("no citations in %+v", ans)
	}
	for _, c := range ans.Citations {
		var d struct {
			Chunks []struct{ ID string } `json:"chunks"`
		}
		e.mustJSON("GET", "/v1/indexes/kw/documents/"+c.DocID, nil, http.StatusOK, &d)
		found := false
		for _, ch := range d.Chunks {
			found = found || ch.ID == c.ChunkID
		}
		if !found {
			t.Fatalf("citation %+v points at no chunk of document %q", c, c.DocID)
		}
		if !strings.Contains(ans.Answer, "["+strconv.Itoa(c.N)+"]") {
			t.Errorf("citation [%d] not in the answer %q", c.N, ans.Answer)
		}
	}
	if len(ans.Hits) == 0 || ans.Hits[0].DocID != "bread" {
		t.Fatalf("hits %+v", ans.Hits)
	}

	e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": " "}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread", "max_tokens": -1}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread", "mode": "nope"}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes/kw/ask", `{"query":"bread","bogus":1}`, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/indexes/nope/ask", map[string]any{"query": "bread"}, http.StatusNotFound, "not_found")

	none := newEnv(t, func(c *api.Config) { c.Generator = nil })
	none.seed("kw", "none")
	st, out, h := none.do("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread"})
	checkError(t, "ask without generator", st, out, h, http.StatusServiceUnavailable, "unavailable")
	if h.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
}

func TestEmbeddings(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.DefaultModel = "hash" })
	type embResp struct {
		Object string `json:"object"`
		Model  string `json:"model"`
		Data   []struct {
			Object    string          `json:"object"`
			Index     int             `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	inputs := []string{"bake bread", "the stock market fell"}
	var r embResp
	e.mustJSON("POST", "/v1/embeddings", map[string]any{"input": inputs, "model": "hash"}, http.StatusOK, &r)
	if r.Object != "list" || r.Model != "hash" || len(r.Data) != 2 || r.Usage.PromptTokens <= 0 {
		t.Fatalf("response %+v", r)
	}
	for i, d := range r.Data {
		var v []float32
		if err := json.Unmarshal(d.Embedding, &v); err != nil {
			t.Fatal(err)
		}
		if d.Index != i || d.Object != "embedding" || !slices.Equal(v, hashVector(inputs[i])) {
			t.Fatalf("data[%d]: index %d object %q, vector equal %v", i, d.Index, d.Object, slices.Equal(v, hashVector(inputs[i])))
		}
	}
	// A single string, the server's default model, base64 floats.
	e.mustJSON("POST", "/v1/embeddings", map[string]any{"input": "bake bread", "encoding_format": "base64"}, http.StatusOK, &r)
	var b64 string
	if len(r.Data) != 1 || json.Unmarshal(r.Data[0].Embedding, &b64) != nil {
		t.Fatalf("base64 response %+v", r)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 4*hashDims {
		t.Fatalf("base64 payload: %d bytes, %v", len(raw), err)
	}
	got := make([]float32, hashDims)
	if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, hashVector("bake bread")) {
		t.Fatalf("base64 vector differs from the model's")
	}

	e.wantError("POST", "/v1/embeddings", map[string]any{"input": "x", "model": "no-such"}, http.StatusNotFound, "not_found")
	e.wantError("POST", "/v1/embeddings", map[string]any{"input": []string{}, "model": "hash"}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/embeddings", map[string]any{"input": []string{"ok", ""}, "model": "hash"}, http.StatusBadRequest, "invalid_request")
	if msg := e.wantError("POST", "/v1/embeddings", `{"input":[[1,2,3]],"model":"hash"}`, http.StatusBadRequest, "invalid_request"); !strings.Contains(msg, "token arrays") {
		t.Errorf("token-array error %q does not say why", msg)
	}
	e.wantError("POST", "/v1/embeddings", `{"input":42,"model":"hash"}`, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/embeddings", map[string]any{"input": "x", "model": "hash", "dimensions": 8}, http.StatusBadRequest, "invalid_request")
	e.wantError("POST", "/v1/embeddings", map[string]any{"input": "x", "model": "hash", "encoding_format": "hex"}, http.StatusBadRequest, "invalid_request")

	// No models at all: 503, and /v1/models still answers.
	bare := newEnv(t, func(c *api.Config) { c.Models = nil; c.Generator = nil })
	bare.wantError("POST", "/v1/embeddings", map[string]any{"input": "x"}, http.StatusServiceUnavailable, "unavailable")
	var ml struct {
		Object string            `json:"object"`
		Data   []json.RawMessage `json:"data"`
	}
	bare.mustJSON("GET", "/v1/models", nil, http.StatusOK, &ml)
	if ml.Object != "list" || ml.Data == nil || len(ml.Data) != 0 {
		t.Fatalf("models without models: %+v", ml)
	}
}

func TestModelsHealthReadyMetrics(t *testing.T) {
	e := newEnv(t, nil)
	var ml struct {
		Object string `json:"object"`
		Data   []struct {
			ID     string  `json:"id"`
			Object string  `json:"object"`
			Kind   string  `json:"kind"`
			Dims   int     `json:"dims"`
			Loaded bool    `json:"loaded"`
			LoadMS float64 `json:"load_ms"`
			Memory *int64  `json:"memory_bytes"`
			Est    bool    `json:"memory_estimated"`
		} `json:"data"`
	}
	e.mustJSON("GET", "/v1/models", nil, http.StatusOK, &ml)
	if ml.Object != "list" || len(ml.Data) != 4 {
		t.Fatalf("models: %+v", ml)
	}
	if d := ml.Data[0]; d.ID != "hash" || d.Object != "model" || d.Dims != hashDims || !d.Loaded ||
		d.LoadMS != 12.5 || d.Memory == nil || *d.Memory != 4096 || d.Est {
		t.Fatalf("embedding model entry %+v", d)
	}
	if d := ml.Data[1]; d.ID != "onnx-fake" || d.Memory == nil || *d.Memory != 1<<20 || !d.Est {
		t.Fatalf("estimated-memory entry %+v", d)
	}
	if d := ml.Data[2]; d.ID != "not-loaded" || d.Loaded || d.Memory != nil {
		t.Fatalf("unloaded model entry %+v (memory_bytes must be absent)", d)
	}
	if d := ml.Data[3]; d.ID != "extractive" || !strings.HasPrefix(d.Kind, "generation") {
		t.Fatalf("generator entry %+v", d)
	}

	var hz map[string]string
	e.mustJSON("GET", "/healthz", nil, http.StatusOK, &hz)
	if hz["status"] != "ok" || hz["version"] != "test-1" {
		t.Fatalf("healthz %v", hz)
	}
	e.mustJSON("GET", "/readyz", nil, http.StatusOK, &hz)
	if hz["status"] != "ready" {
		t.Fatalf("readyz %v", hz)
	}

	e.seed("kw", "none")
	e.mustJSON("POST", "/v1/indexes/kw/search", map[string]any{"query": "bread", "mode": "bm25"}, http.StatusOK, nil)
	e.wantError("GET", "/v1/indexes/nope", nil, http.StatusNotFound, "not_found")
	st, out, _ := e.do("GET", "/metrics", nil)
	if st != http.StatusOK {
		t.Fatalf("metrics %d", st)
	}
	m := string(out)
	for _, want := range []string{
		`ragd_search_seconds_count{mode="bm25"} 1`,
		"ragd_ingest_documents_total 5",
		"ragd_ingest_chunks_total 5",
		"ragd_echo_requests_total{",
		`code="404"`,
		`ragd_model_load_seconds{model="hash"} 0.0125`,
		`ragd_model_memory_bytes{model="hash"} 4096`,
		`ragd_model_memory_estimated{model="hash"} 0`,
		`ragd_model_load_seconds{model="onnx-fake"} 0.25`,
		`ragd_model_memory_bytes{model="onnx-fake"} 1.048576e+06`,
		`ragd_model_memory_estimated{model="onnx-fake"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, `model="not-loaded"`) {
		t.Error("metrics report a model that is not loaded")
	}

	// Unknown routes and methods get JSON errors too.
	e.wantError("GET", "/v2/nothing", nil, http.StatusNotFound, "not_found")
	e.wantError("PUT", "/v1/indexes", nil, http.StatusMethodNotAllowed, "method_not_allowed")
	e.wantError("GET", "/v1/chat/completions", nil, http.StatusMethodNotAllowed, "method_not_allowed")
}

// Two servers in one process must not share metrics (each gets its own
// registry by default).
func TestServersHaveSeparateRegistries(t *testing.T) {
	a := newEnv(t, nil)
	b := newEnv(t, nil)
	a.seed("kw", "none")
	_, out, _ := b.do("GET", "/metrics", nil)
	if strings.Contains(string(out), "ragd_ingest_documents_total 5") {
		t.Fatal("server b reports server a's ingest")
	}
}
