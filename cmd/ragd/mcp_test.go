package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

var mcpFiles = map[string]string{
	"bread.md": "# Bread\n\nSourdough bread needs a starter, flour, water and salt.\n",
	"tea.txt":  "Green tea is brewed with water below boiling. Steep the leaves for two minutes.\n",
}

func mcpNames(t *testing.T, cs *sdk.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

func mcpCall(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) (*sdk.CallToolResult, map[string]any) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out map[string]any
	b, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(b, &out)
	return res, out
}

// ragd mcp speaks MCP on stdin/stdout, limited to its --index.
func TestMCPStdioCommand(t *testing.T) {
	cliEnv(t)
	corpus := t.TempDir()
	writeFiles(t, corpus, mcpFiles)
	ragdOK(t, "ingest", "--index", "notes", "--quiet", corpus)
	ragdOK(t, "indexes", "create", "other")

	if code, _, errOut := ragd(t, "", "mcp", "--index", "nope"); code != 2 || !strings.Contains(errOut, `"nope": no such index`) {
		t.Fatalf("mcp --index nope: exit %d %q", code, errOut)
	}

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	exited := make(chan int, 1)
	var errb syncBuffer
	go func() {
		code := runMain(context.Background(), []string{"mcp", "--index", "notes"}, inR, outW, &errb)
		outW.Close()
		exited <- code
	}()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil).
		Connect(context.Background(), &sdk.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect: %v (stderr %s)", err, errb.String())
	}
	if got, want := mcpNames(t, cs), []string{"add_documents", "ask", "delete_document", "get_document", "list_indexes", "search"}; !slices.Equal(got, want) {
		t.Fatalf("tools = %v, want %v", got, want)
	}
	_, idx := mcpCall(t, cs, "list_indexes", nil)
	if b, _ := json.Marshal(idx); !strings.Contains(string(b), `"name":"notes"`) || strings.Contains(string(b), "other") {
		t.Fatalf("list_indexes = %s", b)
	}
	_, sr := mcpCall(t, cs, "search", map[string]any{"query": "green tea"})
	hits, _ := sr["hits"].([]any)
	if len(hits) == 0 {
		t.Fatalf("search = %v", sr)
	}
	first := hits[0].(map[string]any)
	if !strings.Contains(first["text"].(string), "Green tea") || !strings.HasSuffix(first["source"].(string), "tea.txt") {
		t.Fatalf("first hit = %v", first)
	}
	rr, err := cs.ReadResource(context.Background(), &sdk.ReadResourceParams{URI: first["uri"].(string)})
	if err != nil || !strings.Contains(rr.Contents[0].Text, "Steep the leaves") {
		t.Fatalf("read %v: %+v %v", first["uri"], rr, err)
	}
	if res, _ := mcpCall(t, cs, "search", map[string]any{"index": "other", "query": "x"}); !res.IsError {
		t.Fatal("search outside --index succeeded")
	}
	cs.Close()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("ragd mcp exited %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ragd mcp did not exit when its input closed")
	}
}

type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.key != "" {
		r.Header.Set("Authorization", "Bearer "+b.key)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// ragd serve answers MCP at /mcp behind its API keys.
func TestServeMCP(t *testing.T) {
	cliEnv(t)
	corpus := t.TempDir()
	writeFiles(t, corpus, mcpFiles)
	ragdOK(t, "ingest", "--index", "notes", "--quiet", corpus)
	reader := strings.TrimSpace(ragdOK(t, "keys", "create", "--scope", "read"))
	writer := strings.TrimSpace(ragdOK(t, "keys", "create", "--scope", "write"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, _, _ := startServe(t, ctx, "--addr", "127.0.0.1:0")

	connect := func(key string) (*sdk.ClientSession, error) {
		tr := &sdk.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: &http.Client{Transport: bearer{key}}, MaxRetries: -1}
		return sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, tr, nil)
	}
	resp, err := http.Post(base+"/mcp", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /mcp without a key: %d, want 401", resp.StatusCode)
	}
	if _, err := connect(""); err == nil {
		t.Fatal("connected without a key")
	}

	r, err := connect(reader)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, want := mcpNames(t, r), []string{"ask", "get_document", "list_indexes", "search"}; !slices.Equal(got, want) {
		t.Fatalf("read key tools = %v, want %v", got, want)
	}
	res, ans := mcpCall(t, r, "ask", map[string]any{"index": "notes", "question": "How long should green tea steep?"})
	if res.IsError || !strings.Contains(ans["answer"].(string), "two minutes") {
		t.Fatalf("ask = %v", ans)
	}

	w, err := connect(writer)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res, out := mcpCall(t, w, "add_documents", map[string]any{"index": "notes", "documents": []any{map[string]any{"id": "owl", "text": "Owls hunt at night."}}})
	if res.IsError || out["written"] != float64(1) {
		t.Fatalf("add_documents = %v %v", out, res.Content)
	}
	res, out = mcpCall(t, w, "delete_document", map[string]any{"index": "notes", "doc_id": "owl"})
	if res.IsError || out["deleted"] != "owl" {
		t.Fatalf("delete_document = %v", out)
	}
}
