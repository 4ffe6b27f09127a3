package aibatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
)

// echoRunner answers {"echo": <the request's "text">}; it blocks while
// gate is non-nil and open.
type echoRunner struct {
	mu    sync.Mutex
	calls int
	gate  chan struct{}
}

func (r *echoRunner) Run(ctx context.Context, model string, req json.RawMessage) (json.RawMessage, error) {
	r.mu.Lock()
	r.calls++
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(req, &in); err != nil {
		return nil, err
	}
	if in.Text == "fail" {
		return nil, errors.New("boom")
	}
	return json.Marshal(map[string]string{"echo": in.Text, "model": model, "raw": string(req)})
}

func reqs(texts ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(texts))
	for i, t := range texts {
		out[i] = json.RawMessage(fmt.Sprintf(`{"text":%q,"external_reference":"ref-%d"}`, t, i))
	}
	return out
}

func waitDone(t *testing.T, q *Queue, id string) Batch {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := q.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if b.Status == StatusDone {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("batch %s not done", id)
	return Batch{}
}

func TestQueueRunsBatch(t *testing.T) {
	r := &echoRunner{}
	q, err := Open(Config{Runner: r, Dir: t.TempDir(), Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	b, err := q.Submit("@cf/m", reqs("a", "fail", "c"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != StatusQueued || len(b.ID) != 36 {
		t.Fatalf("submitted: %+v", b)
	}
	done := waitDone(t, q, b.ID)
	if len(done.Responses) != 3 {
		t.Fatalf("responses: %+v", done.Responses)
	}
	for i, want := range []string{"a", "", "c"} {
		res := done.Responses[i]
		if res.ID != i || string(res.ExternalReference) != fmt.Sprintf(`"ref-%d"`, i) {
			t.Errorf("response %d: id/ref %+v", i, res)
		}
		if want == "" {
			if res.Success || res.Error != "boom" {
				t.Errorf("response %d should have failed: %+v", i, res)
			}
			continue
		}
		var out map[string]string
		if err := json.Unmarshal(res.Result, &out); err != nil || !res.Success || out["echo"] != want || out["model"] != "@cf/m" {
			t.Errorf("response %d: %s %v", i, res.Result, err)
		}
		if out["raw"] != fmt.Sprintf(`{"text":%q}`, want) {
			t.Errorf("external_reference reached the runner: %s", out["raw"])
		}
	}
	if q.Pending() != 0 {
		t.Errorf("pending %d after done", q.Pending())
	}
}

func TestQueueBounded(t *testing.T) {
	r := &echoRunner{gate: make(chan struct{})}
	q, err := Open(Config{Runner: r, MaxQueued: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if _, err := q.Submit("m", reqs("a", "b")); err != nil {
		t.Fatal(err)
	}
	_, err = q.Submit("m", reqs("c", "d"))
	if !errors.Is(err, ErrFull) || !errors.Is(err, data.ErrOverloaded) {
		t.Fatalf("over the bound: %v", err)
	}
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() <= 0 {
		t.Errorf("no Retry-After hint on %v", err)
	}
	if _, err := q.Submit("m", reqs("a", "b", "c", "d")); !errors.Is(err, data.ErrTooLarge) {
		t.Errorf("a batch over the whole bound: %v", err)
	}
	if _, err := q.Submit("m", nil); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("empty batch: %v", err)
	}
	if _, err := q.Submit("m", []json.RawMessage{json.RawMessage(`[1]`)}); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("non-object request: %v", err)
	}
	close(r.gate)
	if _, err := q.Submit("m", reqs("e")); err != nil {
		t.Fatalf("one more fits: %v", err)
	}
}

func TestQueueUnknownID(t *testing.T) {
	q, err := Open(Config{Runner: &echoRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if _, err := q.Get("nope"); !errors.Is(err, ErrNotFound) || !errors.Is(err, data.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestQueueSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	r := &echoRunner{gate: make(chan struct{})} // never opens: the batch is in flight at close
	q, err := Open(Config{Runner: r, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.Submit("m", reqs("x", "y"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := q.Submit("m", reqs("z"))
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	q.Close() // twice is fine
	if _, err := q.Submit("m", reqs("late")); !errors.Is(err, data.ErrClosed) {
		t.Errorf("submit after close: %v", err)
	}
	// A crash leaves a temporary file behind; it is ignored.
	if err := os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A damaged batch file is set aside; the others still load.
	if err := os.WriteFile(filepath.Join(dir, "damaged.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	q2, err := Open(Config{Runner: &echoRunner{}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{b.ID, second.ID} {
		done := waitDone(t, q2, id)
		for _, res := range done.Responses {
			if !res.Success {
				t.Errorf("%s: %+v", id, res)
			}
		}
	}
	q2.Close()
	// Finished batches are kept across restarts too.
	q3, err := Open(Config{Runner: &echoRunner{}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer q3.Close()
	got, err := q3.Get(b.ID)
	if err != nil || got.Status != StatusDone || len(got.Responses) != 2 {
		t.Fatalf("after a second restart: %+v %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "damaged.json.bad")); err != nil {
		t.Errorf("damaged file not set aside: %v", err)
	}
}

func TestQueueExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	dir := t.TempDir()
	q, err := Open(Config{Runner: &echoRunner{}, Dir: dir, Keep: time.Hour, MaxDone: 2, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var ids []string
	for i := range 3 {
		b, err := q.Submit("m", reqs(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		waitDone(t, q, b.ID)
		ids = append(ids, b.ID)
		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
	}
	if _, err := q.Get(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("the oldest of three, MaxDone 2: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ids[0]+".json")); !os.IsNotExist(err) {
		t.Errorf("file of an expired batch kept: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	for _, id := range ids[1:] {
		if _, err := q.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("past Keep: %v", err)
		}
	}
}

// busyRunner is overloaded for its first n calls.
type busyRunner struct {
	mu    sync.Mutex
	n     int
	calls int
}

func (r *busyRunner) Run(ctx context.Context, model string, req json.RawMessage) (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.n {
		return nil, fmt.Errorf("slots busy: %w", data.ErrOverloaded)
	}
	return json.RawMessage(`{"ok":true}`), nil
}

func TestQueueWaitsOutOverload(t *testing.T) {
	r := &busyRunner{n: 3}
	q, err := Open(Config{Runner: r, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	b, err := q.Submit("m", reqs("a"))
	if err != nil {
		t.Fatal(err)
	}
	done := waitDone(t, q, b.ID)
	if !done.Responses[0].Success || string(done.Responses[0].Result) != `{"ok":true}` {
		t.Fatalf("an overloaded model failed the request: %+v", done.Responses[0])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls != 4 {
		t.Fatalf("%d calls, want 4", r.calls)
	}
}
