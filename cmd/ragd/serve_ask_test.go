package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAskCLI(t *testing.T) {
	cliEnv(t)
	corpus := t.TempDir()
	writeFiles(t, corpus, sampleFiles)
	ragdOK(t, "ingest", "--index", "docs", "--quiet", corpus)

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
		Generator struct{ Backend string } `json:"generator"`
	}
	ragdJSON(t, &ans, "ask", "--index", "docs", "--json", "How do I bake bread?")
	if !strings.HasPrefix(ans.Answer, "Extractive answer") || ans.Generator.Backend != "extractive" {
		t.Fatalf("answer %q from %+v", ans.Answer, ans.Generator)
	}
	if len(ans.Citations) == 0 || len(ans.Hits) == 0 {
		t.Fatalf("no citations or hits: %+v", ans)
	}
	hitIDs := map[string]bool{}
	for _, h := range ans.Hits {
		hitIDs[h.DocID] = true
	}
	for _, c := range ans.Citations {
		if !hitIDs[c.DocID] || !strings.HasPrefix(c.ChunkID, c.DocID+"#") {
			t.Fatalf("citation %+v is not one of the retrieved documents %v", c, hitIDs)
		}
	}
	// Streamed text output ends with the sources.
	out := ragdOK(t, "ask", "--index", "docs", "How do I bake bread?")
	if !strings.HasPrefix(out, ans.Answer) || !strings.Contains(out, "Sources:") || !strings.Contains(out, ans.Citations[0].ChunkID) {
		t.Fatalf("ask text output:\n%s\nwant the answer %q and its sources", out, ans.Answer)
	}
	if code, _, errOut := ragd(t, "", "ask", "--index", "docs"); code != 2 || !strings.Contains(errOut, "no question") {
		t.Fatalf("ask without a question: exit %d %q", code, errOut)
	}
	if code, _, _ := ragd(t, "", "generate", "hello"); code != 2 {
		t.Fatalf("generate without a GGUF model: exit %d", code)
	}
}

func TestServeCommand(t *testing.T) {
	cliEnv(t)
	corpus := t.TempDir()
	writeFiles(t, corpus, sampleFiles)
	ragdOK(t, "ingest", "--index", "docs", "--quiet", corpus)

	if code, _, errOut := ragd(t, "", "serve", "--addr", "0.0.0.0:0"); code != 2 || !strings.Contains(errOut, "non-loopback") {
		t.Fatalf("serve on 0.0.0.0 without --open: exit %d %q", code, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, exited, stdout, stderr := startServe(t, ctx, "--addr", "127.0.0.1:0")

	get := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if st, b := get("GET", "/healthz", ""); st != 200 || !strings.Contains(string(b), version) {
		t.Fatalf("healthz %d %s", st, b)
	}
	st, b := get("POST", "/v1/indexes/docs/search", `{"query":"mail carrier","top_k":1}`)
	var res searchOut
	if st != 200 || json.Unmarshal(b, &res) != nil || len(res.Hits) != 1 || res.Hits[0].DocID != "j1" {
		t.Fatalf("search through serve: %d %s", st, b)
	}
	st, b = get("POST", "/v1/indexes/docs/ask", `{"query":"How do I bake bread?"}`)
	if st != 200 || !strings.Contains(string(b), "Extractive answer") {
		t.Fatalf("ask through serve: %d %s", st, b)
	}
	st, b = get("GET", "/v1/models", "")
	if st != 200 || !strings.Contains(string(b), `"extractive"`) {
		t.Fatalf("models through serve: %d %s", st, b)
	}

	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exit %d after cancel: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if !strings.Contains(stdout.String(), "shut down") {
		t.Fatalf("no shutdown message: %q", stdout.String())
	}
	// The data dir is closed cleanly: a new command can open it.
	ragdOK(t, "check", "--index", "docs")
}

// startServe runs `ragd serve ARGS` in-process until ctx ends and returns
// its base URL (from the "serving on" line), its exit code's channel and
// its output.
func startServe(t *testing.T, ctx context.Context, args ...string) (base string, exited chan int, stdout, stderr *syncBuffer) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	exited = make(chan int, 1)
	go func() {
		exited <- runMain(ctx, append([]string{"serve"}, args...), strings.NewReader(""), stdout, stderr)
	}()
	addrRE := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if m := addrRE.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], exited, stdout, stderr
		}
		select {
		case code := <-exited:
			t.Fatalf("serve exited with %d: %s %s", code, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %q %q", stdout.String(), stderr.String())
		}
	}
}
