package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ragd/ragd/generate/grammar"
)

// TestGenerateJSONSchema: `ragd generate --json-schema FILE` prints one
// document valid under the schema with the tiny random model; --json keeps
// its meaning (the CLI's report, whose text is the document); a schema the
// grammar cannot enforce, a missing file and a non-JSON file are refused.
func TestGenerateJSONSchema(t *testing.T) {
	cliEnv(t)
	node, err := filepath.Abs(filepath.Join("..", "..", "node"))
	if err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(node, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64", "libllama.v0.5.0.so")
	gguf, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "models", "llama-2-tiny-random.gguf"))
	for _, p := range []string{lib, gguf} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s missing: %v", p, err)
		}
	}
	t.Setenv("RAGD_NODE_DIR", node)
	dir := t.TempDir()
	schema := `{"type":"object","properties":{"title":{"type":"string","maxLength":12},"year":{"type":"integer"},"genres":{"type":"array","items":{"enum":["drama","comedy"]},"maxItems":2}},"required":["title","year","genres"]}`
	file := filepath.Join(dir, "s.json")
	if err := os.WriteFile(file, []byte(schema), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := grammar.Parse([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	out := ragdOK(t, "generate", "--model", gguf, "--json-schema", file, "--temperature", "1", "--seed", "5", "A film:")
	if err := s.Validate([]byte(strings.TrimSpace(out))); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	var rep struct {
		Text             string `json:"text"`
		CompletionTokens int    `json:"completion_tokens"`
	}
	if err := json.Unmarshal([]byte(ragdOK(t, "generate", "--model", gguf, "--json-schema", file, "--json", "A film:")), &rep); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate([]byte(rep.Text)); err != nil || rep.CompletionTokens == 0 {
		t.Fatalf("--json report %+v: %v", rep, err)
	}

	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"type":"string","format":"email"}`), 0o600)
	notJSON := filepath.Join(dir, "n.json")
	_ = os.WriteFile(notJSON, []byte(`{type: string}`), 0o600)
	for _, c := range []struct {
		file, substr string
	}{{bad, "format"}, {notJSON, "not JSON"}, {filepath.Join(dir, "none.json"), "none.json"}} {
		code, _, errOut := ragd(t, "", "generate", "--model", gguf, "--json-schema", c.file, "x")
		if code == 0 || !strings.Contains(errOut, c.substr) {
			t.Errorf("--json-schema %s: exit %d %q", c.file, code, errOut)
		}
	}
	// Too few tokens for the document: a failure, not invalid JSON.
	code, _, errOut := ragd(t, "", "generate", "--model", gguf, "--json-schema", file, "--max-tokens", "3", "x")
	if code == 0 || !strings.Contains(errOut, "max_tokens") {
		t.Errorf("--max-tokens 3: exit %d %q", code, errOut)
	}
}
