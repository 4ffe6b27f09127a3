//go:build weaviate

package main

// End-to-end checks of the Weaviate backend through the CLI; they need a
// running Weaviate and are run by scripts/weaviate/test.sh with -tags
// weaviate (which starts one).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func weaviateEnv(t *testing.T) {
	t.Helper()
	url := os.Getenv("RAGD_WEAVIATE_URL")
	if url == "" {
		t.Fatal("RAGD_WEAVIATE_URL is not set: run scripts/weaviate/test.sh")
	}
	t.Setenv("RAGD_LOG_LEVEL", "warn")
	t.Setenv("RAGD_DATA_DIR", t.TempDir())
}

func ragdRun(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), args, nil, &out, &errb); code != 0 {
		t.Fatalf("ragd %s exited %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// TestWeaviateCLI ingests with the embedded backend, copies the index over
// with `reindex --to weaviate`, then searches and ingests more with
// --backend weaviate.
func TestWeaviateCLI(t *testing.T) {
	weaviateEnv(t)
	docs := t.TempDir()
	for name, text := range map[string]string{
		"pumps.md":   "# Pumps\n\nA centrifugal pump moves fluid by rotating an impeller.",
		"gears.txt":  "Planetary gear sets spread the load over several planet gears.",
		"valves.txt": "A butterfly valve regulates flow with a rotating disc.",
	} {
		if err := os.WriteFile(filepath.Join(docs, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	name := fmt.Sprintf("cli%d", time.Now().UnixNano())
	ragdRun(t, "ingest", "--index", name, "--quiet", docs)
	out := ragdRun(t, "reindex", "--to", "weaviate", "--index", name)
	if !strings.Contains(out, "3 documents") {
		t.Errorf("reindex --to weaviate said %q", out)
	}
	t.Setenv("RAGD_BACKEND", "weaviate")
	t.Cleanup(func() { ragdRun(t, "indexes", "drop", name) })
	// Copying again is a no-op: every document is unchanged.
	t.Setenv("RAGD_BACKEND", "embedded")
	if out := ragdRun(t, "reindex", "--to", "weaviate", "--index", name); !strings.Contains(out, "0 documents, 0 chunks, 3 unchanged") {
		t.Errorf("second copy said %q", out)
	}
	t.Setenv("RAGD_BACKEND", "weaviate")
	for mode, query := range map[string]string{"bm25": "impeller", "vector": "device that moves liquid by spinning", "hybrid": "centrifugal pump"} {
		out := ragdRun(t, "search", "--index", name, "--mode", mode, "--json", query)
		var res struct {
			Hits []struct {
				DocID string `json:"doc_id"`
			} `json:"hits"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("search --json: %v\n%s", err, out)
		}
		if len(res.Hits) == 0 || !strings.HasSuffix(res.Hits[0].DocID, "pumps.md") {
			t.Errorf("%s search %q on weaviate: %+v", mode, query, res.Hits)
		}
	}
	// Ingest straight into Weaviate.
	more := filepath.Join(t.TempDir(), "bearings.txt")
	if err := os.WriteFile(more, []byte("Roller bearings carry radial loads with cylindrical rollers."), 0o644); err != nil {
		t.Fatal(err)
	}
	ragdRun(t, "ingest", "--index", name, "--quiet", more)
	if out := ragdRun(t, "search", "--index", name, "--mode", "bm25", "cylindrical rollers"); !strings.Contains(out, "bearings.txt") {
		t.Errorf("document ingested into weaviate not found:\n%s", out)
	}
	// Embedded-only commands say so.
	var errb bytes.Buffer
	if code := runMain(context.Background(), []string{"check"}, nil, &bytes.Buffer{}, &errb); code == 0 || !strings.Contains(errb.String(), "embedded backend only") {
		t.Errorf("check on weaviate: exit %d, %q", code, errb.String())
	}
}

// TestWeaviateCranfieldVectorParity: vector-mode nDCG@10 on Cranfield from
// the Weaviate backend matches the embedded backend's within 0.01.
func TestWeaviateCranfieldVectorParity(t *testing.T) {
	weaviateEnv(t)
	cran := filepath.Join(qgSharedDir(t), "datasets", "cranfield")
	if _, err := os.Stat(filepath.Join(cran, "cran.all.1400")); err != nil {
		t.Fatalf("Cranfield collection not present at %s", cran)
	}
	ndcg := map[string]float64{}
	for _, backend := range []string{"embedded", "weaviate"} {
		t.Setenv("RAGD_BACKEND", backend)
		out := ragdRun(t, "eval", "--format", "cranfield", "--path", cran, "--mode", "vector", "--json")
		var rep struct {
			Runs []struct {
				Mode string  `json:"mode"`
				NDCG float64 `json:"ndcg_at_10"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Runs) != 1 {
			t.Fatalf("eval output: %v\n%s", err, out)
		}
		ndcg[backend] = rep.Runs[0].NDCG
	}
	t.Logf("Cranfield vector nDCG@10: embedded %.4f, weaviate %.4f", ndcg["embedded"], ndcg["weaviate"])
	if d := math.Abs(ndcg["embedded"] - ndcg["weaviate"]); d > 0.01 {
		t.Errorf("vector nDCG@10 differs by %.4f (embedded %.4f, weaviate %.4f)", d, ndcg["embedded"], ndcg["weaviate"])
	}
	if ndcg["weaviate"] < 0.1 {
		t.Errorf("weaviate vector nDCG@10 %.4f is implausibly low", ndcg["weaviate"])
	}
}

// TestWeaviateReplicasShareState: two `ragd serve --backend weaviate`
// processes (here in one test process, each with its own data folder)
// share the Cloudflare-compatible API's bookkeeping through the cluster:
// an AI Search namespace and instance made on one are served by the other,
// and a deletion on the other is seen by the first.
func TestWeaviateReplicasShareState(t *testing.T) {
	weaviateEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, exitA, _, _ := startServe(t, ctx, "--backend", "weaviate", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--model", "none")
	b, exitB, _, _ := startServe(t, ctx, "--backend", "weaviate", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--model", "none")
	call := func(base, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/client/v4/accounts/acc"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	ns := fmt.Sprintf("rep%d", time.Now().UnixNano())
	if st, out := call(b, "GET", "/ai-search/namespaces", ""); st != 200 || strings.Contains(out, ns) {
		t.Fatalf("b before: %d %s", st, out)
	}
	if st, out := call(a, "POST", "/ai-search/namespaces", `{"name":"`+ns+`"}`); st != 200 {
		t.Fatalf("create namespace on a: %d %s", st, out)
	}
	if st, out := call(b, "GET", "/ai-search/namespaces", ""); st != 200 || !strings.Contains(out, `"`+ns+`"`) {
		t.Fatalf("b does not list a's namespace: %d %s", st, out)
	}
	if st, out := call(b, "POST", "/ai-search/namespaces/"+ns+"/instances", `{"id":"kb"}`); st != 200 {
		t.Fatalf("create instance on b: %d %s", st, out)
	}
	if st, out := call(a, "GET", "/ai-search/namespaces/"+ns+"/instances/kb", ""); st != 200 || !strings.Contains(out, `"kb"`) {
		t.Fatalf("a does not serve b's instance: %d %s", st, out)
	}
	if st, out := call(b, "DELETE", "/ai-search/namespaces/"+ns+"/instances/kb", ""); st != 200 {
		t.Fatalf("delete instance on b: %d %s", st, out)
	}
	if st, out := call(a, "DELETE", "/ai-search/namespaces/"+ns, ""); st != 200 {
		t.Fatalf("a deletes the namespace b emptied: %d %s", st, out)
	}
	cancel()
	for _, ch := range []chan int{exitA, exitB} {
		if code := <-ch; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}
}
