package cloudflare_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/generate/llama"
	"github.com/ragd/ragd/internal/testutil"
)

// TestRunBatchQueueLlama queues text generations for llama.cpp with the
// tiny random Llama-2 model (two slots: the batch's requests share the
// model's decode batches) and polls them until done; a JSON-mode request
// in the batch comes back as a parsed JSON document.
func TestRunBatchQueueLlama(t *testing.T) {
	root := testutil.RepoRoot(t)
	libDir := filepath.Join(root, "node", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
	model := filepath.Join(filepath.Dir(root), "shared", "models", "llama-2-tiny-random.gguf")
	for _, p := range []string{libDir, model} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing (run scripts/setup.sh; ../shared holds the model)", p)
		}
	}
	m, err := llama.Load(context.Background(), model, llama.Config{LibDir: libDir, Threads: 1, Slots: 2, QueueSize: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e := newEnv(t, func(c *cloudflare.Config) { c.Generator = m })
	p := base + "/ai/run/@cf/meta/llama-3.1-8b-instruct"
	acc := decodeInto[batchResult](t, e.json("POST", p+"?queueRequest=true", `{"requests":[
		{"prompt":"Once upon a time","max_tokens":8,"seed":1},
		{"messages":[{"role":"user","content":"hi"}],"max_tokens":6,"seed":2},
		{"prompt":"a","max_tokens":256,"seed":3,"response_format":{"type":"json_schema","json_schema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}}}]}`, 200))
	done := e.poll(p, acc.RequestID)
	if len(done.Responses) != 3 {
		t.Fatalf("responses %+v", done.Responses)
	}
	for i, r := range done.Responses[:2] {
		g := decodeInto[genResult](t, r.Result)
		if !r.Success || g.Response == "" || g.Usage == nil || g.Usage.CompletionTokens == 0 || g.Usage.CompletionTokens > 8 {
			t.Errorf("response %d: %+v %s", i, r, r.Result)
		}
	}
	js := done.Responses[2]
	obj := decodeInto[struct {
		Response struct {
			N *int `json:"n"`
		} `json:"response"`
	}](t, js.Result)
	if !js.Success || obj.Response.N == nil {
		t.Errorf("JSON-mode response: %+v %s", js, js.Result)
	}
}

// TestRunToolTurnsLlama feeds a tool call and its result back to
// llama.cpp through ai/run: the turns render for the model's template and
// the reply (text or another call, the choice is "auto") comes back.
func TestRunToolTurnsLlama(t *testing.T) {
	root := testutil.RepoRoot(t)
	libDir := filepath.Join(root, "node", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
	model := filepath.Join(filepath.Dir(root), "shared", "models", "llama-2-tiny-random.gguf")
	for _, p := range []string{libDir, model} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing (run scripts/setup.sh; ../shared holds the model)", p)
		}
	}
	m, err := llama.Load(context.Background(), model, llama.Config{LibDir: libDir, Threads: 1, Slots: 1, QueueSize: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e := newEnv(t, func(c *cloudflare.Config) { c.Generator = m })
	p := base + "/ai/run/@hf/nousresearch/hermes-2-pro-mistral-7b"
	raw := e.json("POST", p, `{"max_tokens":16,"seed":4,"tools":[{"name":"getWeather","parameters":{"type":"object","properties":{"lat":{"type":"string"}},"required":["lat"]}}],"messages":[
		{"role":"user","content":"weather?"},
		{"role":"assistant","tool_calls":[{"name":"getWeather","arguments":{"lat":"51.5"}}]},
		{"role":"tool","name":"getWeather","content":"12 C"}]}`, 200)
	var r struct {
		Response  any `json:"response"`
		ToolCalls []struct {
			Name string `json:"name"`
		} `json:"tool_calls"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if r.Usage.PromptTokens < 10 || (len(r.ToolCalls) == 0 && r.Response == nil) || (len(r.ToolCalls) > 0 && r.ToolCalls[0].Name != "getWeather") {
		t.Fatalf("result %s", raw)
	}
}
