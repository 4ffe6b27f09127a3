package cloudflare_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type indexResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Config      struct {
		Dimensions int    `json:"dimensions"`
		Metric     string `json:"metric"`
	} `json:"config"`
	CreatedOn  *string `json:"created_on"`
	ModifiedOn *string `json:"modified_on"`
}

func TestIndexLifecycle(t *testing.T) {
	e := newEnv(t)
	idx := base + "/vectorize/v2/indexes"
	res := decodeInto[indexResult](t, e.json("POST", idx, map[string]any{
		"name": "docs", "description": "product docs", "config": map[string]any{"dimensions": 3, "metric": "euclidean"}}, 200))
	if res.Name != "docs" || res.Description != "product docs" || res.Config.Dimensions != 3 || res.Config.Metric != "euclidean" {
		t.Fatalf("create returned %+v", res)
	}
	if res.CreatedOn == nil {
		t.Fatal("created_on missing")
	}
	if _, err := time.Parse(time.RFC3339Nano, *res.CreatedOn); err != nil {
		t.Fatalf("created_on %q is not ISO 8601: %v", *res.CreatedOn, err)
	}
	// The engine holds the index with the mapped metric.
	info, err := e.engine.Index(t.Context(), "docs")
	if err != nil || info.Dims != 3 || info.Metric != "euclidean" {
		t.Fatalf("engine index %+v, %v", info, err)
	}

	// A preset fixes dimensions and metric.
	res = decodeInto[indexResult](t, e.json("POST", idx, map[string]any{"name": "small", "config": map[string]any{"preset": "@cf/baai/bge-small-en-v1.5"}}, 200))
	if res.Config.Dimensions != 384 || res.Config.Metric != "cosine" {
		t.Fatalf("preset index %+v", res)
	}
	res = decodeInto[indexResult](t, e.json("POST", idx, map[string]any{"name": "dotty", "config": map[string]any{"dimensions": 2, "metric": "dot-product"}}, 200))
	if res.Config.Metric != "dot-product" {
		t.Fatalf("dot-product came back as %q", res.Config.Metric)
	}

	list := decodeInto[[]indexResult](t, e.json("GET", idx, nil, 200))
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "docs,dotty,small" {
		t.Fatalf("list = %v", names)
	}
	got := decodeInto[indexResult](t, e.json("GET", idx+"/small", nil, 200))
	if got.Name != "small" || got.Config.Dimensions != 384 {
		t.Fatalf("get = %+v", got)
	}

	if r := e.json("DELETE", idx+"/small", nil, 200); string(r) != "null" {
		t.Fatalf("delete result %s", r)
	}
	e.fail("GET", idx+"/small", "", "", 404, "not found")
	e.fail("DELETE", idx+"/small", "", "", 404, "not found")
	e.fail("GET", idx+"/small/info", "", "", 404, "not found")
}

func TestCreateIndexErrors(t *testing.T) {
	e := newEnv(t)
	e.createIndex("taken", 4, "cosine")
	idx := base + "/vectorize/v2/indexes"
	cases := []struct {
		name, body string
		status     int
		substr     string
	}{
		{"duplicate", `{"name":"taken","config":{"dimensions":4,"metric":"cosine"}}`, 409, "already exists"},
		{"bad metric", `{"name":"a","config":{"dimensions":4,"metric":"manhattan"}}`, 400, "metric"},
		{"ragd metric spelling", `{"name":"a","config":{"dimensions":4,"metric":"dot"}}`, 400, "metric"},
		{"zero dims", `{"name":"a","config":{"dimensions":0,"metric":"cosine"}}`, 400, "dimensions"},
		{"huge dims", `{"name":"a","config":{"dimensions":100000,"metric":"cosine"}}`, 400, "dimensions"},
		{"no config", `{"name":"a"}`, 400, "config is required"},
		{"no metric", `{"name":"a","config":{"dimensions":4}}`, 400, "dimensions and metric"},
		{"unknown preset", `{"name":"a","config":{"preset":"@cf/nope"}}`, 400, "unknown preset"},
		{"preset dims disagree", `{"name":"a","config":{"preset":"@cf/baai/bge-base-en-v1.5","dimensions":384}}`, 400, "768"},
		{"unknown top field", `{"name":"a","config":{"dimensions":4,"metric":"cosine"},"shards":3}`, 400, "unknown field"},
		{"unknown config field", `{"name":"a","config":{"dimensions":4,"metric":"cosine","m":16}}`, 400, "unknown field"},
		{"bad name", `{"name":"no spaces please","config":{"dimensions":4,"metric":"cosine"}}`, 400, "index name"},
		{"no name", `{"config":{"dimensions":4,"metric":"cosine"}}`, 400, "name is required"},
		{"not json", `{"name":`, 400, "invalid JSON"},
		{"empty", ``, 400, "empty request body"},
		{"trailing", `{"name":"a","config":{"dimensions":4,"metric":"cosine"}} {}`, 400, "trailing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub := *e
			sub.t = t
			sub.fail("POST", idx, "application/json", c.body, c.status, c.substr)
		})
	}
	list := decodeInto[[]indexResult](t, e.json("GET", idx, nil, 200))
	if len(list) != 1 {
		t.Fatalf("failed creates left indexes behind: %+v", list)
	}
}

type infoResult struct {
	Dimensions            int     `json:"dimensions"`
	VectorCount           int     `json:"vectorCount"`
	ProcessedUpToDatetime *string `json:"processedUpToDatetime"`
	ProcessedUpToMutation *string `json:"processedUpToMutation"`
}

func TestInfoTracksMutations(t *testing.T) {
	e := newEnv(t)
	e.createIndex("v", 2, "cosine")
	p := base + "/vectorize/v2/indexes/v/info"
	info := decodeInto[infoResult](t, e.json("GET", p, nil, 200))
	if info.Dimensions != 2 || info.VectorCount != 0 || info.ProcessedUpToMutation != nil {
		t.Fatalf("fresh info %+v", info)
	}
	m := decodeInto[struct{ MutationID string }](t, e.ndjson("v", "insert", `{"id":"a","values":[1,0]}`+"\n"+`{"id":"b","values":[0,1]}`, 200))
	if len(m.MutationID) != 36 {
		t.Fatalf("mutation id %q is not a UUID", m.MutationID)
	}
	info = decodeInto[infoResult](t, e.json("GET", p, nil, 200))
	if info.VectorCount != 2 || info.ProcessedUpToMutation == nil || *info.ProcessedUpToMutation != m.MutationID || info.ProcessedUpToDatetime == nil {
		t.Fatalf("info after insert %+v (mutation %s)", info, m.MutationID)
	}
}

type metaIndexList struct {
	MetadataIndexes []struct {
		PropertyName string `json:"propertyName"`
		IndexType    string `json:"indexType"`
	} `json:"metadataIndexes"`
}

func TestMetadataIndexes(t *testing.T) {
	e := newEnv(t)
	e.createIndex("v", 2, "cosine")
	p := base + "/vectorize/v2/indexes/v/metadata_index/"
	r := decodeInto[struct{ MutationID string }](t, e.json("POST", p+"create", `{"propertyName":"genre","indexType":"string"}`, 200))
	if r.MutationID == "" {
		t.Fatal("no mutation id")
	}
	e.json("POST", p+"create", `{"propertyName":"year","indexType":"number"}`, 200)
	e.fail("POST", p+"create", "application/json", `{"propertyName":"year","indexType":"number"}`, 409, "already exists")
	e.fail("POST", p+"create", "application/json", `{"propertyName":"x","indexType":"date"}`, 400, "indexType")
	e.fail("POST", p+"create", "application/json", `{"propertyName":"","indexType":"string"}`, 400, "propertyName")
	e.fail("POST", p+"create", "application/json", `{"propertyName":"x","indexType":"string","extra":1}`, 400, "unknown field")
	e.fail("POST", base+"/vectorize/v2/indexes/nope/metadata_index/create", "application/json", `{"propertyName":"x","indexType":"string"}`, 404, "not found")

	l := decodeInto[metaIndexList](t, e.json("GET", p+"list", nil, 200))
	if len(l.MetadataIndexes) != 2 || l.MetadataIndexes[0].PropertyName != "genre" || l.MetadataIndexes[1].IndexType != "number" {
		t.Fatalf("list %+v", l)
	}
	e.json("POST", p+"delete", `{"propertyName":"genre"}`, 200)
	e.fail("POST", p+"delete", "application/json", `{"propertyName":"genre"}`, 404, "not found")
	l = decodeInto[metaIndexList](t, e.json("GET", p+"list", nil, 200))
	if len(l.MetadataIndexes) != 1 || l.MetadataIndexes[0].PropertyName != "year" {
		t.Fatalf("list after delete %+v", l)
	}
	// At most 10 per index.
	for i := range 9 {
		e.json("POST", p+"create", `{"propertyName":"p`+string(rune('a'+i))+`","indexType":"boolean"}`, 200)
	}
	e.fail("POST", p+"create", "application/json", `{"propertyName":"one-too-many","indexType":"string"}`, 400, "at most 10")

	// The bookkeeping survives a restart (StateDir).
	b, err := os.ReadFile(filepath.Join(e.dir, "cloudflare-state.json"))
	if err != nil || !strings.Contains(string(b), `"year"`) {
		t.Fatalf("state file: %v %s", err, b)
	}
}

func TestUnknownRouteEnvelope(t *testing.T) {
	e := newEnv(t)
	code := e.fail("GET", base+"/workers/scripts", "", "", 404, "No route")
	if code != 7003 {
		t.Fatalf("code %d, want 7003", code)
	}
}
