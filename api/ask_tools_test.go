package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
	"github.com/ragd/ragd/openaiwire"
)

const askTools = `[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}]`

// TestAskToolCalls: /ask hands tools and tool_choice to the generator;
// its tool calls come back as tool_calls beside the hits, with the
// citations found in their arguments, streamed (on "done") and not.
func TestAskToolCalls(t *testing.T) {
	gen := &scriptGen{calls: []openaiwire.ToolCall{{ID: "call_1", Type: "function", Function: openaiwire.FunctionCall{Name: "lookup", Arguments: `{"q":"knead [1]"}`}}}}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")
	body := map[string]any{"query": "How do I bake bread?", "mode": "bm25", "tools": json.RawMessage(askTools), "tool_choice": "required"}
	var ans struct {
		Answer       string                `json:"answer"`
		ToolCalls    []openaiwire.ToolCall `json:"tool_calls"`
		FinishReason string                `json:"finish_reason"`
		Citations    []struct {
			N     int    `json:"n"`
			DocID string `json:"doc_id"`
		} `json:"citations"`
		Hits []json.RawMessage `json:"hits"`
	}
	e.mustJSON("POST", "/v1/indexes/kw/ask", body, http.StatusOK, &ans)
	if len(ans.ToolCalls) != 1 || ans.ToolCalls[0].Function.Name != "lookup" || ans.ToolCalls[0].Function.Arguments != `{"q":"knead [1]"}` || ans.FinishReason != "tool_calls" {
		t.Fatalf("answer %+v", ans)
	}
	if len(ans.Citations) != 1 || ans.Citations[0].N != 1 || ans.Citations[0].DocID == "" || len(ans.Hits) == 0 {
		t.Fatalf("citations %+v, %d hits", ans.Citations, len(ans.Hits))
	}
	got := gen.requests()[0]
	if len(got.Tools) != 1 || got.Tools[0].Function.Name != "lookup" || got.ToolChoice == nil || got.ToolChoice.Mode != "required" {
		t.Fatalf("generator got tools %+v choice %+v", got.Tools, got.ToolChoice)
	}

	body["stream"] = true
	raw, _ := json.Marshal(body)
	resp, err := http.Post(e.srv.URL+"/v1/indexes/kw/ask", "application/json", strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "event: done") || !strings.Contains(string(b), `"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"knead [1]\"}"}}]`) {
		t.Fatalf("stream %s", b)
	}
}

// TestAskToolsRefusedOrValidated: tools on /ask with the extractive
// generator are a 400 before anything streams; malformed tools are a 400
// invalid_request.
func TestAskToolsRefusedOrValidated(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("kw", "none")
	for _, stream := range []bool{false, true} {
		msg := e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread", "mode": "bm25", "stream": stream, "tools": json.RawMessage(askTools)}, http.StatusBadRequest, "unsupported")
		if !strings.Contains(msg, "tools") || !strings.Contains(msg, "llama.cpp") {
			t.Errorf("stream %v: message %q", stream, msg)
		}
	}
	e.mustJSON("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread", "mode": "bm25", "tools": json.RawMessage(askTools), "tool_choice": "none"}, http.StatusOK, nil)
	for _, bad := range []map[string]any{
		{"query": "bread", "tools": json.RawMessage(`[{"type":"function","function":{"name":"has space"}}]`)},
		{"query": "bread", "tool_choice": "required"},
		{"query": "bread", "tools": json.RawMessage(askTools), "tool_choice": json.RawMessage(`{"type":"function","function":{"name":"g"}}`)},
	} {
		e.wantError("POST", "/v1/indexes/kw/ask", bad, http.StatusBadRequest, "invalid_request")
	}
}
