package generate

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestChatCompletionRequestDecode(t *testing.T) {
	body := `{"model":"m","stream":true,"stream_options":{"include_usage":true},
		"messages":[{"role":"developer","content":"be nice"},
		            {"role":"user","content":[{"type":"text","text":"Hello "},{"type":"text","text":"there"}]},
		            {"role":"assistant","content":null}],
		"max_tokens":10,"max_completion_tokens":20,"temperature":0,"top_p":0.9,"top_k":40,"seed":7,"stop":"END"}`
	var r ChatCompletionRequest
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if !r.IncludeUsage() {
		t.Error("include_usage lost")
	}
	req, err := r.ToRequest()
	if err != nil {
		t.Fatal(err)
	}
	seed := uint32(7)
	want := Request{
		Messages:  []Message{{"system", "be nice"}, {"user", "Hello there"}, {"assistant", ""}},
		MaxTokens: 20, Temperature: 0, TopP: 0.9, TopK: 40, Seed: &seed, Stop: []string{"END"},
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("ToRequest = %+v\nwant %+v", req, want)
	}

	var r2 ChatCompletionRequest
	if err := json.Unmarshal([]byte(`{"messages":[{"role":"user","content":"hi"}],"stop":["a","b"]}`), &r2); err != nil {
		t.Fatal(err)
	}
	req2, err := r2.ToRequest()
	if err != nil {
		t.Fatal(err)
	}
	if req2.Temperature != 1 || !reflect.DeepEqual(req2.Stop, []string{"a", "b"}) || req2.Seed != nil || r2.IncludeUsage() {
		t.Errorf("defaults: %+v", req2)
	}

	var r3 ChatCompletionRequest
	err = json.Unmarshal([]byte(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`), &r3)
	if !errors.Is(err, data.ErrUnsupported) {
		t.Errorf("image part: err = %v", err)
	}
	if err := json.Unmarshal([]byte(`{"messages":[],"stop":5}`), &r3); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("numeric stop: err = %v", err)
	}
}

func TestChatCompletionRequestValidate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	s := func(v int64) *int64 { return &v }
	user := []Message{{Role: "user", Content: "hi"}}
	tests := []struct {
		name string
		r    ChatCompletionRequest
		bad  string // substring of the error, "" = valid
	}{
		{"ok", ChatCompletionRequest{Messages: user}, ""},
		{"no messages", ChatCompletionRequest{}, "messages"},
		{"bad role", ChatCompletionRequest{Messages: []Message{{Role: "tool"}}}, "role"},
		{"temperature", ChatCompletionRequest{Messages: user, Temperature: f(2.5)}, "temperature"},
		{"nan temperature", ChatCompletionRequest{Messages: user, Temperature: f(math.NaN())}, "temperature"},
		{"top_p", ChatCompletionRequest{Messages: user, TopP: f(1.5)}, "top_p"},
		{"top_k", ChatCompletionRequest{Messages: user, TopK: i(-1)}, "top_k"},
		{"max_tokens", ChatCompletionRequest{Messages: user, MaxTokens: i(-3)}, "max_tokens"},
		{"seed", ChatCompletionRequest{Messages: user, Seed: s(-1)}, "seed"},
		{"seed big", ChatCompletionRequest{Messages: user, Seed: s(1 << 33)}, "seed"},
		{"empty stop", ChatCompletionRequest{Messages: user, Stop: StopList{""}}, "stop"},
		{"many stops", ChatCompletionRequest{Messages: user, Stop: make(StopList, MaxStopStrings+1)}, "stop"},
	}
	for _, tt := range tests {
		err := tt.r.Validate()
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tt.name, err)
		case tt.bad != "" && (!errors.Is(err, data.ErrInvalid) || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("%s: err = %v, want ErrInvalid mentioning %q", tt.name, err, tt.bad)
		}
	}
}

func TestChatAdapterStream(t *testing.T) {
	a := NewChatAdapter("chatcmpl-1", "m", 1700000000, true)
	var chunks []ChatCompletionChunk
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

func TestEmbeddingsRequest(t *testing.T) {
	tests := []struct {
		body   string
		inputs []string
		err    error
	}{
		{`{"input":"one","model":"m"}`, []string{"one"}, nil},
		{`{"input":["a","b"],"encoding_format":"base64"}`, []string{"a", "b"}, nil},
		{`{"input":[[1,2,3]]}`, nil, data.ErrUnsupported},
		{`{"input":5}`, nil, data.ErrInvalid},
		{`{"input":[]}`, nil, data.ErrInvalid},
		{`{"input":["ok",""]}`, nil, data.ErrInvalid},
		{`{"input":"x","encoding_format":"int8"}`, nil, data.ErrInvalid},
		{`{"input":"x","dimensions":0}`, nil, data.ErrInvalid},
	}
	for _, tt := range tests {
		var r EmbeddingsRequest
		err := json.Unmarshal([]byte(tt.body), &r)
		if err == nil {
			err = r.Validate()
		}
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: err = %v, want %v", tt.body, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual([]string(r.Input), tt.inputs) {
			t.Errorf("%s: got %v, %v", tt.body, r.Input, err)
		}
	}
}

func TestEmbeddingsResponse(t *testing.T) {
	vecs := [][]float32{{0.5, -1}, {0.25, 2}}
	b, err := json.Marshal(NewEmbeddingsResponse("bge", vecs, 6, ""))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1]},{"object":"embedding","index":1,"embedding":[0.25,2]}],"model":"bge","usage":{"prompt_tokens":6,"total_tokens":6}}`
	if string(b) != want {
		t.Errorf("float response = %s", b)
	}
	b, err = json.Marshal(NewEmbeddingsResponse("bge", vecs[:1], 1, "base64"))
	if err != nil {
		t.Fatal(err)
	}
	// 0.5 = 0x3F000000, -1 = 0xBF800000, little-endian.
	if !strings.Contains(string(b), `"embedding":"AAAAPwAAgL8="`) {
		t.Errorf("base64 response = %s", b)
	}
	var back EmbeddingsResponse
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Data[0].Embedding.Values, vecs[0]) {
		t.Errorf("base64 round trip = %v", back.Data[0].Embedding.Values)
	}
	if _, err := json.Marshal(NewEmbeddingsResponse("m", [][]float32{{float32(math.NaN())}}, 1, "")); err == nil {
		t.Error("NaN embedding marshalled")
	}
}

func TestNewCompletionID(t *testing.T) {
	a, b := NewCompletionID(), NewCompletionID()
	if a == b || !strings.HasPrefix(a, "chatcmpl-") || len(a) != len("chatcmpl-")+24 {
		t.Errorf("ids %q %q", a, b)
	}
}
