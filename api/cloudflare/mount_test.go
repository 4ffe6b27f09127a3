package cloudflare_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/index"
)

// TestMountedOnMainServer mounts the routes the way cmd/ragd does, on the
// main server's router, and checks both APIs see the same index.
func TestMountedOnMainServer(t *testing.T) {
	eng, err := index.Open(context.Background(), index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	srv := api.New(api.Config{Engine: eng})
	cloudflare.Register(srv.Echo(), cloudflare.Config{Engine: eng, Generator: &fakeGen{tokens: []string{"ok"}}})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := call("POST", base+"/vectorize/v2/indexes", `{"name":"shared","config":{"dimensions":2,"metric":"cosine"}}`); st != 200 {
		t.Fatalf("create: %d %s", st, b)
	}
	if st, b := call("POST", base+"/vectorize/v2/indexes/shared/upsert", `{"id":"doc-1","values":[1,0],"metadata":{"lang":"en"}}`); st != 200 {
		t.Fatalf("upsert: %d %s", st, b)
	}
	// ragd's own API sees the vector as a document and can search it by vector.
	st, b := call("POST", "/v1/indexes/shared/search", `{"vector":[1,0],"mode":"vector","top_k":1}`)
	if st != 200 || !strings.Contains(b, `"doc_id":"doc-1"`) {
		t.Fatalf("ragd search: %d %s", st, b)
	}
	// Errors keep Cloudflare's envelope through the main server's middleware.
	st, b = call("GET", base+"/vectorize/v2/indexes/missing", "")
	var env struct {
		Success bool
		Errors  []struct{ Code int }
	}
	if err := json.Unmarshal([]byte(b), &env); st != 404 || err != nil || env.Success || len(env.Errors) != 1 || env.Errors[0].Code != 40401 {
		t.Fatalf("missing index: %d %s", st, b)
	}
	st, b = call("POST", base+"/ai/run/@cf/meta/llama-3-8b-instruct", `{"prompt":"hi"}`)
	if st != 200 || !strings.Contains(b, `"response":"ok"`) {
		t.Fatalf("ai run: %d %s", st, b)
	}
}
