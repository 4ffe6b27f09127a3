package openaiwire

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
	if !r.IncludeUsage() || !r.Stream || r.Model != "m" {
		t.Errorf("stream options lost: %+v", r)
	}
	want := []ChatMessage{{Role: "developer", Content: "be nice"}, {Role: "user", Content: "Hello there"}, {Role: "assistant", Content: ""}}
	if !reflect.DeepEqual(r.Messages, want) {
		t.Errorf("messages = %+v", r.Messages)
	}
	if *r.MaxTokens != 10 || *r.MaxCompletionTokens != 20 || *r.Temperature != 0 || *r.TopP != 0.9 || *r.TopK != 40 || *r.Seed != 7 ||
		!reflect.DeepEqual(r.Stop, StopList{"END"}) {
		t.Errorf("sampling fields = %+v", r)
	}
	var r2 ChatCompletionRequest
	if err := json.Unmarshal([]byte(`{"messages":[{"role":"user","content":"hi"}],"stop":["a","b"]}`), &r2); err != nil {
		t.Fatal(err)
	}
	if r2.Temperature != nil || !reflect.DeepEqual(r2.Stop, StopList{"a", "b"}) || r2.Seed != nil || r2.IncludeUsage() {
		t.Errorf("absent fields: %+v", r2)
	}
	var r3 ChatCompletionRequest
	err := json.Unmarshal([]byte(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`), &r3)
	if !errors.Is(err, data.ErrUnsupported) {
		t.Errorf("image part: err = %v", err)
	}
	if err := json.Unmarshal([]byte(`{"messages":[],"stop":5}`), &r3); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("numeric stop: err = %v", err)
	}
	if err := json.Unmarshal([]byte(`{"messages":[{"role":"user","content":5}]}`), &r3); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("numeric content: err = %v", err)
	}
}

func TestChatCompletionRequestValidate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	s := func(v int64) *int64 { return &v }
	user := []ChatMessage{{Role: "user", Content: "hi"}}
	tests := []struct {
		name string
		r    ChatCompletionRequest
		bad  string // substring of the error, "" = valid
	}{
		{"ok", ChatCompletionRequest{Messages: user}, ""},
		{"no messages", ChatCompletionRequest{}, "messages"},
		{"bad role", ChatCompletionRequest{Messages: []ChatMessage{{Role: "wizard"}}}, "role"},
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
	if !reflect.DeepEqual(back.Data[0].Embedding.Values, vecs[0]) || back.Data[0].Index == nil || *back.Data[0].Index != 0 {
		t.Errorf("base64 round trip = %v", back.Data[0].Embedding.Values)
	}
	if _, err := json.Marshal(NewEmbeddingsResponse("m", [][]float32{{float32(math.NaN())}}, 1, "")); err == nil {
		t.Error("NaN embedding marshalled")
	}
}
