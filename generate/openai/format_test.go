package openai

import (
	"context"
	"encoding/json"
	"net/http"
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
