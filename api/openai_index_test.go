package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
)

// chatIndexResponse is a chat completion over an index: OpenAI's shape
// plus ragd's citations and hits.
type chatIndexResponse struct {
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Role, Content string
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Citations []struct {
		N       int    `json:"n"`
		DocID   string `json:"doc_id"`
		ChunkID string `json:"chunk_id"`
	} `json:"citations"`
	Hits []struct {
		DocID   string `json:"doc_id"`
		ChunkID string `json:"chunk_id"`
	} `json:"hits"`
}

// /v1/chat/completions with ragd's "index" extension answers the last user
// message through the retrieval service: the same hits and answer as
// /v1/indexes/{name}/ask, in OpenAI's chat.completion shape with the
// citations and hits added; streamed, the first chunk carries the hits and
// the finishing chunk the citations.
func TestChatCompletionsOverIndex(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("kw", "none")
	const question = "How do I bake bread?"
	var ask struct {
		Answer    string `json:"answer"`
		Citations []struct {
			ChunkID string `json:"chunk_id"`
		} `json:"citations"`
		Hits []struct {
			ChunkID string `json:"chunk_id"`
		} `json:"hits"`
	}
	e.mustJSON("POST", "/v1/indexes/kw/ask", map[string]any{"query": question, "top_k": 2, "mode": "bm25", "max_tokens": 128}, http.StatusOK, &ask)
	var askHits, askCites []string
	for _, h := range ask.Hits {
		askHits = append(askHits, h.ChunkID)
	}
	for _, c := range ask.Citations {
		askCites = append(askCites, c.ChunkID)
	}
	if len(askHits) != 2 || len(askCites) == 0 {
		t.Fatalf("/v1 ask: %+v", ask)
	}

	msgs := []map[string]string{
		{"role": "system", "content": "Answer in one line."},
		{"role": "user", "content": "Tell me about cats."},
		{"role": "assistant", "content": "Cats purr."},
		{"role": "user", "content": question},
	}
	body := map[string]any{"messages": msgs, "index": "kw", "top_k": 2, "mode": "bm25", "max_tokens": 128}
	var r chatIndexResponse
	e.mustJSON("POST", "/v1/chat/completions", body, http.StatusOK, &r)
	if r.Object != "chat.completion" || len(r.Choices) != 1 || r.Choices[0].Message.Role != "assistant" || r.Choices[0].FinishReason == "" {
		t.Fatalf("not a chat.completion: %+v", r)
	}
	var hits, cites []string
	for _, h := range r.Hits {
		hits = append(hits, h.ChunkID)
	}
	for _, c := range r.Citations {
		cites = append(cites, c.ChunkID)
	}
	if r.Choices[0].Message.Content != ask.Answer || !slices.Equal(hits, askHits) || !slices.Equal(cites, askCites) {
		t.Fatalf("chat over the index answered %q from %v citing %v; /v1 ask %q from %v citing %v",
			r.Choices[0].Message.Content, hits, cites, ask.Answer, askHits, askCites)
	}

	// A filter narrows retrieval as on /v1 search.
	var filtered chatIndexResponse
	e.mustJSON("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "index": "kw", "mode": "bm25",
		"filter": map[string]any{"lang": "fr"}}, http.StatusOK, &filtered)
	if len(filtered.Hits) != 1 || filtered.Hits[0].DocID != "sourdough" {
		t.Fatalf("filter lang=fr: hits %+v", filtered.Hits)
	}

	// Streamed.
	body["stream"] = true
	resp := postStream(t, context.Background(), e.srv.Client(), e.srv.URL+"/v1/chat/completions", body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream status %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	evs := readSSE(t, resp.Body, nil)
	if len(evs) < 2 || evs[len(evs)-1].Data != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %+v", evs)
	}
	var content strings.Builder
	var streamHits, streamCites []string
	sawHits, sawCites := 0, 0
	for i, ev := range evs[:len(evs)-1] {
		if ev.Name != "" {
			t.Fatalf("chunk %d has event name %q (OpenAI streams are data-only)", i, ev.Name)
		}
		var ch struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta        struct{ Role, Content string } `json:"delta"`
				FinishReason *string                        `json:"finish_reason"`
			} `json:"choices"`
			Hits *[]struct {
				ChunkID string `json:"chunk_id"`
			} `json:"hits"`
			Citations *[]struct {
				ChunkID string `json:"chunk_id"`
			} `json:"citations"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &ch); err != nil {
			t.Fatalf("chunk %d %q: %v", i, ev.Data, err)
		}
		if ch.Object != "chat.completion.chunk" || len(ch.Choices) != 1 {
			t.Fatalf("chunk %d: %s", i, ev.Data)
		}
		content.WriteString(ch.Choices[0].Delta.Content)
		if ch.Hits != nil {
			if i != 0 || ch.Choices[0].Delta.Role != "assistant" {
				t.Fatalf("hits on chunk %d, want the first: %s", i, ev.Data)
			}
			sawHits++
			for _, h := range *ch.Hits {
				streamHits = append(streamHits, h.ChunkID)
			}
		}
		if ch.Citations != nil {
			if ch.Choices[0].FinishReason == nil {
				t.Fatalf("citations on chunk %d without the finish reason: %s", i, ev.Data)
			}
			sawCites++
			for _, c := range *ch.Citations {
				streamCites = append(streamCites, c.ChunkID)
			}
		}
	}
	if content.String() != ask.Answer || sawHits != 1 || sawCites != 1 || !slices.Equal(streamHits, askHits) || !slices.Equal(streamCites, askCites) {
		t.Fatalf("streamed %q hits %v (%d chunks) citations %v (%d chunks); want %q %v %v",
			content.String(), streamHits, sawHits, streamCites, sawCites, ask.Answer, askHits, askCites)
	}

	// Plain chat (no index) has none of the extension's fields.
	_, out, _ := e.do("POST", "/v1/chat/completions", map[string]any{"messages": msgs})
	var plain map[string]json.RawMessage
	if err := json.Unmarshal(out, &plain); err != nil || plain["choices"] == nil || plain["hits"] != nil || plain["citations"] != nil {
		t.Fatalf("plain chat body %s", out)
	}
}

// The chat over an index sends the last user message as the question and
// the system messages as added instructions; earlier turns stay out of
// the prompt.
func TestChatCompletionsOverIndexPrompt(t *testing.T) {
	gen := &scriptGen{tokens: []string{"Knead", " it."}}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")
	msgs := []map[string]string{
		{"role": "system", "content": "Answer like a pirate."},
		{"role": "user", "content": "Tell me about felines."},
		{"role": "assistant", "content": "They purr."},
		{"role": "user", "content": "How do I bake bread?"},
	}
	var r chatIndexResponse
	e.mustJSON("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "index": "kw", "top_k": 1}, http.StatusOK, &r)
	if len(r.Choices) != 1 || r.Choices[0].Message.Content != "Knead it." || len(r.Hits) != 1 || r.Hits[0].DocID != "bread" {
		t.Fatalf("response %+v", r)
	}
	reqs := gen.requests()
	if len(reqs) != 1 {
		t.Fatalf("generator ran %d times", len(reqs))
	}
	var system, user string
	for _, m := range reqs[0].Messages {
		switch m.Role {
		case "system":
			system += m.Content
		case "user":
			user += m.Content
		}
	}
	if !strings.Contains(system, "Answer like a pirate.") || !strings.Contains(user, "How do I bake bread?") ||
		strings.Contains(user, "felines") || !strings.Contains(user, "knead the dough") && !strings.Contains(user, "Knead the dough") {
		t.Fatalf("prompt: system %q user %q", system, user)
	}
}

// Errors of a chat over an index come from the one error table, streamed
// or not, before anything reaches the generator.
func TestChatCompletionsOverIndexErrors(t *testing.T) {
	gen := &scriptGen{tokens: []string{"x"}}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")
	msgs := []map[string]string{{"role": "user", "content": "bread"}}
	for _, stream := range []bool{false, true} {
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			code   string
		}{
			{"unknown index", map[string]any{"messages": msgs, "index": "nope"}, http.StatusNotFound, "not_found"},
			{"negative top_k", map[string]any{"messages": msgs, "index": "kw", "top_k": -1}, http.StatusBadRequest, "invalid_request"},
			{"top_k over the limit", map[string]any{"messages": msgs, "index": "kw", "top_k": 1000000}, http.StatusBadRequest, "invalid_request"},
			{"bad mode", map[string]any{"messages": msgs, "index": "kw", "mode": "nope"}, http.StatusBadRequest, "invalid_request"},
			{"bad filter", map[string]any{"messages": msgs, "index": "kw", "filter": map[string]any{"year": map[string]any{"$nope": 1}}}, http.StatusBadRequest, "invalid_request"},
			{"mode without index", map[string]any{"messages": msgs, "mode": "bm25"}, http.StatusBadRequest, "invalid_request"},
			{"filter without index", map[string]any{"messages": msgs, "filter": map[string]any{"lang": "en"}}, http.StatusBadRequest, "invalid_request"},
			{"no user message", map[string]any{"messages": []map[string]string{{"role": "system", "content": "hi"}}, "index": "kw"}, http.StatusBadRequest, "invalid_request"},
			{"tools with index", map[string]any{"messages": msgs, "index": "kw", "tool_choice": "required",
				"tools": []map[string]any{{"type": "function", "function": map[string]any{"name": "f", "parameters": map[string]any{"type": "object"}}}}},
				http.StatusBadRequest, "unsupported"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.t = t
				tc.body["stream"] = stream
				e.wantError("POST", "/v1/chat/completions", tc.body, tc.status, tc.code)
			})
		}
	}
	e.t = t
	if n := len(gen.requests()); n != 0 {
		t.Fatalf("generator ran %d times for bad requests", n)
	}
	none := newEnv(t, func(c *api.Config) { c.Generator = nil })
	none.seed("kw", "none")
	none.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "index": "kw"}, http.StatusServiceUnavailable, "unavailable")
}

// A generation failure after the first chunk ends a chat stream over an
// index with one error chunk and no [DONE], as plain chat does.
func TestChatCompletionsOverIndexStreamError(t *testing.T) {
	gen := &scriptGen{tokens: []string{"a", "b", "c"}, failAfter: 1}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")
	resp := postStream(t, context.Background(), e.srv.Client(), e.srv.URL+"/v1/chat/completions",
		map[string]any{"messages": []map[string]string{{"role": "user", "content": "bread"}}, "index": "kw", "stream": true})
	defer resp.Body.Close()
	evs := readSSE(t, resp.Body, nil)
	if len(evs) != 2 {
		t.Fatalf("events %+v, want one content chunk (with the hits) and one error chunk", evs)
	}
	var first struct {
		Hits []struct {
			DocID string `json:"doc_id"`
		} `json:"hits"`
	}
	if err := json.Unmarshal([]byte(evs[0].Data), &first); err != nil || len(first.Hits) == 0 {
		t.Fatalf("first chunk %q: %v", evs[0].Data, err)
	}
	var errChunk struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(evs[1].Data), &errChunk); err != nil || !strings.Contains(errChunk.Error.Message, "backend exploded") || errChunk.Error.Type != "upstream_error" {
		t.Fatalf("error chunk %q: %v", evs[1].Data, err)
	}
}

// response_format on chat over an index reaches the generator (a JSON
// answer that still carries citations), as on /v1/indexes/{name}/ask.
func TestChatCompletionsOverIndexResponseFormat(t *testing.T) {
	gen := &scriptGen{tokens: []string{`{"a":1}`}}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")
	var resp struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	e.mustJSON("POST", "/v1/chat/completions", map[string]any{"index": "kw", "response_format": map[string]any{"type": "json_object"},
		"messages": []map[string]string{{"role": "user", "content": "bread"}}}, http.StatusOK, &resp)
	reqs := gen.requests()
	if len(reqs) != 1 || reqs[0].ResponseFormat == nil || reqs[0].ResponseFormat.Type != "json_object" {
		t.Fatalf("the generator did not get response_format: %+v", reqs)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].Message.Content != `{"a":1}` {
		t.Fatalf("answer: %+v", resp)
	}
}
