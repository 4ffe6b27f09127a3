package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeAIBatchQueue: ragd serve wires the Workers AI batch queue: a
// queued batch is kept in <data-dir>/ai-batches and polled until done,
// and --ai-batch-queue bounds it.
func TestServeAIBatchQueue(t *testing.T) {
	dataDir := cliEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, exited, _, stderr := startServe(t, ctx, "--addr", "127.0.0.1:0", "--warm=false", "--ai-batch-queue", "2")
	run := base + cfBase + "/ai/run/@cf/meta/llama-3.1-8b-instruct"
	post := func(url, body string) (int, map[string]json.RawMessage) {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var env map[string]json.RawMessage
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("%s: %s", url, b)
		}
		return resp.StatusCode, env
	}
	st, env := post(run+"?queueRequest=true", `{"requests":[{"prompt":"what is ragd?","external_reference":"x"}]}`)
	var acc struct {
		Status    string `json:"status"`
		RequestID string `json:"request_id"`
		Responses []struct {
			Success           bool            `json:"success"`
			Result            json.RawMessage `json:"result"`
			ExternalReference string          `json:"external_reference"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(env["result"], &acc); st != 200 || err != nil || acc.Status != "queued" {
		t.Fatalf("queue: %d %s", st, env["result"])
	}
	if _, err := os.Stat(filepath.Join(dataDir, "ai-batches", acc.RequestID+".json")); err != nil {
		t.Fatalf("batch file: %v", err)
	}
	for deadline := time.Now().Add(20 * time.Second); acc.Status != "done"; {
		if time.Now().After(deadline) {
			t.Fatalf("not done: %+v", acc)
		}
		time.Sleep(20 * time.Millisecond)
		st, env = post(run, `{"request_id":"`+acc.RequestID+`"}`)
		if err := json.Unmarshal(env["result"], &acc); st != 200 || err != nil {
			t.Fatalf("poll: %d %s", st, env["errors"])
		}
	}
	if len(acc.Responses) != 1 || !acc.Responses[0].Success || acc.Responses[0].ExternalReference != "x" || !strings.Contains(string(acc.Responses[0].Result), `"response"`) {
		t.Fatalf("responses %+v", acc.Responses)
	}
	if st, env = post(run+"?queueRequest=true", `{"requests":[{"prompt":"a"},{"prompt":"b"},{"prompt":"c"}]}`); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("over --ai-batch-queue: %d %s", st, env["errors"])
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}
