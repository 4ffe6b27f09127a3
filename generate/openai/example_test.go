package openai_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/openai"
)

func ExampleClient_Generate() {
	// A stand-in for Ollama, vLLM or any OpenAI-compatible server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}]}\n\n")
		io.WriteString(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()

	c, err := openai.New(openai.Config{BaseURL: srv.URL, Model: "llama3.2"})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	req := generate.Request{Messages: []generate.Message{{Role: "user", Content: "Say hello"}}}
	err = c.Generate(context.Background(), req, func(ev generate.Event) error {
		switch ev.Type {
		case generate.EventToken:
			fmt.Printf("token %q\n", ev.Delta)
		case generate.EventDone:
			fmt.Println("done", ev.FinishReason, ev.Usage.PromptTokens, ev.Usage.CompletionTokens)
		}
		return nil
	})
	if err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// token "Hello"
	// token " there"
	// done stop 5 2
}
