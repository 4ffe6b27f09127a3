package generate

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/openaiwire"
)

func TestChatCompletionRequestDecode(t *testing.T) {
	body := `{"model":"m","stream":true,"stream_options":{"include_usage":true},
		"messages":[{"role":"developer","content":"be nice"},
		            {"role":"user","content":[{"type":"text","text":"Hello "},{"type":"text","text":"there"}]},
		            {"role":"assistant","content":null}],
		"max_tokens":10,"max_completion_tokens":20,"temperature":0,"top_p":0.9,"top_k":40,"seed":7,"stop":"END"}`
	var r openaiwire.ChatCompletionRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if !r.IncludeUsage() {
		t.Error("include_usage lost")
	}
	req, err := ChatRequest(&r)
	if err != nil {
		t.Fatal(err)
	}
	seed := uint32(7)
	want := Request{
		Messages:  []Message{{Role: "system", Content: "be nice"}, {Role: "user", Content: "Hello there"}, {Role: "assistant", Content: ""}},
		MaxTokens: 20, Temperature: 0, TopP: 0.9, TopK: 40, Seed: &seed, Stop: []string{"END"},
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("ToRequest = %+v\nwant %+v", req, want)
	}

	var r2 openaiwire.ChatCompletionRequest
	if err := json.Unmarshal([]byte(`{"messages":[{"role":"user","content":"hi"}],"stop":["a","b"]}`), &r2); err != nil {
		t.Fatal(err)
	}
	req2, err := ChatRequest(&r2)
	if err != nil {
		t.Fatal(err)
	}
	if req2.Temperature != 1 || !reflect.DeepEqual(req2.Stop, []string{"a", "b"}) || req2.Seed != nil || r2.IncludeUsage() {
		t.Errorf("defaults: %+v", req2)
	}

	var r3 openaiwire.ChatCompletionRequest
	err = json.Unmarshal([]byte(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`), &r3)
	if !errors.Is(err, data.ErrUnsupported) {
		t.Errorf("image part: err = %v", err)
	}
	if err := json.Unmarshal([]byte(`{"messages":[],"stop":5}`), &r3); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("numeric stop: err = %v", err)
	}
}

func TestChatAdapterStream(t *testing.T) {
	a := NewChatAdapter("chatcmpl-1", "m", 1700000000, true)
	var chunks []openaiwire.ChatCompletionChunk
	for _, ev := range []Event{
		{Type: EventToken, Delta: "Hel"},
		{Type: EventToken, Delta: ""},
		{Type: EventToken, Delta: "lo"},
		{Type: EventDone, FinishReason: "length", Usage: &Usage{PromptTokens: 5, CompletionTokens: 2}},
	} {
		chunks = append(chunks, a.Chunks(ev)...)
	}
	if len(chunks) != 4 {
		t.Fatalf("%d chunks, want 4", len(chunks))
	}
	var lines []string
	for _, c := range chunks {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	head := `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":`
	want := []string{
		head + `[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`,
		head + `[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}`,
		head + `[{"index":0,"delta":{},"finish_reason":"length"}]}`,
		head + `[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`,
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("chunks:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	resp := a.Response()
	b, _ := json.Marshal(resp)
	wantResp := `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`
	if string(b) != wantResp {
		t.Errorf("response = %s", b)
	}
}

func TestChatAdapterEmptyAnswerWithoutUsage(t *testing.T) {
	a := NewChatAdapter("id", "m", 1, false)
	chunks := a.Chunks(Event{Type: EventDone, FinishReason: "cancelled"})
	if len(chunks) != 1 || chunks[0].Choices[0].Delta.Role != "assistant" || *chunks[0].Choices[0].FinishReason != "stop" || chunks[0].Usage != nil {
		t.Errorf("chunks = %+v", chunks)
	}
}

func TestNewCompletionID(t *testing.T) {
	a, b := NewCompletionID(), NewCompletionID()
	if a == b || !strings.HasPrefix(a, "chatcmpl-") || len(a) != len("chatcmpl-")+24 {
		t.Errorf("ids %q %q", a, b)
	}
}

// TestChatAdapterToolCalls: a done event with tool calls becomes a chunk
// with indexed delta.tool_calls and finish_reason "tool_calls", and the
// complete response's message carries the calls.
func TestChatAdapterToolCalls(t *testing.T) {
	a := NewChatAdapter("id", "m", 1, false)
	call := openaiwire.ToolCall{ID: "call_1", Type: "function", Function: openaiwire.FunctionCall{Name: "f", Arguments: `{"x":1}`}}
	chunks := a.Chunks(Event{Type: EventDone, FinishReason: "tool_calls", ToolCalls: []openaiwire.ToolCall{call}, Usage: &Usage{PromptTokens: 3, CompletionTokens: 4}})
	if len(chunks) != 2 {
		t.Fatalf("chunks %+v", chunks)
	}
	d := chunks[0].Choices[0].Delta
	if d.Role != "assistant" || len(d.ToolCalls) != 1 || d.ToolCalls[0].Index == nil || *d.ToolCalls[0].Index != 0 || d.ToolCalls[0].Function.Name != "f" {
		t.Fatalf("tool-call chunk %+v", d)
	}
	if fr := chunks[1].Choices[0].FinishReason; fr == nil || *fr != "tool_calls" || chunks[1].Choices[0].Delta.Role != "" {
		t.Fatalf("finish chunk %+v", chunks[1].Choices[0])
	}
	r := a.Response()
	if r.Choices[0].FinishReason != "tool_calls" || len(r.Choices[0].Message.ToolCalls) != 1 || r.Choices[0].Message.ToolCalls[0].Index != nil ||
		r.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"x":1}` {
		t.Fatalf("response %+v", r.Choices[0])
	}
}
