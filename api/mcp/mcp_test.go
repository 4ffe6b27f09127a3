package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/ragd/ragd/api/auth"
	"github.com/ragd/ragd/api/mcp"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate/extractive"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

var corpus = []data.Document{
	{ID: "bread", Title: "Baking bread", Source: "notes/bread.md", Text: "Sourdough bread needs a starter, flour, water and salt. Bake the loaf in a hot oven.",
		Metadata: map[string]any{"topic": "food"}},
	{ID: "stocks", Title: "Markets", Text: "The stock market fell today as investors sold shares of banks.", Metadata: map[string]any{"topic": "money"}},
	{ID: "tea/green", Title: "Tea", Text: "Green tea is brewed with water below boiling. Steep the leaves for two minutes.", Metadata: map[string]any{"topic": "food"}},
}

// newService opens an engine in a temp dir with keyword-only indexes
// "kb" (holding corpus) and "other" (empty), answering with the
// extractive generator.
func newService(t *testing.T) *rag.Service {
	t.Helper()
	ctx := context.Background()
	eng, err := index.Open(ctx, index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	svc, err := rag.New(rag.Config{Backend: eng, Generator: extractive.New(extractive.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kb", "other"} {
		if _, err := svc.CreateIndex(ctx, data.IndexConfig{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Ingest(ctx, "kb", corpus, rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	return svc
}

func newServer(t *testing.T, cfg mcp.Config) *mcp.Server {
	t.Helper()
	if cfg.Service == nil {
		cfg.Service = newService(t)
	}
	s, err := mcp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// progressLog records progress notifications.
type progressLog struct {
	mu   sync.Mutex
	msgs []string
}

func (p *progressLog) handler(_ context.Context, req *sdk.ProgressNotificationClientRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, req.Params.Message)
}

func (p *progressLog) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

// connect connects an SDK client to srv's MCP server over an in-memory
// transport.
func connect(t *testing.T, srv *sdk.Server, pl *progressLog) *sdk.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := sdk.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	opts := &sdk.ClientOptions{}
	if pl != nil {
		opts.ProgressNotificationHandler = pl.handler
	}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, opts).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolNames(t *testing.T, cs *sdk.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.InputSchema == nil {
			t.Errorf("tool %s has no input schema", tool.Name)
		}
	}
	slices.Sort(names)
	return names
}

// call calls a tool and decodes its structured content into out.
func call(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, out any) *sdk.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s: tool error: %s", name, text(res))
	}
	if out != nil {
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: structured content %s: %v", name, b, err)
		}
	}
	return res
}

// callErr calls a tool that must fail and returns its error text.
func callErr(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return err.Error()
	}
	if !res.IsError {
		t.Fatalf("%s(%v): want a tool error, got %s", name, args, text(res))
	}
	return text(res)
}

func text(res *sdk.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

var allTools = []string{"add_documents", "ask", "delete_document", "get_document", "list_indexes", "search"}
var readTools = []string{"ask", "get_document", "list_indexes", "search"}

func TestToolsInMemory(t *testing.T) {
	s := newServer(t, mcp.Config{ProgressEvery: 2, PageSize: 2})
	pl := &progressLog{}
	cs := connect(t, s.MCP(mcp.ReadWrite), pl)
	ctx := context.Background()
	if got := toolNames(t, cs); !slices.Equal(got, allTools) {
		t.Fatalf("tools = %v, want %v", got, allTools)
	}

	var idx mcp.ListIndexesOutput
	call(t, cs, "list_indexes", nil, &idx)
	if len(idx.Indexes) != 2 || idx.Indexes[0].Name != "kb" || idx.Indexes[0].Documents != 3 || idx.Indexes[1].Name != "other" {
		t.Fatalf("list_indexes = %+v", idx)
	}

	var sr mcp.SearchOutput
	res := call(t, cs, "search", map[string]any{"index": "kb", "query": "sourdough loaf", "top_k": 2}, &sr)
	// Clients that show only text content see the hits too.
	if !strings.Contains(text(res), "Sourdough bread") {
		t.Fatalf("search text content %q", text(res))
	}
	if len(sr.Hits) == 0 || sr.Hits[0].DocID != "bread" || sr.Hits[0].Score <= 0 || !strings.Contains(sr.Hits[0].Text, "Sourdough") ||
		sr.Hits[0].Source != "notes/bread.md" || sr.Hits[0].URI != "ragd://kb/bread" {
		t.Fatalf("search = %+v", sr)
	}
	// A filter narrows the hits.
	call(t, cs, "search", map[string]any{"index": "kb", "query": "water", "mode": "bm25", "filter": map[string]any{"topic": "food"}}, &sr)
	for _, h := range sr.Hits {
		if h.Metadata["topic"] != "food" {
			t.Fatalf("filtered search returned %+v", h)
		}
	}
	if len(sr.Hits) != 2 {
		t.Fatalf("filtered search: %d hits, want 2 (bread and tea)", len(sr.Hits))
	}

	var ans mcp.AskOutput
	res = call(t, cs, "ask", map[string]any{"index": "kb", "question": "How long should green tea steep?"}, &ans)
	if !strings.Contains(ans.Answer, "two minutes") || len(ans.Citations) == 0 || ans.Citations[0].DocID != "tea/green" ||
		ans.Citations[0].URI != "ragd://kb/tea%2Fgreen" {
		t.Fatalf("ask = %+v", ans)
	}
	if !strings.Contains(text(res), "Sources:") {
		t.Errorf("ask text content %q has no sources", text(res))
	}
	// No progress token: no notifications.
	if n := len(pl.all()); n != 0 {
		t.Fatalf("%d progress notifications without a progress token", n)
	}

	var doc mcp.Document
	call(t, cs, "get_document", map[string]any{"index": "kb", "doc_id": "tea/green"}, &doc)
	if doc.Text != corpus[2].Text || doc.Title != "Tea" || doc.Metadata["topic"] != "food" || doc.Chunks == 0 {
		t.Fatalf("get_document = %+v", doc)
	}

	var add mcp.AddDocumentsOutput
	call(t, cs, "add_documents", map[string]any{"index": "other", "documents": []any{
		map[string]any{"id": "a", "text": "Alpacas graze on high plains.", "metadata": map[string]any{"n": 1}},
		map[string]any{"id": "b", "title": "Bees", "text": "Bees make honey."},
	}}, &add)
	if add.Written != 2 || add.Chunks < 2 {
		t.Fatalf("add_documents = %+v", add)
	}
	call(t, cs, "add_documents", map[string]any{"index": "other", "documents": []any{map[string]any{"id": "b", "title": "Bees", "text": "Bees make honey."}}}, &add)
	if add.Written != 0 || add.Skipped != 1 {
		t.Fatalf("unchanged add_documents = %+v, want skipped", add)
	}
	call(t, cs, "search", map[string]any{"index": "other", "query": "honey"}, &sr)
	if len(sr.Hits) != 1 || sr.Hits[0].DocID != "b" || sr.Hits[0].Source != "mcp" {
		t.Fatalf("search after add = %+v", sr)
	}

	var del mcp.DeleteDocumentOutput
	call(t, cs, "delete_document", map[string]any{"index": "other", "doc_id": "b"}, &del)
	if del.Deleted != "b" {
		t.Fatalf("delete_document = %+v", del)
	}
	call(t, cs, "search", map[string]any{"index": "other", "query": "honey"}, &sr)
	if len(sr.Hits) != 0 {
		t.Fatalf("search after delete = %+v", sr)
	}
	if msg := callErr(t, cs, "delete_document", map[string]any{"index": "other", "doc_id": "b"}); !strings.Contains(msg, "not_found") {
		t.Fatalf("second delete: %q", msg)
	}

	// Resources: the template, and reading a document by URI.
	tr, err := cs.ListResourceTemplates(ctx, nil)
	if err != nil || len(tr.ResourceTemplates) != 1 || tr.ResourceTemplates[0].URITemplate != "ragd://{index}/{doc_id}" {
		t.Fatalf("resource templates = %+v, %v", tr, err)
	}
	var uris []string
	for r, err := range cs.Resources(ctx, nil) { // pages of 2 (PageSize)
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, r.URI)
	}
	if want := []string{"ragd://kb/bread", "ragd://kb/stocks", "ragd://kb/tea%2Fgreen", "ragd://other/a"}; !slices.Equal(uris, want) {
		t.Fatalf("resources = %v, want %v", uris, want)
	}
	rr, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "ragd://kb/tea%2Fgreen"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Contents) != 1 || rr.Contents[0].Text != corpus[2].Text || rr.Contents[0].Meta["title"] != "Tea" {
		t.Fatalf("read resource = %+v", rr.Contents)
	}
	if _, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "ragd://kb/nope"}); err == nil {
		t.Fatal("reading a missing document succeeded")
	}
}

func TestAskProgress(t *testing.T) {
	s := newServer(t, mcp.Config{ProgressEvery: 2})
	pl := &progressLog{}
	cs := connect(t, s.MCP(mcp.ReadWrite), pl)
	params := &sdk.CallToolParams{Name: "ask", Arguments: map[string]any{"index": "kb", "question": "How is sourdough bread baked?"}}
	params.SetProgressToken("tok-1")
	res, err := cs.CallTool(context.Background(), params)
	if err != nil || res.IsError {
		t.Fatalf("ask: %v %s", err, text(res))
	}
	var ans mcp.AskOutput
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	// Notifications are delivered asynchronously; the server sends them
	// before the result, but the client may run the handler later.
	var msgs []string
	for range 200 {
		if msgs = pl.all(); len(msgs) >= 3 && strings.Contains(strings.Join(msgs, ""), strings.TrimSpace(ans.Answer[:20])) {
			break
		}
		sleep()
	}
	if len(msgs) < 3 || !strings.HasPrefix(msgs[0], "retrieved ") {
		t.Fatalf("progress messages %q: want a retrieval message then token batches", msgs)
	}
	streamed := strings.Join(msgs[1:], "")
	if !strings.Contains(streamed, strings.TrimSpace(ans.Answer[:20])) {
		t.Fatalf("streamed text %q does not carry the answer %q", streamed, ans.Answer)
	}
}

func TestToolErrors(t *testing.T) {
	s := newServer(t, mcp.Config{})
	cs := connect(t, s.MCP(mcp.ReadWrite), nil)
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"search", map[string]any{"index": "kb"}, `missing properties: ["query"]`},
		{"search", map[string]any{"index": "kb", "query": "  "}, "query is required"},
		{"search", map[string]any{"query": "x"}, "index is required"},
		{"search", map[string]any{"index": "nope", "query": "x"}, "not_found"},
		{"search", map[string]any{"index": "kb", "query": "x", "top_k": 1000}, "top_k 1000 out of range"},
		{"search", map[string]any{"index": "kb", "query": "x", "mode": "fuzzy"}, `mode "fuzzy"`},
		{"search", map[string]any{"index": "kb", "query": "x", "mode": "vector"}, "has no vectors yet"},
		{"search", map[string]any{"index": "kb", "query": "x", "filter": map[string]any{"a": map[string]any{"$near": 1}}}, "invalid"},
		{"search", map[string]any{"index": "kb", "query": 7}, "query"},
		{"ask", map[string]any{"index": "kb"}, `missing properties: ["question"]`},
		{"ask", map[string]any{"index": "kb", "question": ""}, "question is required"},
		{"get_document", map[string]any{"index": "kb", "doc_id": "nope"}, "not_found"},
		{"get_document", map[string]any{"index": "kb"}, "doc_id"},
		{"add_documents", map[string]any{"index": "kb", "documents": []any{}}, "documents is empty"},
		{"add_documents", map[string]any{"index": "kb", "documents": []any{map[string]any{"id": "x", "text": " "}}}, "has no text"},
		{"add_documents", map[string]any{"index": "kb", "documents": []any{map[string]any{"text": "t"}}}, "id"},
		{"add_documents", map[string]any{"index": "nope", "documents": []any{map[string]any{"id": "x", "text": "t"}}}, "not_found"},
		{"delete_document", map[string]any{"index": "kb"}, `missing properties: ["doc_id"]`},
		{"delete_document", map[string]any{"index": "kb", "doc_id": ""}, "doc_id is required"},
	} {
		msg := callErr(t, cs, tc.tool, tc.args)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s(%v): error %q, want it to mention %q", tc.tool, tc.args, msg, tc.want)
		}
	}
}

func TestReadOnlyAndIndexLimit(t *testing.T) {
	svc := newService(t)
	if _, err := svc.Ingest(context.Background(), "other", []data.Document{{ID: "a", Text: "Alpacas graze."}}, rag.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, mcp.Config{Service: svc, Access: mcp.ReadOnly, Indexes: []string{"kb"}})
	cs := connect(t, s.MCP(mcp.ReadWrite), nil)
	if got := toolNames(t, cs); !slices.Equal(got, readTools) {
		t.Fatalf("read-only tools = %v, want %v", got, readTools)
	}
	var idx mcp.ListIndexesOutput
	call(t, cs, "list_indexes", nil, &idx)
	if len(idx.Indexes) != 1 || idx.Indexes[0].Name != "kb" {
		t.Fatalf("list_indexes with --index kb = %+v", idx)
	}
	// The one allowed index is the default.
	var sr mcp.SearchOutput
	call(t, cs, "search", map[string]any{"query": "stock market"}, &sr)
	if sr.Index != "kb" || len(sr.Hits) == 0 || sr.Hits[0].DocID != "stocks" {
		t.Fatalf("search without index = %+v", sr)
	}
	if msg := callErr(t, cs, "search", map[string]any{"index": "other", "query": "x"}); !strings.Contains(msg, "not available") {
		t.Fatalf("search outside --index: %q", msg)
	}
	lr, err := cs.ListResources(context.Background(), nil)
	if err != nil || len(lr.Resources) != 3 || lr.NextCursor != "" {
		t.Fatalf("resources with --index kb: %+v %v", lr, err)
	}
	for _, r := range lr.Resources {
		if !strings.HasPrefix(r.URI, "ragd://kb/") {
			t.Fatalf("resource %s outside --index", r.URI)
		}
	}
	if _, err := cs.ListResources(context.Background(), &sdk.ListResourcesParams{Cursor: "garbage"}); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
	if _, err := cs.ReadResource(context.Background(), &sdk.ReadResourceParams{URI: "ragd://other/a"}); err == nil {
		t.Fatal("read a resource outside --index")
	}
	if msg := callErr(t, cs, "add_documents", map[string]any{"documents": []any{map[string]any{"id": "x", "text": "t"}}}); !strings.Contains(msg, "add_documents") {
		t.Fatalf("write tool on a read-only server: %q", msg)
	}
}

func TestParseDocumentURI(t *testing.T) {
	for _, tc := range []struct{ uri, index, id string }{
		{"ragd://kb/bread", "kb", "bread"},
		{mcp.DocumentURI("kb", "dir/a b.md"), "kb", "dir/a b.md"},
		{"ragd://kb/a/b", "kb", "a/b"},
	} {
		ix, id, err := mcp.ParseDocumentURI(tc.uri)
		if err != nil || ix != tc.index || id != tc.id {
			t.Errorf("ParseDocumentURI(%q) = %q, %q, %v", tc.uri, ix, id, err)
		}
	}
	for _, bad := range []string{"http://kb/a", "ragd://kb", "ragd:///a", "ragd://kb/", "ragd://kb/%zz"} {
		if _, _, err := mcp.ParseDocumentURI(bad); err == nil {
			t.Errorf("ParseDocumentURI(%q) succeeded", bad)
		}
	}
}

// httpFixture serves the MCP handler behind auth.Middleware, as ragd
// serve does, with a read key and a write key.
type httpFixture struct {
	url             string
	readKey, wriKey string
}

func newHTTP(t *testing.T) httpFixture {
	t.Helper()
	store, err := auth.OpenStore(filepath.Join(t.TempDir(), "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	readKey, _, err := store.Create("r", auth.ScopeRead, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeKey, _, err := store.Create("w", auth.ScopeWrite, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, mcp.Config{})
	e := echo.New()
	e.Use(auth.Middleware(auth.Config{Store: store}))
	e.Any("/mcp", echo.WrapHandler(s.Handler()))
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return httpFixture{url: ts.URL + "/mcp", readKey: readKey, wriKey: writeKey}
}

// keyTransport adds an API key to every request.
type keyTransport struct {
	key    string
	header string
}

func (k keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if k.header == "" {
		r.Header.Set("Authorization", "Bearer "+k.key)
	} else {
		r.Header.Set(k.header, k.key)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func connectHTTP(t *testing.T, url string, rt http.RoundTripper) (*sdk.ClientSession, error) {
	t.Helper()
	tr := &sdk.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: rt}, MaxRetries: -1}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil).Connect(context.Background(), tr, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

func TestHTTPWithKeys(t *testing.T) {
	f := newHTTP(t)

	// Without a key: 401 before any MCP handling.
	resp, err := http.Post(f.url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no key: status %d, want 401", resp.StatusCode)
	}
	if _, err := connectHTTP(t, f.url, http.DefaultTransport); err == nil {
		t.Fatal("an SDK client connected without a key")
	}

	// A write key sees and runs every tool (X-API-Key works too).
	w, err := connectHTTP(t, f.url, keyTransport{key: f.wriKey, header: "X-API-Key"})
	if err != nil {
		t.Fatal(err)
	}
	if got := toolNames(t, w); !slices.Equal(got, allTools) {
		t.Fatalf("write key tools = %v", got)
	}
	var add mcp.AddDocumentsOutput
	call(t, w, "add_documents", map[string]any{"index": "other", "documents": []any{map[string]any{"id": "h", "text": "Herons wade in shallow water."}}}, &add)
	if add.Written != 1 {
		t.Fatalf("add_documents over HTTP = %+v", add)
	}
	var sr mcp.SearchOutput
	call(t, w, "search", map[string]any{"index": "other", "query": "herons"}, &sr)
	if len(sr.Hits) != 1 || sr.Hits[0].DocID != "h" {
		t.Fatalf("search over HTTP = %+v", sr)
	}
	rr, err := w.ReadResource(context.Background(), &sdk.ReadResourceParams{URI: "ragd://other/h"})
	if err != nil || rr.Contents[0].Text != "Herons wade in shallow water." {
		t.Fatalf("read resource over HTTP: %+v %v", rr, err)
	}

	// A read key lists only read tools and cannot call a write tool.
	r, err := connectHTTP(t, f.url, keyTransport{key: f.readKey})
	if err != nil {
		t.Fatal(err)
	}
	if got := toolNames(t, r); !slices.Equal(got, readTools) {
		t.Fatalf("read key tools = %v, want %v", got, readTools)
	}
	var ans mcp.AskOutput
	call(t, r, "ask", map[string]any{"index": "kb", "question": "What did the stock market do?"}, &ans)
	if !strings.Contains(ans.Answer, "fell") {
		t.Fatalf("ask over HTTP = %+v", ans)
	}
	if msg := callErr(t, r, "delete_document", map[string]any{"index": "other", "doc_id": "h"}); !strings.Contains(msg, "delete_document") {
		t.Fatalf("read key delete: %q", msg)
	}
}

// Keyless, /mcp refuses a loopback connection that names another host
// (DNS rebinding); with a key, a proxy's Host is fine.
func TestHTTPRebinding(t *testing.T) {
	s := newServer(t, mcp.Config{})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	initBody := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	for _, tc := range []struct {
		host string
		want int
	}{{"evil.example", http.StatusForbidden}, {"evil.example:80", http.StatusForbidden}, {"localhost:1234", http.StatusOK}, {"", http.StatusOK}, {"[::1]:8", http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(initBody))
		if tc.host != "" {
			req.Host = tc.host
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Host %q: status %d, want %d", tc.host, resp.StatusCode, tc.want)
		}
	}
	// Behind auth with a key, another Host name is served.
	f := newHTTP(t)
	req, _ := http.NewRequest(http.MethodPost, f.url, strings.NewReader(initBody))
	req.Host = "rag.example"
	req.Header.Set("Authorization", "Bearer "+f.readKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("keyed request via a proxy Host: %d", resp.StatusCode)
	}
}

// A read key that reuses a session opened by a write key still cannot
// write: each call is checked against the key that sent it.
func TestHTTPSessionReusedWithReadKey(t *testing.T) {
	f := newHTTP(t)
	sid := ""
	post := func(key, body string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, f.url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("X-Ragd-Mcp-Access", "write") // forged: must be ignored
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
			req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp, b.String()
	}
	resp, body := post(f.wriKey, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	sid = resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d %s", resp.StatusCode, body)
	}
	post(f.wriKey, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	resp, body = post(f.readKey, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_document","arguments":{"index":"kb","doc_id":"bread"}}}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"isError":true`) || !strings.Contains(body, "forbidden") {
		t.Fatalf("delete with a read key in a write session: %d %s", resp.StatusCode, body)
	}
}

func sleep() { time.Sleep(10 * time.Millisecond) }

// Shutdown ends the sessions' standing event streams, so the HTTP
// server's graceful shutdown does not wait out its grace period.
func TestHTTPShutdownEndsStreams(t *testing.T) {
	s := newServer(t, mcp.Config{})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	cs, err := connectHTTP(t, ts.URL, http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	if got := toolNames(t, cs); !slices.Equal(got, allTools) {
		t.Fatalf("keyless tools = %v", got)
	}
	time.Sleep(100 * time.Millisecond) // let the client open its standing GET stream

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	hctx, hcancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer hcancel()
	if err := ts.Config.Shutdown(hctx); err != nil {
		t.Fatalf("HTTP shutdown after mcp Shutdown: %v", err)
	}
}
