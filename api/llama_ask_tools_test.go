package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ragd/ragd/generate/grammar"
	"github.com/ragd/ragd/openaiwire"
)

// TestAskToolCallsWithLlama: /v1/indexes/{name}/ask with tools and a
// forced tool_choice on llama.cpp answers with one tool call whose
// arguments follow the tool's parameters, beside the retrieved hits.
func TestAskToolCallsWithLlama(t *testing.T) {
	ts, _ := tinyLlamaServer(t)
	post := func(path, body string) []byte {
		t.Helper()
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, b)
		}
		return b
	}
	post("/v1/indexes", `{"name":"kw","model":"none"}`)
	post("/v1/indexes/kw/documents", `{"documents":[{"id":"bread","text":"Knead the dough and bake the bread for forty minutes."},{"id":"stock","text":"The stock market fell today."}]}`)
	params := `{"type":"object","properties":{"q":{"type":"string","maxLength":8},"n":{"type":"integer"}},"required":["q","n"]}`
	s, err := grammar.Parse([]byte(params))
	if err != nil {
		t.Fatal(err)
	}
	b := post("/v1/indexes/kw/ask", `{"query":"bake bread","mode":"bm25","max_tokens":200,"seed":5,
		"tools":[{"type":"function","function":{"name":"search","parameters":`+params+`}},{"type":"function","function":{"name":"noop"}}],
		"tool_choice":{"type":"function","function":{"name":"search"}}}`)
	var ans struct {
		ToolCalls    []openaiwire.ToolCall `json:"tool_calls"`
		FinishReason string                `json:"finish_reason"`
		Citations    []json.RawMessage     `json:"citations"`
		Hits         []struct {
			DocID string `json:"doc_id"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	if len(ans.ToolCalls) != 1 || ans.ToolCalls[0].Function.Name != "search" || ans.FinishReason != "tool_calls" {
		t.Fatalf("answer %s", b)
	}
	if err := s.Validate([]byte(ans.ToolCalls[0].Function.Arguments)); err != nil {
		t.Fatalf("arguments %q: %v", ans.ToolCalls[0].Function.Arguments, err)
	}
	if len(ans.Hits) == 0 || ans.Hits[0].DocID != "bread" || ans.Citations == nil {
		t.Fatalf("hits %+v citations %v", ans.Hits, ans.Citations)
	}
}
