package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// acceptanceDocs is a small corpus where the question's top passages are
// clear but not the only ones matching.
var acceptanceDocs = map[string]string{
	"bread.md":  "# Bread\n\nTo bake bread, knead the dough and bake the loaf in a hot oven for forty minutes.\n\n## Sourdough\n\nA sourdough starter replaces commercial yeast; feed it flour and water.\n",
	"oven.txt":  "A hot oven browns the crust. Preheat the oven before you bake anything.",
	"tea.txt":   "Green tea is brewed with water below boiling, never in an oven. Steep the leaves for two minutes.",
	"stock.txt": "The stock market fell today as investors sold shares of bakeries and banks.",
}

// The same question through every front end gets the same hits and the
// same answer: the CLI (ragd search / ragd ask, in-process), /v1 search,
// /v1 ask (whole and streamed), /v1/chat/completions over the index
// (ragd's "index" extension, whole and streamed), and AI Search's search and its
// OpenAI-shaped chat completions over the same index. The generator is
// the extractive one (deterministic) and retrieval is BM25 (no model), so
// any difference comes from a front end. The hybrid case adds use-lite,
// a deterministic embedder: the query is embedded once per front end (by
// the service, or by AI Search for its instance) and fused with BM25.
func TestSameHitsAndAnswerFromEveryFrontEnd(t *testing.T) {
	t.Run("keyword", func(t *testing.T) {
		cliEnv(t)
		sameEverywhere(t, "keyword", nil)
	})
	t.Run("hybrid", func(t *testing.T) {
		cliEnv(t)
		t.Setenv("RAGD_NODE_DIR", useLiteNodeDir(t))
		t.Setenv("RAGD_MODEL", "use-lite")
		sameEverywhere(t, "hybrid", map[string]any{"embedding_model": "@cf/ragd/use-lite"})
	})
}

func sameEverywhere(t *testing.T, retrieval string, instance map[string]any) {
	const (
		question = "How long do I bake bread in a hot oven?"
		topK     = 3
	)
	ctx, cancel := context.WithCancel(context.Background())
	base, exited, _, stderr := startServe(t, ctx, "--addr", "127.0.0.1:0", "--warm=false")
	do := func(method, path, contentType string, body io.Reader) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	postJSON := func(path string, v any) []byte {
		t.Helper()
		b, _ := json.Marshal(v)
		return do("POST", path, "application/json", bytes.NewReader(b))
	}
	ais := "/client/v4/accounts/acct/ai-search"
	// The documents arrive as AI Search items: one index for everyone.
	inst := map[string]any{"id": "kb"}
	for k, v := range instance {
		inst[k] = v
	}
	postJSON(ais+"/instances", inst)
	for name, text := range acceptanceDocs {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(text))
		mw.WriteField("wait_for_completion", "true")
		mw.Close()
		do("POST", ais+"/namespaces/default/instances/kb/items", mw.FormDataContentType(), &body)
	}

	type hit struct {
		DocID   string `json:"doc_id"`
		ChunkID string `json:"chunk_id"`
	}
	chunkIDs := func(hs []hit) []string {
		out := make([]string, len(hs))
		for i, h := range hs {
			out[i] = h.ChunkID
		}
		return out
	}
	got := map[string][]string{} // front end -> chunk ids
	answers := map[string]string{}

	// /v1 search.
	var v1Search struct{ Hits []hit }
	json.Unmarshal(postJSON("/v1/indexes/kb/search", map[string]any{"query": question, "top_k": topK}), &v1Search)
	got["/v1 search"] = chunkIDs(v1Search.Hits)
	// The default mode is hybrid exactly when the index has a model.
	var explained struct {
		Hits []struct {
			Explain struct{ BM25, Vector *struct{ Rank int } }
		}
	}
	json.Unmarshal(postJSON("/v1/indexes/kb/search", map[string]any{"query": question, "top_k": topK, "explain": true}), &explained)
	if len(explained.Hits) == 0 || explained.Hits[0].Explain.BM25 == nil || (explained.Hits[0].Explain.Vector != nil) != (retrieval == "hybrid") {
		t.Fatalf("%s retrieval: explain %+v", retrieval, explained.Hits)
	}

	// /v1 ask, whole.
	askBody := map[string]any{"query": question, "top_k": topK, "max_tokens": 256}
	var v1Ask struct {
		Answer    string
		Hits      []hit
		Citations []struct {
			ChunkID string `json:"chunk_id"`
		}
	}
	json.Unmarshal(postJSON("/v1/indexes/kb/ask", askBody), &v1Ask)
	got["/v1 ask"], answers["/v1 ask"] = chunkIDs(v1Ask.Hits), v1Ask.Answer
	if len(v1Ask.Citations) == 0 {
		t.Fatalf("/v1 ask cites nothing: %+v", v1Ask)
	}

	// /v1 ask, streamed: retrieval hits, then the tokens.
	askBody["stream"] = true
	var streamed strings.Builder
	var streamHits []hit
	event := ""
	for _, line := range strings.Split(string(postJSON("/v1/indexes/kb/ask", askBody)), "\n") {
		if ev, ok := strings.CutPrefix(line, "event: "); ok {
			event = ev
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		switch event {
		case "retrieval":
			var r struct{ Hits []hit }
			json.Unmarshal([]byte(data), &r)
			streamHits = r.Hits
		case "token":
			var tok struct{ Delta string }
			json.Unmarshal([]byte(data), &tok)
			streamed.WriteString(tok.Delta)
		case "error":
			t.Fatalf("stream error: %s", data)
		}
	}
	got["/v1 ask stream"], answers["/v1 ask stream"] = chunkIDs(streamHits), streamed.String()

	// /v1/chat/completions over the index (ragd's "index" extension),
	// whole and streamed: the hits, the citations and the answer of /v1 ask.
	chatBody := map[string]any{"index": "kb", "top_k": topK, "max_tokens": 256,
		"messages": []map[string]string{{"role": "user", "content": question}}}
	var v1Chat struct {
		Object  string
		Choices []struct {
			Message struct{ Content string }
		}
		Hits      []hit
		Citations []struct {
			ChunkID string `json:"chunk_id"`
		}
	}
	json.Unmarshal(postJSON("/v1/chat/completions", chatBody), &v1Chat)
	got["/v1 chat"] = chunkIDs(v1Chat.Hits)
	if v1Chat.Object != "chat.completion" || len(v1Chat.Choices) != 1 {
		t.Fatalf("/v1 chat over the index: %+v", v1Chat)
	}
	answers["/v1 chat"] = v1Chat.Choices[0].Message.Content
	if len(v1Chat.Citations) != len(v1Ask.Citations) {
		t.Errorf("/v1 chat cites %+v, /v1 ask %+v", v1Chat.Citations, v1Ask.Citations)
	}
	for i := range min(len(v1Chat.Citations), len(v1Ask.Citations)) {
		if v1Chat.Citations[i].ChunkID != v1Ask.Citations[i].ChunkID {
			t.Errorf("/v1 chat citation %d: %s, /v1 ask %s", i, v1Chat.Citations[i].ChunkID, v1Ask.Citations[i].ChunkID)
		}
	}
	chatBody["stream"] = true
	var chatStreamed strings.Builder
	var chatStreamHits []hit
	sawDone := false
	for _, line := range strings.Split(string(postJSON("/v1/chat/completions", chatBody)), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			sawDone = true
			break
		}
		var ch struct {
			Choices []struct {
				Delta struct{ Content string }
			}
			Hits  *[]hit
			Error any
		}
		json.Unmarshal([]byte(data), &ch)
		if ch.Error != nil {
			t.Fatalf("/v1 chat stream error: %s", data)
		}
		if ch.Hits != nil {
			chatStreamHits = *ch.Hits
		}
		for _, c := range ch.Choices {
			chatStreamed.WriteString(c.Delta.Content)
		}
	}
	if !sawDone {
		t.Errorf("/v1 chat stream did not end with [DONE]")
	}
	got["/v1 chat stream"], answers["/v1 chat stream"] = chunkIDs(chatStreamHits), chatStreamed.String()

	// AI Search search and chat completions over the same index.
	opts := map[string]any{"retrieval": map[string]any{"max_num_results": topK, "retrieval_type": retrieval}}
	var aiSearch struct {
		Result struct {
			Chunks []struct{ ID string }
		}
	}
	json.Unmarshal(postJSON(ais+"/instances/kb/search", map[string]any{"query": question, "ai_search_options": opts}), &aiSearch)
	for _, c := range aiSearch.Result.Chunks {
		got["AI Search search"] = append(got["AI Search search"], c.ID)
	}
	var aiChat struct {
		Choices []struct {
			Message struct{ Content string }
		}
		Chunks []struct{ ID string }
	}
	json.Unmarshal(postJSON(ais+"/instances/kb/chat/completions", map[string]any{
		"messages": []map[string]string{{"role": "user", "content": question}}, "ai_search_options": opts}), &aiChat)
	for _, c := range aiChat.Chunks {
		got["AI Search chat"] = append(got["AI Search chat"], c.ID)
	}
	if len(aiChat.Choices) == 1 {
		answers["AI Search chat"] = aiChat.Choices[0].Message.Content
	}

	// The CLI needs the data dir the server holds: stop it first.
	cancel()
	if code := <-exited; code != 0 {
		t.Fatalf("serve exit %d: %s", code, stderr.String())
	}
	var cliSearch struct{ Hits []hit }
	ragdJSON(t, &cliSearch, "search", "--index", "kb", "--top-k", "3", "--json", question)
	got["CLI search"] = chunkIDs(cliSearch.Hits)
	var cliAsk struct {
		Answer string
		Hits   []hit
	}
	ragdJSON(t, &cliAsk, "ask", "--index", "kb", "--top-k", "3", "--max-tokens", "256", "--json", question)
	got["CLI ask"], answers["CLI ask"] = chunkIDs(cliAsk.Hits), cliAsk.Answer

	want := got["CLI search"]
	if len(want) != topK || !strings.HasPrefix(want[0], "bread.md#") {
		t.Fatalf("CLI search hits %v: want %d, the bread chunk first", want, topK)
	}
	for fe, ids := range got {
		if !slices.Equal(ids, want) {
			t.Errorf("%s hits %v, CLI search %v", fe, ids, want)
		}
	}
	t.Logf("hits %v\nanswers %q", got, answers)
	wantAns := answers["CLI ask"]
	if !strings.Contains(wantAns, "forty minutes") {
		t.Fatalf("CLI answer %q does not answer", wantAns)
	}
	for _, fe := range []string{"/v1 ask", "/v1 ask stream", "/v1 chat", "/v1 chat stream", "AI Search chat"} {
		if answers[fe] != wantAns {
			t.Errorf("%s answered\n%q\nCLI ask answered\n%q", fe, answers[fe], wantAns)
		}
	}
}
