package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ragd/ragd/api"
)

const pointSchema = `{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`

// TestResponseFormatExtractiveRefused: the extractive generator cannot
// write JSON, so chat and ask with a JSON response_format are a 400 that
// says what is missing; a malformed response_format is a 400 too.
func TestResponseFormatExtractiveRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("kw", "none")
	msgs := []map[string]string{{"role": "user", "content": "hi"}}
	for _, rf := range []string{`{"type":"json_object"}`, `{"type":"json_schema","json_schema":{"name":"p","schema":` + pointSchema + `}}`} {
		msg := e.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "response_format": json.RawMessage(rf)}, http.StatusBadRequest, "unsupported")
		if !strings.Contains(msg, "response_format") || !strings.Contains(msg, "llama.cpp") {
			t.Errorf("chat %s: message %q does not name what is missing", rf, msg)
		}
		msg = e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread", "mode": "bm25", "response_format": json.RawMessage(rf)}, http.StatusBadRequest, "unsupported")
		if !strings.Contains(msg, "response_format") {
			t.Errorf("ask %s: message %q", rf, msg)
		}
	}
	// "text" is plain output: accepted by every generator.
	e.mustJSON("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "response_format": map[string]string{"type": "text"}}, http.StatusOK, nil)
	for _, bad := range []string{`{"type":"yaml"}`, `{}`, `{"type":"json_schema"}`, `{"type":"json_schema","json_schema":{"name":"x","schema":[1]}}`} {
		e.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "response_format": json.RawMessage(bad)}, http.StatusBadRequest, "invalid_request")
		e.wantError("POST", "/v1/indexes/kw/ask", map[string]any{"query": "bread", "response_format": json.RawMessage(bad)}, http.StatusBadRequest, "invalid_request")
	}
}

// TestResponseFormatReachesGenerator: chat and ask hand response_format to
// the generator; the JSON answer of ask still carries its citations, and
// its system prompt asks for JSON following the schema.
func TestResponseFormatReachesGenerator(t *testing.T) {
	gen := &scriptGen{tokens: []string{`{"answer":`, `"Knead it [1]"}`}}
	e := newEnv(t, func(c *api.Config) { c.Generator = gen })
	e.seed("kw", "none")
	rf := json.RawMessage(`{"type":"json_schema","json_schema":{"name":"p","schema":` + pointSchema + `,"strict":true}}`)
	var chat struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	e.mustJSON("POST", "/v1/chat/completions", map[string]any{"messages": []map[string]string{{"role": "user", "content": "hi"}}, "response_format": rf}, http.StatusOK, &chat)
	got := gen.requests()[0].ResponseFormat
	if got == nil || got.Type != "json_schema" || got.JSONSchema == nil || got.JSONSchema.Name != "p" || !strings.Contains(string(got.JSONSchema.Schema), `"answer"`) {
		t.Fatalf("chat: generator got response_format %+v", got)
	}
	if len(chat.Choices) != 1 || !json.Valid([]byte(chat.Choices[0].Message.Content)) {
		t.Fatalf("chat reply %+v", chat)
	}

	var ans struct {
		Answer    string `json:"answer"`
		Citations []struct {
			N int `json:"n"`
		} `json:"citations"`
	}
	e.mustJSON("POST", "/v1/indexes/kw/ask", map[string]any{"query": "How do I bake bread?", "mode": "bm25", "response_format": rf}, http.StatusOK, &ans)
	var doc struct{ Answer string }
	if err := json.Unmarshal([]byte(ans.Answer), &doc); err != nil || doc.Answer != "Knead it [1]" {
		t.Fatalf("ask answer %q is not the JSON document (%v)", ans.Answer, err)
	}
	if len(ans.Citations) != 1 || ans.Citations[0].N != 1 {
		t.Fatalf("ask citations %+v", ans.Citations)
	}
	reqs := gen.requests()
	last := reqs[len(reqs)-1]
	if last.ResponseFormat == nil || last.ResponseFormat.Type != "json_schema" {
		t.Fatalf("ask: generator got response_format %+v", last.ResponseFormat)
	}
	if sys := last.Messages[0].Content; !strings.Contains(sys, "JSON") || !strings.Contains(sys, `"required":["answer"]`) {
		t.Fatalf("ask system prompt does not ask for the schema: %q", sys)
	}
}

// TestToolsRefusedOrValidated: tools with the extractive generator are a
// 400 naming what is needed; malformed tools are a 400 invalid_request;
// tool_choice "none" is plain generation.
func TestToolsRefusedOrValidated(t *testing.T) {
	e := newEnv(t, nil)
	msgs := []map[string]string{{"role": "user", "content": "hi"}}
	tools := json.RawMessage(`[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]`)
	msg := e.wantError("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "tools": tools}, http.StatusBadRequest, "unsupported")
	if !strings.Contains(msg, "tools") || !strings.Contains(msg, "llama.cpp") {
		t.Errorf("message %q", msg)
	}
	e.mustJSON("POST", "/v1/chat/completions", map[string]any{"messages": msgs, "tools": tools, "tool_choice": "none"}, http.StatusOK, nil)
	for _, bad := range []map[string]any{
		{"messages": msgs, "tools": json.RawMessage(`[{"type":"function","function":{"name":"has space"}}]`)},
		{"messages": msgs, "tools": json.RawMessage(`[{"type":"retrieval"}]`)},
		{"messages": msgs, "tools": tools, "tool_choice": json.RawMessage(`{"type":"function","function":{"name":"g"}}`)},
		{"messages": msgs, "tools": tools, "tool_choice": "sometimes"},
		{"messages": msgs, "tool_choice": "required"},
	} {
		e.wantError("POST", "/v1/chat/completions", bad, http.StatusBadRequest, "invalid_request")
	}
}
