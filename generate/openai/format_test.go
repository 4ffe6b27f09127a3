package openai

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
)

// TestResponseFormatPassedThrough: response_format reaches the upstream
// chat and completions endpoints in OpenAI's shape, with the name OpenAI
// requires filled in when missing; plain requests send none.
func TestResponseFormatPassedThrough(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		sseHeaders(w)
		send(w, chunk(`{"a":1}`))
		send(w, "data: [DONE]\n\n")
	})
	c := testClient(t, u.URL, nil)
	rf := &openaiwire.ResponseFormat{Type: "json_schema", JSONSchema: &openaiwire.JSONSchema{Schema: json.RawMessage(`{"type":"object"}`)}}
	for _, req := range []generate.Request{
		{Messages: []generate.Message{{Role: "user", Content: "x"}}, ResponseFormat: rf},
		{Prompt: "x", ResponseFormat: rf},
	} {
		if err := c.Generate(context.Background(), req, func(generate.Event) error { return nil }); err != nil {
			t.Fatal(err)
		}
		body := u.last.Load().(map[string]any)
		got, _ := json.Marshal(body["response_format"])
		if string(got) != `{"json_schema":{"name":"response","schema":{"type":"object"}},"type":"json_schema"}` {
			t.Fatalf("%s: upstream got response_format %s", u.path.Load(), got)
		}
	}
	if rf.JSONSchema.Name != "" {
		t.Fatal("the caller's format was modified")
	}
	if err := c.Generate(context.Background(), generate.Request{Prompt: "x"}, func(generate.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok := u.last.Load().(map[string]any)["response_format"]; ok {
		t.Fatal("a plain request sent response_format")
	}
}

// TestToolCallsPassedThrough: tools, tool_choice and tool turns reach the
// upstream; tool-call deltas split across chunks come back as one call on
// the done event with finish reason "tool_calls".
func TestToolCallsPassedThrough(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		sseHeaders(w)
		send(w, `data: {"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"get","arguments":""}}]},"finish_reason":null}]}`+"\n\n")
		send(w, `data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]},"finish_reason":null}]}`+"\n\n")
		send(w, `data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"x\"}"}}]},"finish_reason":"tool_calls"}]}`+"\n\n")
		send(w, "data: [DONE]\n\n")
	})
	c := testClient(t, u.URL, nil)
	req := generate.Request{
		Messages: []generate.Message{{Role: "user", Content: "x"},
			{Role: "assistant", ToolCalls: []openaiwire.ToolCall{{ID: "call_1", Type: "function", Function: openaiwire.FunctionCall{Name: "get", Arguments: `{}`}}}},
			{Role: "tool", ToolCallID: "call_1", Content: "r"}},
		Tools:      []openaiwire.Tool{{Type: "function", Function: openaiwire.FunctionDef{Name: "get", Parameters: json.RawMessage(`{"type":"object"}`)}}},
		ToolChoice: &openaiwire.ToolChoice{Mode: openaiwire.ToolChoiceRequired},
	}
	var done generate.Event
	text := ""
	if err := c.Generate(context.Background(), req, func(ev generate.Event) error {
		text += ev.Delta
		if ev.Type == generate.EventDone {
			done = ev
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if text != "" || done.FinishReason != "tool_calls" || len(done.ToolCalls) != 1 || done.ToolCalls[0].ID != "call_9" ||
		done.ToolCalls[0].Function.Name != "get" || done.ToolCalls[0].Function.Arguments != `{"q":"x"}` || done.ToolCalls[0].Index != nil {
		t.Fatalf("text %q done %+v", text, done)
	}
	body, _ := json.Marshal(u.last.Load())
	for _, want := range []string{`"tool_choice":"required"`, `"tools":[{"function":{"name":"get","parameters":{"type":"object"}},"type":"function"}]`, `"tool_call_id":"call_1"`, `"tool_calls":[{"function":{"arguments":"{}","name":"get"},"id":"call_1","type":"function"}]`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("upstream body %s lacks %s", body, want)
		}
	}
	if err := c.Generate(context.Background(), generate.Request{Prompt: "x", Tools: req.Tools}, func(generate.Event) error { return nil }); err == nil {
		t.Error("tools with a prompt (completions endpoint) were accepted")
	}
}
