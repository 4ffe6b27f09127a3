package llama_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/llama"
)

func ExampleDefaultLibDir() {
	fmt.Println(llama.DefaultLibDir("/opt/ragd"))
	// Output: /opt/ragd/node/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
}

// Load a model, count tokens and stream a greedy completion. (Not run by
// go test: it needs the npm libraries and a model file.)
func ExampleLoad() {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := llama.Load(ctx, "models/llama-2-7b-chat.Q4_K_M.gguf", llama.Config{
		LibDir:    llama.DefaultLibDir("."),
		Slots:     2,
		QueueSize: 8,
	}, log)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	n, _ := m.CountTokens("Once upon a time")
	fmt.Println("prompt tokens:", n)

	var out strings.Builder
	err = m.Generate(ctx, generate.Request{
		Messages:  []generate.Message{{Role: "user", Content: "Tell me a story."}},
		MaxTokens: 64,
		Stop:      []string{"\n\n"},
	}, func(e generate.Event) error {
		switch e.Type {
		case generate.EventToken:
			out.WriteString(e.Delta)
		case generate.EventDone:
			fmt.Println(e.FinishReason, e.Usage.CompletionTokens)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(out.String())
}
