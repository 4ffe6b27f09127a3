package api

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/llama"
	"github.com/ragd/ragd/generate/openai"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/internal/testutil"
)

// llamaRoot finds the repository root (the folder with go.mod).
func llamaRoot(t *testing.T) string {
	t.Helper()
	return testutil.RepoRoot(t)
}

// TestOpenAIClientAgainstOwnLlamaServer drives ragd's OpenAI-compatible
// client against ragd's own /v1/chat/completions, served on loopback by the
// in-process llama.cpp backend with the tiny random Llama-2 model: the
// streamed completion must equal a direct greedy generation token for token,
// and a cancelled stream must free the model for the next request.
func TestOpenAIClientAgainstOwnLlamaServer(t *testing.T) {
	root := llamaRoot(t)
	libDir := filepath.Join(root, "node", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
	model := filepath.Join(filepath.Dir(root), "shared", "models", "llama-2-tiny-random.gguf")
	for _, p := range []string{libDir, model} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing (run scripts/setup.sh; ../shared holds the model)", p)
		}
	}
	ctx := context.Background()
	m, err := llama.Load(ctx, model, llama.Config{LibDir: libDir, Threads: 1, Slots: 1, QueueSize: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	eng, err := index.Open(ctx, index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ts := httptest.NewServer(New(Config{Engine: eng, Generator: m}).Handler())
	defer ts.Close()

	req := generate.Request{Messages: []generate.Message{{Role: "user", Content: "Once upon a time"}}, MaxTokens: 12}
	var direct []string
	if err := m.Generate(ctx, req, func(ev generate.Event) error {
		if ev.Type == generate.EventToken {
			direct = append(direct, ev.Delta)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	client, err := openai.New(openai.Config{BaseURL: ts.URL, Model: "tiny"})
	if err != nil {
		t.Fatal(err)
	}
	var streamed []string
	var done *generate.Event
	if err := client.Generate(ctx, req, func(ev generate.Event) error {
		switch ev.Type {
		case generate.EventToken:
			streamed = append(streamed, ev.Delta)
		case generate.EventDone:
			e := ev
			done = &e
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(streamed, "") != strings.Join(direct, "") || strings.Join(direct, "") == "" {
		t.Fatalf("streamed %q, direct %q", strings.Join(streamed, ""), strings.Join(direct, ""))
	}
	if len(streamed) < 2 {
		t.Fatalf("expected a stream of several token events, got %d", len(streamed))
	}
	if done == nil || done.FinishReason != "length" {
		t.Fatalf("done event %+v", done)
	}

	// Cancel after the first token: the client returns the context error
	// and the single slot is free again for the next request.
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	err = client.Generate(cctx, generate.Request{Messages: req.Messages, MaxTokens: 200}, func(ev generate.Event) error {
		if ev.Type == generate.EventToken {
			n++
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled stream: %v after %d tokens", err, n)
	}
	again := 0
	if err := client.Generate(ctx, req, func(ev generate.Event) error {
		if ev.Type == generate.EventToken {
			again++
		}
		return nil
	}); err != nil || again == 0 {
		t.Fatalf("request after a cancelled one: %v (%d tokens)", err, again)
	}
}
