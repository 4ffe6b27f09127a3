package llama

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
)

type result struct {
	deltas []string
	done   generate.Event
	events int
	err    error
}

func (r result) text() string { return strings.Join(r.deltas, "") }

func collect(ctx context.Context, m *Model, req generate.Request) result {
	var r result
	r.err = m.Generate(ctx, req, func(e generate.Event) error {
		r.events++
		switch e.Type {
		case generate.EventToken:
			if r.done.Type != "" {
				return errors.New("token after done")
			}
			r.deltas = append(r.deltas, e.Delta)
		case generate.EventDone:
			if r.done.Type != "" {
				return errors.New("second done event")
			}
			r.done = e
		default:
			return errors.New("unknown event " + e.Type)
		}
		return nil
	})
	return r
}

func seed(v uint32) *uint32 { return &v }

func TestGenerateGreedyReproducible(t *testing.T) {
	m := tinyModel(t)
	req := generate.Request{Prompt: "Once upon a time", MaxTokens: 16}
	a := collect(context.Background(), m, req)
	b := collect(context.Background(), m, req)
	if a.err != nil || b.err != nil {
		t.Fatal(a.err, b.err)
	}
	if a.text() == "" || a.text() != b.text() {
		t.Errorf("greedy runs differ or are empty:\n%q\n%q", a.text(), b.text())
	}
	if a.done.FinishReason != FinishLength || a.done.Usage == nil ||
		a.done.Usage.PromptTokens != 5 || a.done.Usage.CompletionTokens != 16 {
		t.Errorf("done = %+v usage %+v", a.done, a.done.Usage)
	}
	// Streamed token by token: one delta per token, apart from pieces held
	// back to complete a UTF-8 character.
	if len(a.deltas) < 12 {
		t.Errorf("only %d deltas for 16 tokens", len(a.deltas))
	}
}

func TestGenerateSeededSampling(t *testing.T) {
	m := tinyModel(t)
	req := func(s uint32) generate.Request {
		return generate.Request{Prompt: "Once upon a time", MaxTokens: 24, Temperature: 1.5, TopK: 1000, TopP: 0.99, Seed: seed(s)}
	}
	a := collect(context.Background(), m, req(42))
	b := collect(context.Background(), m, req(42))
	c := collect(context.Background(), m, req(7))
	greedy := collect(context.Background(), m, generate.Request{Prompt: "Once upon a time", MaxTokens: 24})
	for _, r := range []result{a, b, c, greedy} {
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	if a.text() != b.text() {
		t.Errorf("same seed, different text:\n%q\n%q", a.text(), b.text())
	}
	if a.text() == c.text() {
		t.Errorf("seeds 42 and 7 gave the same %d tokens: %q", a.done.Usage.CompletionTokens, a.text())
	}
	if a.text() == greedy.text() {
		t.Errorf("sampling at temperature 1.5 matched greedy decoding: %q", a.text())
	}
	if len(a.deltas) < 18 {
		t.Errorf("only %d deltas for 24 tokens", len(a.deltas))
	}
}

func TestGenerateMaxTokensAndStop(t *testing.T) {
	m := tinyModel(t)
	base := generate.Request{Prompt: "Once upon a time", MaxTokens: 12}
	full := collect(context.Background(), m, base)
	if full.err != nil || len(full.deltas) < 6 {
		t.Fatalf("reference run: %v, %d deltas", full.err, len(full.deltas))
	}
	short := collect(context.Background(), m, generate.Request{Prompt: "Once upon a time", MaxTokens: 3})
	if short.err != nil || short.done.Usage.CompletionTokens != 3 || short.done.FinishReason != FinishLength {
		t.Errorf("max tokens 3: %v %+v %+v", short.err, short.done, short.done.Usage)
	}
	if !strings.HasPrefix(full.text(), short.text()) {
		t.Errorf("3-token run %q is not a prefix of %q", short.text(), full.text())
	}

	// Stop strings taken from the reference output: inside one delta, and
	// spanning the boundary between two deltas.
	d3, d4 := full.deltas[3], full.deltas[4]
	inside := strings.TrimSpace(d3)
	spanning := d3[len(d3)-min(2, len(d3)):] + d4[:min(2, len(d4))]
	for _, stop := range []string{inside, spanning} {
		t.Run(stop, func(t *testing.T) {
			r := collect(context.Background(), m, generate.Request{Prompt: "Once upon a time", MaxTokens: 12, Stop: []string{"never-there", stop}})
			if r.err != nil {
				t.Fatal(r.err)
			}
			want := full.text()[:strings.Index(full.text(), stop)]
			if r.text() != want {
				t.Errorf("with stop %q got %q, want %q", stop, r.text(), want)
			}
			for _, d := range r.deltas {
				if strings.Contains(d, stop) {
					t.Errorf("delta %q contains the stop string", d)
				}
			}
			if r.done.FinishReason != FinishStop {
				t.Errorf("finish = %q, want stop", r.done.FinishReason)
			}
		})
	}
}

func TestGenerateMessages(t *testing.T) {
	m := tinyModel(t)
	msgs := []generate.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "hi"}}
	got, err := m.applyTemplate("chatml", msgs)
	want := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
	if err != nil || got != want {
		t.Errorf("chatml = %q, %v; want %q", got, err, want)
	}
	if _, err := m.applyTemplate("chatml", nil); err == nil {
		t.Error("no messages accepted")
	}
	if _, err := m.applyTemplate("{% for m in messages %}not a known template{% endfor %}", msgs); err == nil {
		t.Error("an unknown Jinja template was accepted")
	}
	r := collect(context.Background(), m, generate.Request{Messages: msgs, MaxTokens: 4})
	if r.err != nil || r.done.Usage.CompletionTokens != 4 || r.done.Usage.PromptTokens < 10 {
		t.Errorf("messages: %v %+v", r.err, r.done.Usage)
	}
}

func TestGenerateRenderHook(t *testing.T) {
	lib, path := testLibDir(t), tinyPath(t)
	var seen []generate.Message
	m, err := Load(context.Background(), path, Config{LibDir: lib, Threads: 1, ContextSize: 64,
		Render: func(msgs []generate.Message) (string, error) {
			seen = msgs
			return "Once upon a time", nil
		}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := collect(context.Background(), m, generate.Request{Messages: []generate.Message{{Role: "user", Content: "x"}}, MaxTokens: 2})
	if r.err != nil || len(seen) != 1 || r.done.Usage.PromptTokens != 5 {
		t.Errorf("render hook: %v, seen %v, usage %+v", r.err, seen, r.done.Usage)
	}
}

func TestGenerateBadRequests(t *testing.T) {
	m := tinyModel(t)
	emit := func(generate.Event) error { return nil }
	tests := []struct {
		name string
		req  generate.Request
		want error
	}{
		{"empty", generate.Request{}, data.ErrInvalid},
		{"negative max tokens", generate.Request{Prompt: "a", MaxTokens: -1}, data.ErrInvalid},
		{"negative temperature", generate.Request{Prompt: "a", Temperature: -1}, data.ErrInvalid},
		{"top_p above 1", generate.Request{Prompt: "a", TopP: 1.5}, data.ErrInvalid},
		{"negative top_k", generate.Request{Prompt: "a", TopK: -3}, data.ErrInvalid},
		{"prompt longer than the context", generate.Request{Prompt: strings.Repeat("Once upon a time ", 100)}, generate.ErrContextFull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			err := m.Generate(context.Background(), tc.req, func(generate.Event) error { called = true; return nil })
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if called {
				t.Error("events emitted for a rejected request")
			}
		})
	}
	if err := m.Generate(context.Background(), generate.Request{Prompt: "a"}, nil); !errors.Is(err, data.ErrInvalid) {
		t.Errorf("nil emit: %v", err)
	}
	_ = emit
}

func TestGenerateContextFillsUp(t *testing.T) {
	m := tinyModel(t) // context 256
	prompt := strings.Repeat("Once upon a time ", 60)
	n, _ := m.CountTokens(prompt)
	r := collect(context.Background(), m, generate.Request{Prompt: prompt, MaxTokens: 1000})
	if r.err != nil || r.done.FinishReason != FinishLength {
		t.Fatalf("%v %+v", r.err, r.done)
	}
	if total := r.done.Usage.PromptTokens + r.done.Usage.CompletionTokens; total != 256 || r.done.Usage.PromptTokens < n {
		t.Errorf("prompt %d + completion %d, want a full context of 256", r.done.Usage.PromptTokens, r.done.Usage.CompletionTokens)
	}
}

func TestGenerateEmitError(t *testing.T) {
	m := tinyModel(t)
	boom := errors.New("client gone")
	n := 0
	err := m.Generate(context.Background(), generate.Request{Prompt: "Once upon a time", MaxTokens: 50}, func(e generate.Event) error {
		n++
		if n == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 2 {
		t.Errorf("err = %v after %d events", err, n)
	}
}

// oneSlot loads a model with one slot and the given queue.
func oneSlot(t *testing.T, queue int) *Model {
	t.Helper()
	m, err := Load(context.Background(), tinyPath(t), Config{LibDir: testLibDir(t), Slots: 1, QueueSize: queue, Threads: 1, ContextSize: 128}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestCancelFreesSlot(t *testing.T) {
	m := oneSlot(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var r result
	r.err = m.Generate(ctx, generate.Request{Prompt: "Once upon a time", MaxTokens: 100}, func(e generate.Event) error {
		if e.Type == generate.EventDone {
			r.done = e
			return nil
		}
		r.deltas = append(r.deltas, e.Delta)
		if len(r.deltas) == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", r.err)
	}
	if r.done.FinishReason != FinishCancelled || r.done.Usage.CompletionTokens != 3 {
		t.Errorf("done = %+v usage %+v", r.done, r.done.Usage)
	}
	// The only slot is free again: the next request runs at once.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	next := collect(ctx2, m, generate.Request{Prompt: "Once upon a time", MaxTokens: 4})
	if next.err != nil || next.done.Usage.CompletionTokens != 4 {
		t.Errorf("request after cancel: %v %+v", next.err, next.done.Usage)
	}
	// Cancelled before it starts: no slot taken, no events.
	dead, kill := context.WithCancel(context.Background())
	kill()
	r2 := collect(dead, m, generate.Request{Prompt: "Once upon a time", MaxTokens: 4})
	if !errors.Is(r2.err, context.Canceled) {
		t.Errorf("pre-cancelled: %v", r2.err)
	}
}

func TestQueueOverflow(t *testing.T) {
	m := oneSlot(t, 2)
	hold := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	var first, second, waiter result
	waitFor := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for m.pool.waiting.Load() != n {
			if time.Now().After(deadline) {
				t.Fatalf("queue never reached %d waiters", n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	wg.Add(3)
	go func() {
		defer wg.Done()
		once := false
		first.err = m.Generate(context.Background(), generate.Request{Prompt: "Once upon a time", MaxTokens: 3}, func(e generate.Event) error {
			if !once {
				once = true
				close(started)
				<-hold // keep the only slot busy
			}
			return nil
		})
	}()
	<-started
	go func() {
		defer wg.Done()
		second = collect(context.Background(), m, generate.Request{Prompt: "Once upon a time", MaxTokens: 3})
	}()
	waitFor(1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer wg.Done()
		waiter = collect(ctx, m, generate.Request{Prompt: "Once upon a time", MaxTokens: 3})
	}()
	waitFor(2)
	third := collect(context.Background(), m, generate.Request{Prompt: "Once upon a time", MaxTokens: 3})
	if !errors.Is(third.err, generate.ErrOverloaded) || third.events != 0 {
		t.Errorf("third request: %v (%d events), want ErrOverloaded", third.err, third.events)
	}
	// A waiting request gives up when its context ends, freeing its place.
	cancel()
	waitFor(1)
	close(hold)
	wg.Wait()
	if !errors.Is(waiter.err, context.Canceled) || waiter.events != 0 {
		t.Errorf("cancelled waiter: %v (%d events)", waiter.err, waiter.events)
	}
	if first.err != nil || second.err != nil || second.done.Usage.CompletionTokens != 3 {
		t.Errorf("queued requests: %v, %v %+v", first.err, second.err, second.done.Usage)
	}
}

func TestConcurrentRequests(t *testing.T) {
	m := tinyModel(t) // 2 slots, queue 4
	req := generate.Request{Prompt: "Once upon a time", MaxTokens: 8}
	want := collect(context.Background(), m, req)
	if want.err != nil {
		t.Fatal(want.err)
	}
	const n = 6 // 2 running + 4 queued fit
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = collect(context.Background(), m, req)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if errors.Is(r.err, generate.ErrOverloaded) {
			continue // a goroutine may arrive before a slot is returned
		}
		if r.err != nil || r.text() != want.text() {
			t.Errorf("request %d: %v %q, want %q", i, r.err, r.text(), want.text())
		}
	}
}

func generateReq(n int) generate.Request {
	return generate.Request{Prompt: "Once upon a time", MaxTokens: n}
}

// TestEndOfGeneration forces the end-of-sequence token (</s>, id 2) after a
// few tokens with a llama.cpp logit-bias sampler and checks that generation
// stops there with finish reason "stop" and that EOS is not counted.
func TestEndOfGeneration(t *testing.T) {
	m := oneSlot(t, 0)
	if !m.lib.vocabIsEOG(m.vocab, 2) || m.lib.vocabIsEOG(m.vocab, 9038) {
		t.Fatal("llama_vocab_is_eog disagrees with the Llama-2 vocabulary (</s> = 2)")
	}
	free := collect(context.Background(), m, generateReq(8))
	if free.err != nil || free.done.FinishReason != FinishLength {
		t.Fatalf("unbiased run: %v %+v", free.err, free.done)
	}
	bias := []logitBias{{token: 2, bias: 1e9}}
	m.biasHook = func(chain uintptr) {
		m.lib.samplerChainAdd(chain, m.lib.samplerInitBias(m.nVocab, int32(len(bias)), &bias[0]))
	}
	for _, temp := range []float64{0, 0.8} {
		r := collect(context.Background(), m, generate.Request{Prompt: "Once upon a time", MaxTokens: 8, Temperature: temp, Seed: seed(1)})
		if r.err != nil || r.done.FinishReason != FinishStop || r.done.Usage.CompletionTokens != 0 || len(r.deltas) != 0 {
			t.Errorf("temperature %v: %v %+v %+v %q", temp, r.err, r.done, r.done.Usage, r.deltas)
		}
	}
}
