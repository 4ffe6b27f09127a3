package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Model names that would leave the models directory are a 400 on every
// route that takes one (/v1/embeddings, POST /v1/indexes, Workers AI's
// ai/run/@cf/ragd/<name>, AI Search's embedding_model), and nothing is
// opened: a missing model is a 404 whether or not a directory of that
// name exists outside the models directory.
func TestModelNamesStayInsideModelsDir(t *testing.T) {
	dataDir := cliEnv(t)
	for _, d := range []string{"models", "etc"} {
		if err := os.MkdirAll(filepath.Join(dataDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dataDir, "etc", "config.json"), []byte(`{"hidden_size":8}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, exited, _, _ := startServe(t, ctx, "--addr", "127.0.0.1:0", "--warm=false")
	defer func() { cancel(); <-exited }()
	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cf := "/client/v4/accounts/acct"
	for _, tc := range []struct{ path, body string }{
		{"/v1/embeddings", `{"model":"../../../../etc","input":["x"]}`},
		{"/v1/embeddings", `{"model":"../etc","input":["x"]}`},
		{"/v1/embeddings", `{"model":"/etc","input":["x"]}`},
		{"/v1/embeddings", `{"model":"` + filepath.Join(dataDir, "etc") + `","input":["x"]}`},
		{"/v1/indexes", `{"name":"a","model":"../etc"}`},
		{"/v1/indexes", `{"name":"b","model":"x/../../etc"}`},
		{cf + "/ai/run/@cf/ragd/..%2F..%2F..%2Fetc", `{"text":["x"]}`},
		{cf + "/ai-search/instances", `{"id":"kb","embedding_model":"@cf/ragd/../etc"}`},
	} {
		st, b := post(tc.path, tc.body)
		if st != http.StatusBadRequest || !strings.Contains(b, "model") {
			t.Errorf("POST %s %s: %d %s, want 400 naming the model", tc.path, tc.body, st, b)
		}
	}
	// A missing model: the same 404 for a name that exists outside the
	// models directory ("etc") and one that exists nowhere.
	st1, b1 := post("/v1/embeddings", `{"model":"etc","input":["x"]}`)
	st2, b2 := post("/v1/embeddings", `{"model":"nowhere","input":["x"]}`)
	if st1 != http.StatusNotFound || st2 != http.StatusNotFound ||
		strings.ReplaceAll(b1, `\"etc\"`, "X") != strings.ReplaceAll(b2, `\"nowhere\"`, "X") {
		t.Fatalf("missing models answer differently:\n%d %s\n%d %s", st1, b1, st2, b2)
	}
	// No index was created by the refused requests.
	if st, b := post("/v1/indexes/a/search", `{"query":"x"}`); st != http.StatusNotFound {
		t.Fatalf("index a exists after a refused create: %d %s", st, b)
	}
}
