package llama

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/grammar"
	"github.com/ragd/ragd/openaiwire"
)

var testTools = []openaiwire.Tool{
	{Type: "function", Function: openaiwire.FunctionDef{Name: "get_weather", Parameters: json.RawMessage(
		`{"type":"object","properties":{"city":{"type":"string","maxLength":10},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}`)}},
	{Type: "function", Function: openaiwire.FunctionDef{Name: "add", Parameters: json.RawMessage(
		`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}},"required":["a","b"]}`)}},
}

// toolRun generates with tools and returns the text, the done event and
// the error.
func toolRun(t *testing.T, m *Model, req generate.Request) (string, generate.Event, error) {
	t.Helper()
	var sb strings.Builder
	var done generate.Event
	err := m.Generate(t.Context(), req, func(ev generate.Event) error {
		sb.WriteString(ev.Delta)
		if ev.Type == generate.EventDone {
			done = ev
		}
		return nil
	})
	return sb.String(), done, err
}

// checkCall asserts that a done event carries one valid call of a tool.
func checkCall(t *testing.T, what string, ev generate.Event, allowed ...string) {
	t.Helper()
	if ev.FinishReason != "tool_calls" || len(ev.ToolCalls) != 1 {
		t.Fatalf("%s: done %+v, want one tool call", what, ev)
	}
	c := ev.ToolCalls[0]
	if c.Type != "function" || !strings.HasPrefix(c.ID, "call_") {
		t.Fatalf("%s: call %+v", what, c)
	}
	for _, tool := range testTools {
		if tool.Function.Name != c.Function.Name {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == c.Function.Name
		}
		if !ok {
			t.Fatalf("%s: called %s, want one of %v", what, c.Function.Name, allowed)
		}
		s, err := grammar.Parse(tool.Function.Parameters)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate([]byte(c.Function.Arguments)); err != nil {
			t.Fatalf("%s: arguments %s: %v", what, c.Function.Arguments, err)
		}
		return
	}
	t.Fatalf("%s: called unknown tool %q", what, c.Function.Name)
}

// TestToolCalls: with random weights, "required" and a named function
// always yield one call of an allowed tool whose arguments validate
// against its parameters, and no text; "auto" yields a call or text;
// "none" and tool-less generators behave as before.
func TestToolCalls(t *testing.T) {
	m := jsonTiny(t)
	msgs := []generate.Message{{Role: "user", Content: "Weather in Paris?"}}
	for _, seed := range []uint32{1, 2, 3} {
		sd := seed
		req := generate.Request{Messages: msgs, Temperature: 1, Seed: &sd, MaxTokens: 400, Tools: testTools,
			ToolChoice: &openaiwire.ToolChoice{Mode: openaiwire.ToolChoiceRequired}}
		text, done, err := toolRun(t, m, req)
		if err != nil || text != "" {
			t.Fatalf("required seed %d: text %q, %v", seed, text, err)
		}
		checkCall(t, "required", done, "get_weather", "add")

		req.ToolChoice = &openaiwire.ToolChoice{Mode: openaiwire.ToolChoiceFunction, Name: "add"}
		text, done, err = toolRun(t, m, req)
		if err != nil || text != "" {
			t.Fatalf("named seed %d: text %q, %v", seed, text, err)
		}
		checkCall(t, "named", done, "add")

		req.ToolChoice = nil // auto
		req.MaxTokens = 60
		text, done, err = toolRun(t, m, req)
		switch {
		case errors.Is(err, generate.ErrIncomplete):
			if text != "" {
				t.Fatalf("auto seed %d: a text answer cut at max_tokens is an error: %q", seed, text)
			}
		case err != nil:
			t.Fatalf("auto seed %d: %v", seed, err)
		case len(done.ToolCalls) > 0:
			checkCall(t, "auto", done, "get_weather", "add")
		case text == "" || strings.HasPrefix(text, "{"):
			t.Fatalf("auto seed %d: text %q and no call", seed, text)
		}
	}
	// These weights rarely start with "{", so "auto" answered in text
	// above; biased towards "{" (byte token 0x7B), "auto" makes a call.
	bias := []logitBias{{token: 3 + '{', bias: 30}}
	m.biasHook = func(chain uintptr) {
		m.lib.samplerChainAdd(chain, m.lib.samplerInitBias(m.nVocab, int32(len(bias)), &bias[0]))
	}
	t.Cleanup(func() { m.biasHook = nil })
	for _, seed := range []uint32{1, 2} {
		sd := seed
		text, done, err := toolRun(t, m, generate.Request{Messages: msgs, Temperature: 1, Seed: &sd, MaxTokens: 400, Tools: testTools})
		if err != nil || text != "" {
			t.Fatalf("auto towards a call, seed %d: text %q, %v", seed, text, err)
		}
		checkCall(t, "auto, biased", done, "get_weather", "add")
	}
	m.biasHook = nil

	// A conversation with a call and its result renders and runs.
	history := append(msgs, generate.Message{Role: "assistant", ToolCalls: []openaiwire.ToolCall{{ID: "call_1", Type: "function",
		Function: openaiwire.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris","unit":"c"}`}}}},
		generate.Message{Role: "tool", ToolCallID: "call_1", Content: "21"})
	if _, done, err := toolRun(t, m, generate.Request{Messages: history, MaxTokens: 300, Tools: testTools,
		ToolChoice: &openaiwire.ToolChoice{Mode: openaiwire.ToolChoiceRequired}}); err != nil {
		t.Fatal(err)
	} else {
		checkCall(t, "after a result", done, "get_weather", "add")
	}
	// "none": plain generation, no call.
	if _, done, err := toolRun(t, m, generate.Request{Messages: msgs, MaxTokens: 8, Tools: testTools,
		ToolChoice: &openaiwire.ToolChoice{Mode: openaiwire.ToolChoiceNone}}); err != nil || len(done.ToolCalls) != 0 || done.FinishReason == "tool_calls" {
		t.Fatalf("none: %+v %v", done, err)
	}
	// Bad requests.
	for _, req := range []generate.Request{
		{Messages: msgs, Tools: testTools, ToolChoice: &openaiwire.ToolChoice{Mode: openaiwire.ToolChoiceFunction, Name: "nope"}},
		{Messages: msgs, Tools: []openaiwire.Tool{{Type: "function", Function: openaiwire.FunctionDef{Name: "bad name"}}}},
	} {
		if _, _, err := toolRun(t, m, req); !errors.Is(err, data.ErrInvalid) {
			t.Errorf("%+v: %v", req.ToolChoice, err)
		}
	}
	_, _, err := toolRun(t, m, generate.Request{Messages: msgs, Tools: []openaiwire.Tool{{Type: "function",
		Function: openaiwire.FunctionDef{Name: "f", Parameters: json.RawMessage(`{"type":"object","properties":{"s":{"type":"string","pattern":"x"}}}`)}}}})
	if !errors.Is(err, data.ErrUnsupported) || !strings.Contains(err.Error(), "pattern") {
		t.Errorf("pattern in parameters: %v", err)
	}
}
