package cloudflare_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

type instanceOut struct {
	ID             string  `json:"id"`
	Namespace      string  `json:"namespace"`
	CreatedAt      string  `json:"created_at"`
	ModifiedAt     string  `json:"modified_at"`
	ChunkSize      int     `json:"chunk_size"`
	ChunkOverlap   int     `json:"chunk_overlap"`
	EmbeddingModel *string `json:"embedding_model"`
	FusionMethod   string  `json:"fusion_method"`
	MaxNumResults  int     `json:"max_num_results"`
	Cache          *bool   `json:"cache"`
	IndexMethod    struct {
		Keyword bool `json:"keyword"`
		Vector  bool `json:"vector"`
	} `json:"index_method"`
}

type listOut[T any] struct {
	Result     []T `json:"result"`
	ResultInfo struct {
		Page       int `json:"page"`
		PerPage    int `json:"per_page"`
		Count      int `json:"count"`
		TotalCount int `json:"total_count"`
	} `json:"result_info"`
}

// list fetches a paged list and decodes result and result_info.
func list[T any](e *env, path string) listOut[T] {
	e.t.Helper()
	status, env := e.do("GET", path, "", "")
	if status != 200 {
		e.t.Fatalf("GET %s: %d %v", path, status, env.Errors)
	}
	resp, err := e.srv.Client().Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out listOut[T]
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

const ais = base + "/ai-search"

func TestAISearchInstances(t *testing.T) {
	e := newEnv(t)
	// Only id is required: the server's default model, ragd's chunking.
	r := decodeInto[instanceOut](t, e.json("POST", ais+"/instances", `{"id":"kb"}`, 200))
	if r.ID != "kb" || r.Namespace != "default" || r.EmbeddingModel == nil || *r.EmbeddingModel != "@cf/ragd/use-lite" ||
		r.ChunkSize != 256 || r.ChunkOverlap != 32 || r.FusionMethod != "rrf" || r.MaxNumResults != 10 ||
		!r.IndexMethod.Keyword || !r.IndexMethod.Vector || r.CreatedAt == "" {
		t.Fatalf("created: %+v", r)
	}
	info, err := e.engine.Index(t.Context(), "kb")
	if err != nil || info.Model != "use-lite" || info.Dims != 512 {
		t.Fatalf("ragd index: %+v %v", info, err)
	}
	// Settings are applied (chunking, model) or stored (cache).
	r = decodeInto[instanceOut](t, e.json("POST", ais+"/namespaces/default/instances",
		`{"id":"small","chunk_size":128,"chunk_overlap":0,"embedding_model":"@cf/baai/bge-small-en-v1.5","cache":true,"max_num_results":3}`, 200))
	if r.ChunkSize != 128 || r.ChunkOverlap != 0 || *r.EmbeddingModel != "@cf/baai/bge-small-en-v1.5" || r.Cache == nil || !*r.Cache || r.MaxNumResults != 3 {
		t.Fatalf("created with settings: %+v", r)
	}
	if info, _ := e.engine.Index(t.Context(), "small"); info.Model != "bge-small-en-v1.5" || info.Dims != 384 {
		t.Fatalf("small index: %+v", info)
	}
	r = decodeInto[instanceOut](t, e.json("POST", ais+"/instances", `{"id":"words","index_method":{"keyword":true,"vector":false}}`, 200))
	if r.EmbeddingModel != nil || r.IndexMethod.Vector {
		t.Fatalf("keyword-only: %+v", r)
	}
	if info, _ := e.engine.Index(t.Context(), "words"); info.Model != "" {
		t.Fatalf("keyword-only index has model %q", info.Model)
	}

	// A plain ragd index blocks an instance of the same name.
	if _, err := e.engine.CreateIndex(t.Context(), data.IndexConfig{Name: "plain"}); err != nil {
		t.Fatal(err)
	}
	before := list[instanceOut](e, ais+"/instances")
	for _, c := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{}`, 400, "id"},
		{`{"id":"Upper"}`, 400, "lowercase"},
		{`{"id":"a.b"}`, 400, "lowercase"},
		{`{"id":"` + strings.Repeat("x", 33) + `"}`, 400, "1-32"},
		{`{"id":"x","colour":"red"}`, 400, "unknown field"},
		{`{"id":"x"`, 400, "invalid JSON"},
		{`{"id":"x","chunk_size":8}`, 400, "chunk_size"},
		{`{"id":"x","chunk_size":100,"chunk_overlap":60}`, 400, "chunk_overlap"},
		{`{"id":"x","fusion_method":"max"}`, 400, "not supported"},
		{`{"id":"x","fusion_method":"sum"}`, 400, "fusion_method"},
		{`{"id":"x","type":"web-crawler"}`, 400, "uploaded items"},
		{`{"id":"x","rewrite_query":true}`, 400, "rewrite_query"},
		{`{"id":"x","index_method":{"keyword":false,"vector":false}}`, 400, "both be false"},
		{`{"id":"x","max_num_results":51}`, 400, "max_num_results"},
		{`{"id":"x","score_threshold":2}`, 400, "score_threshold"},
		{`{"id":"x","cache_ttl":5}`, 400, "cache_ttl"},
		{`{"id":"x","embedding_model":"@cf/unknown/model"}`, 404, "not found"},
		{`{"id":"x","embedding_model":"@cf/baai/bge-large-en-v1.5"}`, 404, "installed"},
		{`{"id":"kb"}`, 409, "already exists"},
		{`{"id":"plain"}`, 409, "ragd index named \"plain\""},
	} {
		e.fail("POST", ais+"/instances", "application/json", c.body, c.status, c.msg)
	}
	e.fail("POST", ais+"/namespaces/nope/instances", "application/json", `{"id":"x"}`, 404, "namespace")
	after := list[instanceOut](e, ais+"/instances")
	if after.ResultInfo.TotalCount != before.ResultInfo.TotalCount || after.ResultInfo.TotalCount != 3 {
		t.Fatalf("rejected creates changed the list: %d -> %d", before.ResultInfo.TotalCount, after.ResultInfo.TotalCount)
	}
	if _, err := e.engine.Index(t.Context(), "x"); err == nil {
		t.Fatal("a rejected create left an index behind")
	}

	// Paging.
	p := list[instanceOut](e, ais+"/instances?per_page=2&page=2")
	if len(p.Result) != 1 || p.ResultInfo.Page != 2 || p.ResultInfo.PerPage != 2 || p.ResultInfo.TotalCount != 3 || p.Result[0].ID != "words" {
		t.Fatalf("page 2: %+v", p)
	}
	if p := list[instanceOut](e, ais+"/instances?page=9"); len(p.Result) != 0 {
		t.Fatalf("page past the end: %+v", p)
	}
	e.fail("GET", ais+"/instances?per_page=1000", "", "", 400, "per_page")
	e.fail("GET", ais+"/instances?page=0", "", "", 400, "page")

	// Get and update.
	g := decodeInto[instanceOut](t, e.json("GET", ais+"/namespaces/default/instances/small", nil, 200))
	if g.ChunkSize != 128 {
		t.Fatalf("get: %+v", g)
	}
	u := decodeInto[instanceOut](t, e.json("PUT", ais+"/instances/small", `{"max_num_results":7,"chunk_size":200}`, 200))
	if u.MaxNumResults != 7 || u.ChunkSize != 200 || *u.EmbeddingModel != "@cf/baai/bge-small-en-v1.5" || u.Cache == nil {
		t.Fatalf("update: %+v", u)
	}
	e.fail("PUT", ais+"/instances/small", "application/json", `{"embedding_model":"@cf/ragd/use-lite"}`, 400, "cannot change")
	e.fail("PUT", ais+"/instances/small", "application/json", `{"chunk_size":1}`, 400, "chunk_size")
	e.fail("PUT", ais+"/instances/small", "application/json", `{"id":"other"}`, 400, "cannot be changed")
	e.fail("PUT", ais+"/instances/small", "application/json", `{"colour":1}`, 400, "unknown field")
	e.fail("PUT", ais+"/instances/ghost", "application/json", `{}`, 404, "not found")
	if g := decodeInto[instanceOut](t, e.json("GET", ais+"/instances/small", nil, 200)); g.MaxNumResults != 7 || g.ChunkSize != 200 {
		t.Fatalf("rejected updates changed the instance: %+v", g)
	}
	e.fail("GET", ais+"/instances/ghost", "", "", 404, "not found")

	// Delete drops the ragd index.
	e.json("DELETE", ais+"/instances/small", nil, 200)
	if _, err := e.engine.Index(t.Context(), "small"); err == nil {
		t.Fatal("index survived its instance")
	}
	e.fail("DELETE", ais+"/instances/small", "", "", 404, "not found")
	e.fail("GET", ais+"/instances/small", "", "", 404, "not found")

	// State survives a restart of the routes (same data dir).
	e2 := newEnvOn(t, e)
	if g := decodeInto[instanceOut](t, e2.json("GET", ais+"/instances/kb", nil, 200)); g.ID != "kb" || *g.EmbeddingModel != "@cf/ragd/use-lite" {
		t.Fatalf("after restart: %+v", g)
	}
}

func TestAISearchNamespaces(t *testing.T) {
	e := newEnv(t)
	type ns struct {
		Name        string  `json:"name"`
		Description *string `json:"description"`
		CreatedAt   *string `json:"created_at"`
	}
	l := list[ns](e, ais+"/namespaces")
	if len(l.Result) != 1 || l.Result[0].Name != "default" || l.ResultInfo.TotalCount != 1 {
		t.Fatalf("namespaces: %+v", l)
	}
	n := decodeInto[ns](t, e.json("POST", ais+"/namespaces", `{"name":"docs","description":"team docs"}`, 200))
	if n.Name != "docs" || n.Description == nil || *n.Description != "team docs" || n.CreatedAt == nil {
		t.Fatalf("created: %+v", n)
	}
	for _, c := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"name":"docs"}`, 409, "already exists"},
		{`{"name":"Docs"}`, 400, "lowercase"},
		{`{"name":"a.b"}`, 400, "lowercase"},
		{`{}`, 400, "name"},
		{`{"name":"x","description":"` + strings.Repeat("d", 257) + `"}`, 400, "description"},
		{`{"name":"x","public_endpoint_params":{"enabled":true}}`, 400, "public endpoints"},
		{`{"name":"x","extra":1}`, 400, "unknown field"},
		{`[]`, 400, "invalid JSON"},
	} {
		e.fail("POST", ais+"/namespaces", "application/json", c.body, c.status, c.msg)
	}
	if l := list[ns](e, ais+"/namespaces"); l.ResultInfo.TotalCount != 2 {
		t.Fatalf("rejected creates changed the list: %+v", l)
	}
	if l := list[ns](e, ais+"/namespaces?search=doc"); len(l.Result) != 1 || l.Result[0].Name != "docs" {
		t.Fatalf("search: %+v", l)
	}
	u := decodeInto[ns](t, e.json("PUT", ais+"/namespaces/docs", `{"description":"all docs"}`, 200))
	if *u.Description != "all docs" {
		t.Fatalf("update: %+v", u)
	}
	e.fail("PUT", ais+"/namespaces/docs", "application/json", `{"name":"other"}`, 400, "renamed")
	e.fail("PUT", ais+"/namespaces/ghost", "application/json", `{}`, 404, "not found")
	if g := decodeInto[ns](t, e.json("GET", ais+"/namespaces/docs", nil, 200)); *g.Description != "all docs" {
		t.Fatalf("get: %+v", g)
	}
	e.fail("GET", ais+"/namespaces/ghost", "", "", 404, "not found")

	// An instance outside the default namespace gets "<namespace>.<id>".
	e.json("POST", ais+"/namespaces/docs/instances", `{"id":"kb"}`, 200)
	if _, err := e.engine.Index(t.Context(), "docs.kb"); err != nil {
		t.Fatal(err)
	}
	if l := list[instanceOut](e, ais+"/namespaces/docs/instances"); len(l.Result) != 1 || l.Result[0].Namespace != "docs" {
		t.Fatalf("namespace instances: %+v", l)
	}
	if l := list[instanceOut](e, ais+"/instances"); len(l.Result) != 0 {
		t.Fatalf("default namespace lists another namespace's instance: %+v", l)
	}
	e.fail("DELETE", ais+"/namespaces/docs", "", "", 409, "still holds instances kb")
	e.fail("DELETE", ais+"/namespaces/default", "", "", 400, "cannot be deleted")
	e.json("DELETE", ais+"/namespaces/docs/instances/kb", nil, 200)
	e.json("DELETE", ais+"/namespaces/docs", nil, 200)
	e.fail("DELETE", ais+"/namespaces/docs", "", "", 404, "not found")
	e.fail("GET", ais+"/namespaces/docs/instances", "", "", 404, "namespace")
}

// newEnvOn starts a second set of routes on e's engine and data dir (as
// after a restart), closing e's item worker first.
func newEnvOn(t *testing.T, e *env) *env {
	t.Helper()
	e.svc.Close()
	return newEnvWith(t, e.engine, e.dir, e.models)
}
