package cloudflare_test

import (
	"testing"
)

// TestRunGenerationToolTurns: tool results (role "tool") and an
// assistant's calls fed back, in Workers AI's and OpenAI's shapes, reach
// the generator as tool turns.
func TestRunGenerationToolTurns(t *testing.T) {
	e := newEnv(t)
	p := base + "/ai/run/@hf/nousresearch/hermes-2-pro-mistral-7b"
	body := `{"tools":[{"name":"getWeather","parameters":{"type":"object","properties":{"lat":{"type":"string"}}}}],"messages":[
		{"role":"user","content":"weather?"},
		{"role":"assistant","content":null,"tool_calls":[{"name":"getWeather","arguments":{"lat":"51.5"}}]},
		{"role":"tool","name":"getWeather","content":"12 C"},
		{"role":"assistant","content":"","tool_calls":[{"id":"call_9","type":"function","function":{"name":"getWeather","arguments":"{\"lat\":\"1\"}"}}]},
		{"role":"tool","tool_call_id":"call_9","content":[{"type":"text","text":"30 C"}]}]}`
	r := decodeInto[genResult](t, e.json("POST", p, body, 200))
	if r.Response != "Hello world" {
		t.Fatalf("result %+v", r)
	}
	ms := e.gen.last().Messages
	if len(ms) != 5 {
		t.Fatalf("messages %+v", ms)
	}
	if c := ms[1].ToolCalls; ms[1].Role != "assistant" || len(c) != 1 || c[0].Function.Name != "getWeather" || c[0].Function.Arguments != `{"lat":"51.5"}` {
		t.Errorf("Workers AI shaped call: %+v", ms[1])
	}
	if ms[2].Role != "tool" || ms[2].ToolCallID != "getWeather" || ms[2].Content != "12 C" {
		t.Errorf("tool result by name: %+v", ms[2])
	}
	if c := ms[3].ToolCalls; len(c) != 1 || c[0].ID != "call_9" || c[0].Function.Arguments != `{"lat":"1"}` {
		t.Errorf("OpenAI shaped call: %+v", ms[3])
	}
	if ms[4].Role != "tool" || ms[4].ToolCallID != "call_9" || ms[4].Content != "30 C" {
		t.Errorf("tool result by id: %+v", ms[4])
	}

	for _, c := range []struct{ body, want string }{
		{`{"messages":[{"role":"user","content":"x","tool_calls":[{"name":"f"}]}]}`, "assistant message"},
		{`{"messages":[{"role":"user","content":"x","tool_call_id":"c"}]}`, "tool message"},
		{`{"messages":[{"role":"assistant","tool_calls":[{"arguments":{}}]}]}`, "name is required"},
		{`{"messages":[{"role":"assistant","tool_calls":{"name":"f"}}]}`, "array of {name, arguments}"},
		{`{"messages":[{"role":"function","content":"x"}]}`, "want system, user, assistant or tool"},
		{`{"messages":[{"role":"user","content":null}]}`, "content is required"},
		{`{"messages":[{"role":"tool","name":"f"}]}`, "content is required"},
	} {
		e.fail("POST", p, "application/json", c.body, 400, c.want)
	}
}
