package cloudflare_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/index"
)

type itemOut struct {
	ID          string         `json:"id"`
	Key         string         `json:"key"`
	Status      string         `json:"status"`
	Error       string         `json:"error"`
	Checksum    string         `json:"checksum"`
	ChunksCount *int           `json:"chunks_count"`
	FileSize    int64          `json:"file_size"`
	Metadata    map[string]any `json:"metadata"`
	Namespace   string         `json:"namespace"`
	CreatedAt   string         `json:"created_at"`
	LastSeenAt  string         `json:"last_seen_at"`
}

type chunkOut struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	Item struct {
		Key       string         `json:"key"`
		Metadata  map[string]any `json:"metadata"`
		Timestamp int64          `json:"timestamp"`
	} `json:"item"`
	StartByte int `json:"start_byte"`
	EndByte   int `json:"end_byte"`
}

type statsOut struct {
	Completed, Error, Queued, Running int
	LastActivity                      *string `json:"last_activity"`
	Engine                            struct {
		Vectorize struct{ Dimensions, VectorsCount int }
		R2        struct{ ObjectCount int }
	}
}

// formPart is one multipart field; filename set makes it a file.
type formPart struct {
	name, filename, contentType, value string
}

func multipartBody(t *testing.T, parts ...formPart) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		hdr := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			cd += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		hdr.Set("Content-Disposition", cd)
		if p.contentType != "" {
			hdr.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(pw, p.value)
	}
	w.Close()
	return w.FormDataContentType(), buf.String()
}

// upload posts a file and returns the item; want is the status.
func (e *env) upload(path string, want int, parts ...formPart) itemOut {
	e.t.Helper()
	ct, body := multipartBody(e.t, parts...)
	status, env := e.do("POST", path, ct, body)
	if status != want {
		e.t.Fatalf("upload to %s: %d, want %d (%v)", path, status, want, env.Errors)
	}
	if want != 200 {
		return itemOut{}
	}
	return decodeInto[itemOut](e.t, env.Result)
}

// waitItem polls an item until it leaves queued/running.
func (e *env) waitItem(path string) itemOut {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		it := decodeInto[itemOut](e.t, e.json("GET", path, nil, 200))
		if it.Status != "queued" && it.Status != "running" {
			return it
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("item %s still %s", path, it.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const breadMD = "# Bread\n\nKnead the sourdough dough and let it rise overnight in a cool kitchen. Fold it every hour for the first four hours, " +
	"then shape it into a tight ball and leave it in a floured basket. A slow, cold rise gives the loaf its flavour and an open crumb.\n\n" +
	"## Baking\n\nBake at 230 degrees until the crust is dark.\n"

func TestAISearchItems(t *testing.T) {
	e := newEnv(t)
	e.json("POST", ais+"/instances", `{"id":"kb","chunk_size":32,"chunk_overlap":0}`, 200)
	items := ais + "/namespaces/default/instances/kb/items"

	// Upload and wait: the item is indexed when the response comes.
	it := e.upload(items, 200, formPart{name: "file", filename: "guide/bread.md", contentType: "text/markdown", value: breadMD},
		formPart{name: "metadata", value: `{"team":"kitchen","year":2024,"public":true}`}, formPart{name: "wait_for_completion", value: "true"})
	if it.Status != "completed" || it.Key != "guide/bread.md" || it.ChunksCount == nil || *it.ChunksCount < 1 || it.FileSize != int64(len(breadMD)) ||
		len(it.Checksum) != 64 || it.Metadata["team"] != "kitchen" || it.Namespace != "default" || it.ID == "" {
		t.Fatalf("uploaded: %+v", it)
	}
	// Its chunks carry text, byte offsets and the item's metadata.
	chunks := decodeInto[[]chunkOut](t, e.json("GET", items+"/"+it.ID+"/chunks", nil, 200))
	if len(chunks) != *it.ChunksCount || !strings.Contains(chunks[0].Text, "sourdough") || chunks[0].Item.Key != "guide/bread.md" ||
		chunks[0].Item.Metadata["year"] != float64(2024) || chunks[0].EndByte <= chunks[0].StartByte || chunks[0].Item.Timestamp == 0 {
		t.Fatalf("chunks: %+v", chunks)
	}
	if len(chunks) < 2 {
		t.Fatalf("want several chunks, got %+v", chunks)
	}
	if c := decodeInto[[]chunkOut](t, e.json("GET", items+"/"+it.ID+"/chunks?limit=1&offset=1", nil, 200)); len(c) != 1 || c[0].ID != chunks[1].ID {
		t.Fatalf("chunk paging: %+v", c)
	}
	e.fail("GET", items+"/"+it.ID+"/chunks?limit=0", "", "", 400, "limit")
	// Search finds it, filtered by item metadata, with the item key.
	r := decodeInto[searchResult](t, e.json("POST", ais+"/instances/kb/search",
		`{"query":"sourdough","ai_search_options":{"retrieval":{"filters":{"team":"kitchen"}}}}`, 200))
	if len(r.Chunks) == 0 || r.Chunks[0].Item.Key != "guide/bread.md" || r.Chunks[0].ScoringDetails == nil || r.Chunks[0].ScoringDetails.VectorRank == nil {
		t.Fatalf("search: %+v", r)
	}
	if r := decodeInto[searchResult](t, e.json("POST", ais+"/instances/kb/search",
		`{"query":"sourdough","ai_search_options":{"retrieval":{"retrieval_type":"keyword","filters":{"team":"garage"}}}}`, 200)); len(r.Chunks) != 0 {
		t.Fatalf("filter ignored: %+v", r)
	}

	// Without wait_for_completion the item is queued and the worker indexes it.
	notes := e.upload(items, 200, formPart{name: "file", filename: "notes.txt", value: "The stock market fell today as bond yields rose."})
	if notes.Status != "queued" || notes.ChunksCount != nil {
		t.Fatalf("queued upload: %+v", notes)
	}
	if done := e.waitItem(items + "/" + notes.ID); done.Status != "completed" || *done.ChunksCount != 1 {
		t.Fatalf("background item: %+v", done)
	}
	// JSONL: one document per record, under the item's key.
	jl := e.upload(items, 200, formPart{name: "file", filename: "faq.jsonl", value: "{\"id\":\"q1\",\"text\":\"How long does dough rise?\"}\n{\"id\":\"q2\",\"text\":\"What oven temperature?\"}\n"},
		formPart{name: "wait_for_completion", value: "true"})
	if jl.Status != "completed" || *jl.ChunksCount != 2 {
		t.Fatalf("jsonl: %+v", jl)
	}
	if _, err := e.engine.Document(t.Context(), "kb", "faq.jsonl/q1"); err != nil {
		t.Fatal(err)
	}
	// A file that uploads fine but holds no text is an item in error.
	bad := e.upload(items, 200, formPart{name: "file", filename: "empty.html", value: "<html><body>   </body></html>"}, formPart{name: "wait_for_completion", value: "true"})
	if bad.Status != "error" || !strings.Contains(bad.Error, "no text") {
		t.Fatalf("bad item: %+v", bad)
	}

	// List, filter and page.
	l := list[itemOut](e, items)
	if l.ResultInfo.TotalCount != 4 || len(l.Result) != 4 || l.Result[0].Key != "empty.html" {
		t.Fatalf("list: %+v", l)
	}
	if l := list[itemOut](e, items+"?status=error"); len(l.Result) != 1 || l.Result[0].Key != "empty.html" {
		t.Fatalf("status filter: %+v", l)
	}
	if l := list[itemOut](e, items+"?per_page=1&page=2"); len(l.Result) != 1 || l.Result[0].Key != "faq.jsonl" || l.ResultInfo.TotalCount != 4 {
		t.Fatalf("page: %+v", l)
	}
	if l := list[itemOut](e, items+"?key=notes.txt"); len(l.Result) != 1 || l.Result[0].ID != notes.ID {
		t.Fatalf("key filter: %+v", l)
	}
	e.fail("GET", items+"?status=lost", "", "", 400, "status")
	e.fail("GET", items+"?sort_by=size", "", "", 400, "sort_by")
	e.fail("GET", items+"?metadata_filter=x", "", "", 400, "not supported")

	// Uploading the same key again replaces the item and its chunks.
	re := e.upload(items, 200, formPart{name: "file", filename: "guide/bread.md", value: "# Rye\n\nRye bread needs a long proof.\n"},
		formPart{name: "wait_for_completion", value: "true"})
	if re.ID != it.ID || re.Checksum == it.Checksum || re.Status != "completed" || re.Metadata != nil || re.CreatedAt != it.CreatedAt {
		t.Fatalf("replaced: %+v (was %+v)", re, it)
	}
	if r := decodeInto[searchResult](t, e.json("POST", ais+"/instances/kb/search", `{"query":"sourdough","ai_search_options":{"retrieval":{"retrieval_type":"keyword"}}}`, 200)); len(r.Chunks) != 0 {
		t.Fatalf("old text still found: %+v", r)
	}

	// Bad uploads change nothing.
	before := list[itemOut](e, items)
	cases := []struct {
		ct, body string
		status   int
		msg      string
	}{
		{"application/json", `{"file":"x"}`, 400, "multipart"},
	}
	for _, c := range cases {
		e.fail("POST", items, c.ct, c.body, c.status, c.msg)
	}
	e.upload(items, 400, formPart{name: "metadata", value: `{}`})
	e.upload(items, 400, formPart{name: "file", filename: "a.txt", value: "x"}, formPart{name: "colour", value: "red"})
	e.upload(items, 400, formPart{name: "file", filename: "a.txt", value: "x"}, formPart{name: "metadata", value: `{"a":{"b":1}}`})
	e.upload(items, 400, formPart{name: "file", filename: "a.txt", value: "x"}, formPart{name: "metadata", value: `{"a":1`})
	e.upload(items, 400, formPart{name: "file", filename: "a.txt", value: "x"}, formPart{name: "metadata", value: `{"$a":1}`})
	e.upload(items, 400, formPart{name: "file", filename: "a.txt", value: "x"}, formPart{name: "wait_for_completion", value: "maybe"})
	e.upload(items, 400, formPart{name: "file", filename: "a.txt", value: "  \n"})
	e.upload(items, 400, formPart{name: "file", value: "no filename"})
	e.upload(items, 400, formPart{name: "file", filename: "blob.bin", value: "\x00\x01\x02\x03\x00\x00binary"})
	e.upload(items, 400, formPart{name: "file", filename: "a.txt", value: "x"}, formPart{name: "file", filename: "b.txt", value: "y"})
	e.upload(ais+"/namespaces/default/instances/ghost/items", 404, formPart{name: "file", filename: "a.txt", value: "x"})
	if after := list[itemOut](e, items); after.ResultInfo.TotalCount != before.ResultInfo.TotalCount {
		t.Fatalf("rejected uploads changed the items: %d -> %d", before.ResultInfo.TotalCount, after.ResultInfo.TotalCount)
	}

	// Get and delete one item: its chunks leave the index.
	if g := decodeInto[itemOut](t, e.json("GET", items+"/"+notes.ID, nil, 200)); g.Key != "notes.txt" {
		t.Fatalf("get: %+v", g)
	}
	del := e.json("DELETE", items+"/"+notes.ID, nil, 200)
	if string(del) != `{"key":"notes.txt"}` {
		t.Fatalf("delete: %s", del)
	}
	if _, err := e.engine.Document(t.Context(), "kb", "notes.txt"); err == nil {
		t.Fatal("deleted item's document is still in the index")
	}
	e.fail("GET", items+"/"+notes.ID, "", "", 404, "not found")
	e.fail("DELETE", items+"/"+notes.ID, "", "", 404, "not found")
	e.fail("GET", items+"/"+notes.ID+"/chunks", "", "", 404, "not found")
	e.fail("GET", ais+"/namespaces/default/instances/ghost/items", "", "", 404, "not found")

	// Stats count items by status.
	st := decodeInto[statsOut](t, e.json("GET", ais+"/namespaces/default/instances/kb/stats", nil, 200))
	info, _ := e.engine.Index(t.Context(), "kb")
	if st.Completed != 2 || st.Error != 1 || st.Queued != 0 || st.LastActivity == nil || st.Engine.Vectorize.Dimensions != 512 ||
		st.Engine.Vectorize.VectorsCount != info.Stats.Vectors || st.Engine.R2.ObjectCount != 3 {
		t.Fatalf("stats: %+v", st)
	}
	e.fail("GET", ais+"/instances/ghost/stats", "", "", 404, "not found")
	e.json("GET", ais+"/instances/kb/stats", nil, 200)

	// Deleting the instance removes its items with it.
	e.json("DELETE", ais+"/instances/kb", nil, 200)
	e.fail("GET", items, "", "", 404, "not found")
}

func TestAISearchItemLimits(t *testing.T) {
	e := newEnv(t, func(c *cloudflare.Config) { c.MaxItemBytes = 64; c.MaxBodyBytes = 4096 })
	e.json("POST", ais+"/instances", `{"id":"kb"}`, 200)
	items := ais + "/namespaces/default/instances/kb/items"
	ct, body := multipartBody(t, formPart{name: "file", filename: "big.txt", value: strings.Repeat("word ", 20)})
	if code := e.fail("POST", items, ct, body, 413, "64 bytes"); code != 41301 {
		t.Fatalf("code %d", code)
	}
	ct, body = multipartBody(t, formPart{name: "file", filename: "huge.txt", value: strings.Repeat("x", 8000)})
	if code := e.fail("POST", items, ct, body, 413, "too large"); code != 41301 {
		t.Fatalf("code %d", code)
	}
	if l := list[itemOut](e, items); l.ResultInfo.TotalCount != 0 {
		t.Fatalf("oversize uploads left items: %+v", l)
	}
	e.upload(items, 200, formPart{name: "file", filename: "ok.txt", value: "small enough"})
}

// blockingEmbedder embeds nothing until its context ends.
type blockingEmbedder struct {
	once    sync.Once
	started chan struct{}
}

func (b *blockingEmbedder) Info() embed.Info { return embed.Info{ID: "slow", Dims: 4} }

func (b *blockingEmbedder) Embed(ctx context.Context, _ embed.Kind, _ []string) ([][]float32, error) {
	b.once.Do(func() { close(b.started) })
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestAISearchWorkerResumes closes the routes while an item is being
// indexed: the item goes back to queued with its upload kept, and the
// next start indexes it.
func TestAISearchWorkerResumes(t *testing.T) {
	e := newEnv(t)
	slow := &blockingEmbedder{started: make(chan struct{})}
	e.models.models["slow"] = &fakeEmbedder{id: "slow", dims: 4}
	e.json("POST", ais+"/instances", `{"id":"kb","embedding_model":"@cf/ragd/slow"}`, 200)
	e.models.mu.Lock()
	e.models.slow = slow
	e.models.mu.Unlock()
	items := ais + "/namespaces/default/instances/kb/items"
	it := e.upload(items, 200, formPart{name: "file", filename: "a.md", value: breadMD})
	select {
	case <-slow.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker never started the item")
	}
	e.svc.Close()
	e.svc.Close() // twice is fine
	e.models.mu.Lock()
	e.models.slow = nil
	e.models.mu.Unlock()
	e2 := newEnvWith(t, e.engine, e.dir, e.models)
	done := e2.waitItem(items + "/" + it.ID)
	if done.Status != "completed" || *done.ChunksCount == 0 {
		t.Fatalf("resumed item: %+v", done)
	}
	if _, err := e.engine.Document(t.Context(), "kb", "a.md"); err != nil {
		t.Fatal(err)
	}
}

func TestAISearchOversizeBodyOnMainServer(t *testing.T) {
	e := newMainEnv(t, 1024)
	body := `{"id":"` + strings.Repeat("x", 4096) + `"}`
	req, _ := http.NewRequest("POST", e.URL+ais+"/instances", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), `"success":false`) || !strings.Contains(string(b), `"code":41301`) {
		t.Fatalf("oversize body: %d %s", resp.StatusCode, b)
	}
}

// newMainEnv mounts the routes on ragd's main server, whose own body limit
// is maxBody, and serves it.
func newMainEnv(t *testing.T, maxBody int64) *httptest.Server {
	t.Helper()
	eng, err := index.Open(context.Background(), index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	srv := api.New(api.Config{Engine: eng, MaxBodyBytes: maxBody})
	svc := cloudflare.Register(srv.Echo(), cloudflare.Config{Engine: eng})
	t.Cleanup(svc.Close)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func TestAISearchItemFormats(t *testing.T) {
	e := newEnv(t)
	e.json("POST", ais+"/instances", `{"id":"kb","index_method":{"keyword":true,"vector":false}}`, 200)
	items := ais + "/namespaces/default/instances/kb/items"
	wait := formPart{name: "wait_for_completion", value: "true"}
	// No extension: the part's Content-Type picks the HTML loader.
	page := e.upload(items, 200, formPart{name: "file", filename: "page", contentType: "text/html",
		value: "<html><head><title>Oven</title></head><body><p>Preheat the <b>oven</b>.</p><script>var x</script></body></html>"}, wait)
	chunks := decodeInto[[]chunkOut](t, e.json("GET", items+"/"+page.ID+"/chunks", nil, 200))
	if page.Status != "completed" || len(chunks) != 1 || strings.Contains(chunks[0].Text, "<") || strings.Contains(chunks[0].Text, "var x") ||
		!strings.Contains(chunks[0].Text, "Preheat the oven") {
		t.Fatalf("html: %+v %+v", page, chunks)
	}
	// Neither: the content decides (a heading makes it markdown).
	md := e.upload(items, 200, formPart{name: "file", filename: "README", value: "# Title\n\nSome *markdown* text.\n"}, wait)
	chunks = decodeInto[[]chunkOut](t, e.json("GET", items+"/"+md.ID+"/chunks", nil, 200))
	if md.Status != "completed" || len(chunks) != 1 || strings.Contains(chunks[0].Text, "*") {
		t.Fatalf("markdown by content: %+v %+v", md, chunks)
	}
	// A PDF the loader cannot read is an item in error, not a failed request.
	pdf := e.upload(items, 200, formPart{name: "file", filename: "broken.pdf", value: "%PDF-1.4\nnot really\n%%EOF\n"}, wait)
	if pdf.Status != "error" || pdf.Error == "" || pdf.ChunksCount != nil {
		t.Fatalf("broken pdf: %+v", pdf)
	}
	if st := decodeInto[statsOut](t, e.json("GET", ais+"/instances/kb/stats", nil, 200)); st.Completed != 2 || st.Error != 1 {
		t.Fatalf("stats: %+v", st)
	}
	// A replacement that fails leaves no chunks of the file it replaced.
	again := e.upload(items, 200, formPart{name: "file", filename: "page", contentType: "text/html", value: "<html><body> <p> </p> </body></html>"}, wait)
	if again.ID != page.ID || again.Status != "error" {
		t.Fatalf("failed replacement: %+v", again)
	}
	if _, err := e.engine.Document(t.Context(), "kb", "page"); err == nil {
		t.Fatal("the replaced file's document outlived a failed replacement")
	}
	if c := decodeInto[[]chunkOut](t, e.json("GET", items+"/"+page.ID+"/chunks", nil, 200)); len(c) != 0 {
		t.Fatalf("chunks of a failed item: %+v", c)
	}
	// A multipart body that breaks off is a 400.
	e.fail("POST", items, "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc", 400, "multipart")
	e.fail("POST", items, "multipart/form-data", "", 400, "multipart")
}

// TestAISearchUnservedMethod: a known path with a method ragd does not
// serve answers 405 in Cloudflare's envelope, naming the methods it takes;
// a path ragd does not serve at all stays a 404.
func TestAISearchUnservedMethod(t *testing.T) {
	e := newEnv(t)
	e.json("POST", ais+"/instances", `{"id":"kb"}`, 200)
	status, env := e.do("PATCH", ais+"/instances/kb", "application/json", `{}`)
	if status != 405 || env.Errors[0].Code != 7001 || !strings.Contains(env.Errors[0].Message, "PATCH not allowed") ||
		!strings.Contains(env.Errors[0].Message, "DELETE, GET") {
		t.Fatalf("PATCH: %d %+v", status, env.Errors)
	}
	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", base + "/vectorize/v2/indexes", "GET, POST"},
		{"GET", base + "/vectorize/v2/indexes/x/query", "POST"},
		{"DELETE", ais + "/namespaces/default/instances/kb/items", "GET, POST"},
	} {
		status, env := e.do(tc.method, tc.path, "application/json", `{}`)
		if status != 405 || env.Errors[0].Code != 7001 || !strings.HasSuffix(env.Errors[0].Message, "accepts "+tc.allow) {
			t.Errorf("%s %s: %d %+v, want 405 accepting %s", tc.method, tc.path, status, env.Errors, tc.allow)
		}
	}
	status, env = e.do("GET", ais+"/instances/kb/nonsense/deeper", "", "")
	if status != 404 || env.Errors[0].Code != 7003 {
		t.Fatalf("unknown path: %d %+v", status, env.Errors)
	}
	e.json("GET", ais+"/instances/kb", nil, 200)
}

// TestAISearchUnchangedUploadEmbedsNothing: uploading the same file again
// skips its documents before chunking and embedding: nothing is embedded
// or written (the index version stays) and the item keeps its chunk
// count; new content is embedded and written.
func TestAISearchUnchangedUploadEmbedsNothing(t *testing.T) {
	e := newEnv(t)
	e.json("POST", ais+"/instances", `{"id":"kb","embedding_model":"@cf/baai/bge-small-en-v1.5"}`, 200)
	items := ais + "/namespaces/default/instances/kb/items"
	emb := e.models.models["bge-small-en-v1.5"]
	calls := func() int {
		emb.mu.Lock()
		defer emb.mu.Unlock()
		return len(emb.kinds)
	}
	file := formPart{name: "file", filename: "bread.md", contentType: "text/markdown", value: breadMD}
	wait := formPart{name: "wait_for_completion", value: "true"}
	first := e.upload(items, 200, file, formPart{name: "metadata", value: `{"team":"kitchen"}`}, wait)
	before, ver := calls(), e.engine.Version(context.Background(), "kb")
	if first.Status != "completed" || before == 0 || ver == 0 {
		t.Fatalf("first upload: %+v, %d embed calls, version %d", first, before, ver)
	}
	again := e.upload(items, 200, file, formPart{name: "metadata", value: `{"team":"kitchen"}`}, wait)
	if again.Status != "completed" || *again.ChunksCount != *first.ChunksCount || calls() != before || e.engine.Version(context.Background(), "kb") != ver {
		t.Fatalf("unchanged upload: %+v, embed calls %d -> %d, version %d -> %d", again, before, calls(), ver, e.engine.Version(context.Background(), "kb"))
	}
	changed := e.upload(items, 200, formPart{name: "file", filename: "bread.md", contentType: "text/markdown", value: breadMD + "\nServe warm.\n"}, wait)
	if changed.Status != "completed" || calls() == before || e.engine.Version(context.Background(), "kb") == ver {
		t.Fatalf("changed upload: %+v, embed calls %d -> %d", changed, before, calls())
	}
}

// TestAISearchChunkOverlapZero: an instance with chunk_overlap 0 gets
// chunks that do not overlap; the default overlaps.
func TestAISearchChunkOverlapZero(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		id, settings string
		overlap      bool
	}{{"none", `,"chunk_overlap":0`, false}, {"dflt", ``, true}} {
		e.json("POST", ais+"/instances", `{"id":"`+tc.id+`","chunk_size":32`+tc.settings+`}`, 200)
		items := ais + "/namespaces/default/instances/" + tc.id + "/items"
		it := e.upload(items, 200, formPart{name: "file", filename: "bread.md", value: breadMD}, formPart{name: "wait_for_completion", value: "true"})
		chunks := decodeInto[[]chunkOut](t, e.json("GET", items+"/"+it.ID+"/chunks", nil, 200))
		overlaps := false
		for i := 1; i < len(chunks); i++ {
			if chunks[i].StartByte < chunks[i-1].EndByte {
				overlaps = true
			}
		}
		if len(chunks) < 3 || overlaps != tc.overlap {
			t.Errorf("%s: %d chunks, overlapping %v, want %v", tc.id, len(chunks), overlaps, tc.overlap)
		}
	}
}
