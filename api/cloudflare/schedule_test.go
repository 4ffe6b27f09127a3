package cloudflare_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ragd/ragd/api/cloudflare"
	"github.com/ragd/ragd/rag/sched"
)

// A Vectorize query runs on the search scheduler: with its one worker busy
// and no room to wait, the query is a 429 in Cloudflare's envelope with
// Retry-After; once the worker is free the same query answers.
func TestVectorizeQueryQueueFull(t *testing.T) {
	s, err := sched.New(sched.Config{Name: "search", Workers: 1, Queue: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	e := newEnv(t, func(c *cloudflare.Config) { c.Scheduler = s })
	e.createIndex("films", 3, "cosine")
	e.ndjson("films", "insert", films, 200)

	started, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Do(context.Background(), 1, func(context.Context) error { close(started); <-stop; return nil })
	}()
	<-started
	req, err := http.NewRequest("POST", e.srv.URL+vpath("films", "query"), strings.NewReader(`{"vector":[1,0,0],"topK":1}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("busy: status %d, Retry-After %q; want 429 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code := e.fail("POST", vpath("films", "query"), "application/json", `{"vector":[1,0,0],"topK":1}`, 429, "overloaded"); code != 42901 {
		t.Fatalf("error code %d, want 42901", code)
	}
	close(stop)
	<-done
	if q := e.query("films", map[string]any{"vector": []float64{1, 0, 0}, "topK": 1}); q.Count != 1 || ids(q.Matches) != "alien" {
		t.Fatalf("query after the worker freed: %+v", q)
	}
}
