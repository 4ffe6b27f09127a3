package cloudflare_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/generate"
)

type batchResult struct {
	Status    string `json:"status"`
	RequestID string `json:"request_id"`
	Model     string `json:"model"`
	Responses []struct {
		ID                int             `json:"id"`
		Result            json.RawMessage `json:"result"`
		Success           bool            `json:"success"`
		Error             string          `json:"error"`
		ExternalReference string          `json:"external_reference"`
	} `json:"responses"`
}

// poll polls request id on path until it is done.
func (e *env) poll(path, id string) batchResult {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := decodeInto[batchResult](e.t, e.json("POST", path+"?queueRequest=true", map[string]string{"request_id": id}, 200))
		if r.RequestID != id {
			e.t.Fatalf("poll answered for %q, want %q", r.RequestID, id)
		}
		switch r.Status {
		case "done":
			return r
		case "queued", "running":
		default:
			e.t.Fatalf("status %q", r.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("batch %s not done in time", id)
	return batchResult{}
}

func TestRunBatchQueue(t *testing.T) {
	e := newEnv(t)
	gp := base + "/ai/run/@cf/meta/llama-3.1-8b-instruct"
	// The REST API's ?queueRequest=true and the body field both queue.
	acc := decodeInto[batchResult](t, e.json("POST", gp, `{"queueRequest":true,"requests":[
		{"prompt":"one","external_reference":"a"},
		{"messages":[{"role":"user","content":"two"}],"max_tokens":5}]}`, 200))
	if acc.Status != "queued" || acc.RequestID == "" || acc.Model != "@cf/meta/llama-3.1-8b-instruct" || acc.Responses != nil {
		t.Fatalf("accepted %+v", acc)
	}
	done := e.poll(gp, acc.RequestID)
	if len(done.Responses) != 2 {
		t.Fatalf("responses %+v", done.Responses)
	}
	for i, r := range done.Responses {
		g := decodeInto[genResult](t, r.Result)
		if r.ID != i || !r.Success || g.Response != "Hello world" || g.Usage == nil || g.Usage.CompletionTokens != 3 {
			t.Errorf("response %d: %+v %s", i, r, r.Result)
		}
	}
	if done.Responses[0].ExternalReference != "a" {
		t.Errorf("external_reference %q", done.Responses[0].ExternalReference)
	}
	e.gen.mu.Lock()
	n := len(e.gen.reqs)
	e.gen.mu.Unlock()
	if n != 2 {
		t.Fatalf("generator ran %d times", n)
	}

	// Embeddings go through the model's embedder.
	ep := base + "/ai/run/@cf/baai/bge-small-en-v1.5"
	acc = decodeInto[batchResult](t, e.json("POST", ep+"?queueRequest=true", `{"requests":[{"text":"hello"},{"text":["a","bb"]}]}`, 200))
	done = e.poll(ep, acc.RequestID)
	for i, want := range []string{"[1 384]", "[2 384]"} {
		r := decodeInto[embedResult](t, done.Responses[i].Result)
		if fmt.Sprint(r.Shape) != want || r.Data[0][0] != float64(len([]string{"hello", "a"}[i])) {
			t.Errorf("embedding %d: shape %v first %v", i, r.Shape, r.Data[0][0])
		}
	}

	// Unknown ids are 404; malformed batches 400 before anything is queued.
	e.fail("POST", gp+"?queueRequest=true", "application/json", `{"request_id":"no-such-id"}`, 404, "no such batch")
	e.fail("POST", gp, "application/json", `{"request_id":"no-such-id"}`, 404, "no such batch")
	e.fail("POST", gp+"?queueRequest=true", "application/json", `{"requests":[]}`, 400, "non-empty array")
	e.fail("POST", gp+"?queueRequest=maybe", "application/json", `{"requests":[{"prompt":"x"}]}`, 400, "queueRequest")
	e.fail("POST", gp+"?queueRequest=true", "application/json", `{"requests":[{"prompt":"x"},{"prompt":"y","stream":true}]}`, 400, "requests[1]: ")
	e.fail("POST", gp+"?queueRequest=true", "application/json", `{"requests":[{"prompt":"x","bogus":1}]}`, 400, "unknown field")
	e.fail("POST", ep+"?queueRequest=true", "application/json", `{"requests":[{"text":"x"}],"extra":1}`, 400, `unknown field "extra"`)
	e.fail("POST", gp, "application/json", `{"requests":[{"prompt":"x"}]}`, 400, "queueRequest")
}

// gateGen blocks every generation until its gate closes (or the context
// ends), then answers "ok".
type gateGen struct{ gate chan struct{} }

func (g *gateGen) Info() generate.Info { return generate.Info{ID: "gate"} }

func (g *gateGen) Generate(ctx context.Context, req generate.Request, emit func(generate.Event) error) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := emit(generate.Event{Type: generate.EventToken, Delta: "ok"}); err != nil {
		return err
	}
	return emit(generate.Event{Type: generate.EventDone, FinishReason: "stop"})
}

func TestRunBatchQueueBounded(t *testing.T) {
	g := &gateGen{gate: make(chan struct{})}
	e := newEnv(t, func(c *cloudflare.Config) { c.Generator = g; c.MaxQueuedRequests = 3 })
	p := base + "/ai/run/@cf/meta/llama-3.1-8b-instruct?queueRequest=true"
	e.json("POST", p, `{"requests":[{"prompt":"a"},{"prompt":"b"}]}`, 200)
	req, _ := http.NewRequest("POST", e.srv.URL+p, strings.NewReader(`{"requests":[{"prompt":"c"},{"prompt":"d"}]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the bound: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.fail("POST", p, "application/json", `{"requests":[{"prompt":"c"},{"prompt":"d"}]}`, 429, "queue is full")
	e.fail("POST", p, "application/json", `{"requests":[{"prompt":"a"},{"prompt":"b"},{"prompt":"c"},{"prompt":"d"}]}`, 413, "at most 3")
	close(g.gate)
}

func TestRunBatchQueueSurvivesRestart(t *testing.T) {
	g := &gateGen{gate: make(chan struct{})} // never opens before the restart
	e := newEnv(t, func(c *cloudflare.Config) { c.Generator = g })
	p := base + "/ai/run/@cf/meta/llama-3.1-8b-instruct"
	acc := decodeInto[batchResult](t, e.json("POST", p+"?queueRequest=true", `{"requests":[{"prompt":"a"},{"prompt":"b"}]}`, 200))
	e.svc.Close() // the batch is in flight: it stays queued on disk

	// A new process on the same data dir runs it again and finishes it.
	again := newEnvWith(t, e.engine, e.dir, e.models)
	done := again.poll(p, acc.RequestID)
	for i, r := range done.Responses {
		if !r.Success || decodeInto[genResult](t, r.Result).Response != "Hello world" {
			t.Errorf("response %d after the restart: %+v", i, r)
		}
	}
}
