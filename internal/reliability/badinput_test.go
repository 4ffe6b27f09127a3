package reliability

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// TestBadInputsLeaveStoreIntact sends malformed and invalid requests (over
// HTTP and straight to the engine): each must be refused with a 4xx / an
// error, never a 5xx or a panic, and none may change what is stored — in
// particular a batch with one bad document writes none of its documents.
func TestBadInputsLeaveStoreIntact(t *testing.T) {
	ctx := context.Background()
	e, err := index.Open(ctx, index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewServer(api.New(api.Config{Engine: e, MaxBodyBytes: 1 << 20}).Handler())
	defer srv.Close()
	const kw, vec = "good", "vecs"
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: kw}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateIndex(ctx, data.IndexConfig{Name: vec, Dims: vecDims, Metric: data.Cosine}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		spec := docSpec{ID: fmt.Sprintf("g%d", i), Ver: 1, Sentences: 4}
		d := vecDoc(spec)
		if _, err := e.PutDocuments(ctx, vec, []data.Document{d}, false); err != nil {
			t.Fatal(err)
		}
		plain := expectDoc(spec.ID, "doc", docText(spec.ID, 1, 4), vecChunk)
		if _, err := e.PutDocuments(ctx, kw, []data.Document{plain}, false); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]state{}
	versions := map[string]uint64{}
	for _, name := range []string{kw, vec} {
		if before[name], err = readState(ctx, e, name); err != nil {
			t.Fatal(err)
		}
		versions[name] = e.Version(context.Background(), name)
	}

	long := strings.Repeat("x", index.MaxDocIDLen+1)
	many := make([]string, api.MaxDocumentsPerRequest+1)
	for i := range many {
		many[i] = fmt.Sprintf(`{"id":"m%d","text":"t"}`, i)
	}
	zero := "[" + strings.TrimSuffix(strings.Repeat("0,", vecDims), ",") + "]"
	type httpCase struct {
		category, method, path, body string
	}
	docs := "/v1/indexes/" + kw + "/documents"
	cases := []httpCase{
		{"malformed JSON", "POST", docs, ""},
		{"malformed JSON", "POST", docs, "{"},
		{"malformed JSON", "POST", docs, `[{"id":"a","text":"x"}`},
		{"malformed JSON", "POST", docs, `{"documents":[{"id":"a","text":"x"}]} trailing`},
		{"malformed JSON", "POST", docs, `{"documents":[{"id":"a","text":"x","bogus":1}]}`},
		{"malformed JSON", "POST", docs, `{"documents":"nope"}`},
		{"malformed JSON", "POST", docs, `{"documents":[{"id":7,"text":"x"}]}`},
		{"invalid document", "POST", docs, `{"documents":[]}`},
		{"invalid document", "POST", docs, `{"documents":[{"text":"no id"}]}`},
		{"invalid document", "POST", docs, `{"documents":[{"id":"a","text":"   "}]}`},
		{"invalid document", "POST", docs, `{"documents":[{"id":"a","text":"x"},{"id":"a","text":"y"}]}`},
		{"invalid document", "POST", docs, `{"documents":[{"id":"ok1","text":"fine"},{"id":"` + long + `","text":"x"}]}`},
		{"oversized", "POST", docs, `{"documents":[` + strings.Join(many, ",") + `]}`},
		{"oversized", "POST", docs, `{"documents":[{"id":"big","text":"` + strings.Repeat("word ", 300_000) + `"}]}`},
		{"invalid index", "POST", "/v1/indexes", `{"name":"../etc"}`},
		{"invalid index", "POST", "/v1/indexes", `{"name":""}`},
		{"invalid index", "POST", "/v1/indexes", `{"name":"` + strings.Repeat("n", 65) + `"}`},
		{"invalid index", "POST", "/v1/indexes", `{"name":"` + kw + `"}`},
		{"invalid index", "POST", "/v1/indexes", `{"name":"x1","dims":-1}`},
		{"invalid index", "POST", "/v1/indexes", `{"name":"x2","dims":100000}`},
		{"invalid index", "POST", "/v1/indexes", `{"name":"x3","dims":8,"metric":"manhattan"}`},
		{"invalid index", "POST", "/v1/indexes", `{"name":"x4","chunk_size":10,"chunk_overlap":10}`},
		{"invalid query", "POST", "/v1/indexes/" + kw + "/search", `{"query":""}`},
		{"invalid query", "POST", "/v1/indexes/" + kw + "/search", `{"query":"river","top_k":-1}`},
		{"invalid query", "POST", "/v1/indexes/" + kw + "/search", `{"query":"river","top_k":100000}`},
		{"invalid query", "POST", "/v1/indexes/" + kw + "/search", `{"query":"river","mode":"fuzzy"}`},
		{"invalid query", "POST", "/v1/indexes/" + kw + "/search", `{"query":"river","filter":{"year":{"$regex":"x"}}}`},
		{"invalid query", "POST", "/v1/indexes/" + kw + "/search", `{"query":"river","fusion":"max"}`},
		{"invalid query", "POST", "/v1/indexes/" + kw + "/search", `{"query":"river","mode":"vector"}`},
		{"invalid query", "POST", "/v1/indexes/" + vec + "/search", `{"mode":"vector","vector":[1,2]}`},
		{"invalid query", "POST", "/v1/indexes/" + vec + "/search", `{"mode":"vector","vector":` + zero + `}`},
		{"invalid query", "POST", "/v1/indexes/" + vec + "/search", `{"query":"river","mode":"hybrid","alpha":2,"fusion":"convex","vector":` + zero + `}`},
		{"missing resource", "DELETE", docs + "/nope", ""},
		{"missing resource", "DELETE", "/v1/indexes/missing/documents/x", ""},
		{"missing resource", "POST", "/v1/indexes/missing/documents", `{"documents":[{"id":"a","text":"x"}]}`},
		{"missing resource", "POST", "/v1/indexes/missing/search", `{"query":"river"}`},
		{"missing resource", "DELETE", "/v1/indexes/missing", ""},
	}
	byCategory := map[string]int{}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, srv.URL+c.path, bytes.NewReader([]byte(c.body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s: %s %s %.80q: status %d (want 4xx): %.200s", c.category, c.method, c.path, c.body, resp.StatusCode, b)
		}
		if !bytes.Contains(b, []byte(`"error"`)) {
			t.Errorf("%s: %s %s %.80q: no JSON error body: %.200s", c.category, c.method, c.path, c.body, b)
		}
		byCategory[c.category]++
	}

	// Engine-level: bad vectors and chunks, each in a batch with a good
	// document that must not be written either.
	good := vecDoc(docSpec{ID: "newgood", Ver: 1, Sentences: 2})
	withVec := func(mut func([]float32) []float32) data.Document {
		d := vecDoc(docSpec{ID: "bad", Ver: 1, Sentences: 2})
		d.Chunks[0].Vector = mut(append([]float32(nil), d.Chunks[0].Vector...))
		return d
	}
	engineCases := []struct {
		name  string
		index string
		doc   data.Document
	}{
		{"NaN component", vec, withVec(func(v []float32) []float32 { v[3] = float32(math.NaN()); return v })},
		{"+Inf component", vec, withVec(func(v []float32) []float32 { v[0] = float32(math.Inf(1)); return v })},
		{"wrong dimensions", vec, withVec(func(v []float32) []float32 { return v[:vecDims-1] })},
		{"zero vector under cosine", vec, withVec(func(v []float32) []float32 { return make([]float32, len(v)) })},
		{"chunk id of another document", kw, func() data.Document {
			d := expectDoc("bad", "t", docText("bad", 1, 2), vecChunk)
			d.Chunks[0].ID = "other#0"
			return d
		}()},
		{"chunk ordinal gap", kw, func() data.Document {
			d := expectDoc("bad", "t", docText("bad", 1, 6), vecChunk)
			d.Chunks = append(d.Chunks[:1], d.Chunks[2:]...)
			return d
		}()},
		{"chunk over 1 MiB", kw, func() data.Document {
			d := expectDoc("bad", "t", "x", vecChunk)
			d.Chunks[0].Text = strings.Repeat("y", index.MaxChunkBytes+1)
			return d
		}()},
		{"invalid UTF-8 id", kw, expectDoc("bad\xff", "t", "some text", vecChunk)},
		{"empty id", kw, data.Document{Text: "x"}},
	}
	for _, c := range engineCases {
		g := good
		if c.index == kw {
			g = expectDoc("newgood", "t", "good text", vecChunk)
		}
		_, err := e.PutDocuments(ctx, c.index, []data.Document{g, c.doc}, false)
		if err == nil {
			t.Errorf("engine %s: accepted", c.name)
		}
		byCategory["invalid vector or chunk (engine)"]++
	}
	if _, _, err := e.DeleteDocuments(ctx, "missing", []string{"x"}); err == nil {
		t.Error("delete from a missing index succeeded")
	}
	byCategory["missing resource"]++

	for _, name := range []string{kw, vec} {
		if v := e.Version(context.Background(), name); v != versions[name] {
			t.Errorf("%s: version %d -> %d: a refused request changed the index", name, versions[name], v)
		}
		got, err := readState(ctx, e, name)
		if err != nil {
			t.Fatal(err)
		}
		if d := diffState(got, before[name]); len(d) > 0 {
			t.Errorf("%s: refused requests changed the store: %v", name, d)
		}
		if err := checkIndex(ctx, e, name); err != nil {
			t.Error(err)
		}
	}
	infos, err := e.Indexes(ctx)
	if err != nil || len(infos) != 2 {
		t.Errorf("indexes after bad creates: %d (%v), want 2", len(infos), err)
	}
	var cats []string
	total := 0
	for c, n := range byCategory {
		cats = append(cats, fmt.Sprintf("%s %d", c, n))
		total += n
	}
	sort.Strings(cats)
	t.Logf("%d bad inputs refused, store unchanged: %s", total, strings.Join(cats, ", "))
}
