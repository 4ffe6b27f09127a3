package batch

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

// fake is a deterministic embedder. Each vector depends only on its text
// and kind. Calls block until gate is closed (when gate is non-nil), and
// fail when their batch holds the poison text.
type fake struct {
	gate    chan struct{}
	started chan struct{} // receives one value as each call begins (if non-nil)
	poison  string

	mu    sync.Mutex
	calls []call
}

type call struct {
	kind  embed.Kind
	texts []string
	ctx   context.Context
}

const fakeDims = 4

func fakeVec(kind embed.Kind, text string) []float32 {
	h := fnv.New32a()
	h.Write([]byte(text))
	return []float32{float32(len(text)), float32(h.Sum32() % 10007), float32(kind), 1}
}

func (f *fake) Info() embed.Info { return embed.Info{ID: "fake", Dims: fakeDims} }

func (f *fake) Embed(ctx context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{kind: kind, texts: slices.Clone(texts), ctx: ctx})
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.poison != "" && slices.Contains(texts, f.poison) {
		return nil, errors.New("fake: poison in batch")
	}
	// One backing array, as real models do.
	flat := make([]float32, len(texts)*fakeDims)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = flat[i*fakeDims : (i+1)*fakeDims]
		copy(out[i], fakeVec(kind, t))
	}
	return out, nil
}

func (f *fake) snapshot() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func want(kind embed.Kind, texts []string) [][]float32 {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = fakeVec(kind, t)
	}
	return out
}

func equal(a, b [][]float32) bool {
	return slices.EqualFunc(a, b, func(x, y []float32) bool { return slices.Equal(x, y) })
}

// waitFor polls cond until it holds; it fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

type reply struct {
	vecs [][]float32
	err  error
}

// async runs Embed in a goroutine and returns the channel of its reply.
func async(ctx context.Context, b *Batcher, kind embed.Kind, texts ...string) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		v, err := b.Embed(ctx, kind, texts)
		ch <- reply{v, err}
	}()
	return ch
}

// blockFirst starts one request that occupies the only in-flight slot until
// f.gate is closed, so that later requests queue up.
func blockFirst(t *testing.T, b *Batcher, f *fake, texts ...string) <-chan reply {
	t.Helper()
	if len(texts) == 0 {
		texts = []string{"blocker"}
	}
	ch := async(context.Background(), b, embed.Query, texts...)
	<-f.started
	return ch
}

func TestCoalescedResultsMatchUnbatched(t *testing.T) {
	f := &fake{}
	b := New(f, Config{MaxBatch: 16, MaxWait: time.Millisecond})
	defer b.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	const goroutines, perG = 48, 20
	inputs := make([][][]string, goroutines)
	for g := range inputs {
		inputs[g] = make([][]string, perG)
		for i := range inputs[g] {
			n := 1 + rng.IntN(5)
			for j := range n {
				inputs[g][i] = append(inputs[g][i], fmt.Sprintf("g%d r%d t%d %d", g, i, j, rng.IntN(1000)))
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			kind := embed.Kind(g % 2)
			for _, texts := range inputs[g] {
				got, err := b.Embed(context.Background(), kind, texts)
				if err != nil {
					errs <- err
					return
				}
				if !equal(got, want(kind, texts)) {
					errs <- fmt.Errorf("goroutine %d: vectors differ from unbatched for %q", g, texts)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := b.Stats()
	for _, c := range f.snapshot() {
		if len(c.texts) > 16 {
			t.Errorf("batch of %d texts, MaxBatch 16", len(c.texts))
		}
	}
	if st.Batches == 0 || st.Queued != 0 || st.Rejected != 0 {
		t.Errorf("stats %+v", st)
	}
	if st.Batches != int64(len(f.snapshot())) {
		t.Errorf("stats count %d batches, inner saw %d calls", st.Batches, len(f.snapshot()))
	}
}

func TestQueuedRequestsFormOneBatch(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	b := New(f, Config{MaxBatch: 64, MaxWait: time.Millisecond})
	defer b.Close()
	first := blockFirst(t, b, f)

	var replies []<-chan reply
	var texts [][]string
	for i := range 10 {
		tx := []string{fmt.Sprintf("q%d a", i)}
		if i%3 == 0 {
			tx = append(tx, fmt.Sprintf("q%d b", i))
		}
		texts = append(texts, tx)
		replies = append(replies, async(context.Background(), b, embed.Query, tx...))
	}
	waitFor(t, "14 queued texts", func() bool { return b.Stats().Queued == 14 })
	close(f.gate)
	if r := <-first; r.err != nil {
		t.Fatal(r.err)
	}
	for i, ch := range replies {
		r := <-ch
		if r.err != nil || !equal(r.vecs, want(embed.Query, texts[i])) {
			t.Errorf("request %d: %v %v", i, r.vecs, r.err)
		}
	}
	calls := f.snapshot()
	if len(calls) != 2 || len(calls[1].texts) != 14 {
		t.Fatalf("inner calls %v, want the blocker then one batch of 14", calls)
	}
	if st := b.Stats(); st.Batches != 2 || st.Texts != 15 || st.MeanBatch != 7.5 {
		t.Errorf("stats %+v", st)
	}
}

func TestKindsAreNotMixed(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	b := New(f, Config{})
	defer b.Close()
	first := blockFirst(t, b, f)
	q := async(context.Background(), b, embed.Query, "same text")
	p := async(context.Background(), b, embed.Passage, "same text")
	waitFor(t, "2 queued", func() bool { return b.Stats().Queued == 2 })
	close(f.gate)
	<-first
	rq, rp := <-q, <-p
	if rq.err != nil || rp.err != nil {
		t.Fatal(rq.err, rp.err)
	}
	if !equal(rq.vecs, want(embed.Query, []string{"same text"})) || !equal(rp.vecs, want(embed.Passage, []string{"same text"})) {
		t.Errorf("query %v passage %v", rq.vecs, rp.vecs)
	}
	for _, c := range f.snapshot() {
		if c.texts[0] == "same text" && len(c.texts) != 1 {
			t.Errorf("kinds mixed in one call: %+v", c)
		}
	}
}

func TestPoisonFailsOnlyItsRequest(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100), poison: "poison"}
	b := New(f, Config{})
	defer b.Close()
	first := blockFirst(t, b, f)
	good1 := async(context.Background(), b, embed.Passage, "a", "b")
	bad := async(context.Background(), b, embed.Passage, "c", "poison")
	good2 := async(context.Background(), b, embed.Passage, "d")
	waitFor(t, "5 queued", func() bool { return b.Stats().Queued == 5 })
	close(f.gate)
	<-first
	if r := <-bad; r.err == nil || r.vecs != nil {
		t.Errorf("poisoned request: %v, %v; want an error", r.vecs, r.err)
	}
	if r := <-good1; r.err != nil || !equal(r.vecs, want(embed.Passage, []string{"a", "b"})) {
		t.Errorf("good1: %v %v", r.vecs, r.err)
	}
	if r := <-good2; r.err != nil || !equal(r.vecs, want(embed.Passage, []string{"d"})) {
		t.Errorf("good2: %v %v", r.vecs, r.err)
	}
	if st := b.Stats(); st.Retries != 3 {
		t.Errorf("retries %d, want 3 (each request of the failed batch alone)", st.Retries)
	}
	// The failing batch was one call, then one call per request.
	if calls := f.snapshot(); len(calls) != 1+1+3 {
		t.Errorf("%d inner calls, want 5", len(calls))
	}
}

func TestSingleRequestErrorIsReturnedAsIs(t *testing.T) {
	f := &fake{poison: "poison"}
	b := New(f, Config{})
	defer b.Close()
	_, err := b.Embed(context.Background(), embed.Query, []string{"poison"})
	if err == nil || err.Error() != "fake: poison in batch" {
		t.Errorf("err %v", err)
	}
	if st := b.Stats(); st.Retries != 0 {
		t.Errorf("a lone request was retried: %+v", st)
	}
}

func TestCancelWhileQueued(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	b := New(f, Config{})
	defer b.Close()
	first := blockFirst(t, b, f)
	ctx, cancel := context.WithCancel(context.Background())
	gone := async(ctx, b, embed.Query, "gone 1", "gone 2")
	stay := async(context.Background(), b, embed.Query, "stay")
	waitFor(t, "3 queued", func() bool { return b.Stats().Queued == 3 })
	cancel()
	if r := <-gone; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled request: %v", r.err)
	}
	if st := b.Stats(); st.Queued != 1 || st.Dropped != 1 {
		t.Errorf("after cancel: %+v, want 1 queued, 1 dropped", st)
	}
	close(f.gate)
	<-first
	if r := <-stay; r.err != nil || !equal(r.vecs, want(embed.Query, []string{"stay"})) {
		t.Errorf("other request: %v %v", r.vecs, r.err)
	}
	for _, c := range f.snapshot() {
		if slices.Contains(c.texts, "gone 1") {
			t.Errorf("dropped request reached the embedder: %v", c.texts)
		}
	}
}

func TestCancelWhileRunning(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	b := New(f, Config{})
	defer b.Close()
	first := blockFirst(t, b, f)
	ctx, cancel := context.WithCancel(context.Background())
	gone := async(ctx, b, embed.Query, "gone")
	stay := async(context.Background(), b, embed.Query, "stay")
	waitFor(t, "2 queued", func() bool { return b.Stats().Queued == 2 })
	// Free the slot: the blocker finishes, the batch of both starts and blocks.
	f.gate <- struct{}{}
	<-first
	<-f.started
	cancel()
	if r := <-gone; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled request: %v", r.err)
	}
	calls := f.snapshot()
	batchCtx := calls[len(calls)-1].ctx
	if batchCtx.Err() != nil {
		t.Fatal("one cancelled request cancelled the whole batch")
	}
	close(f.gate)
	if r := <-stay; r.err != nil || !equal(r.vecs, want(embed.Query, []string{"stay"})) {
		t.Errorf("other request: %v %v", r.vecs, r.err)
	}
}

func TestBatchCancelledWhenAllRequestsGone(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	b := New(f, Config{})
	defer b.Close()
	first := blockFirst(t, b, f)
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	r1 := async(ctx1, b, embed.Query, "x")
	r2 := async(ctx2, b, embed.Query, "y")
	waitFor(t, "2 queued", func() bool { return b.Stats().Queued == 2 })
	f.gate <- struct{}{}
	<-first
	<-f.started // the batch of x and y
	calls := f.snapshot()
	batchCtx := calls[len(calls)-1].ctx
	cancel1()
	<-r1
	if batchCtx.Err() != nil {
		t.Fatal("batch cancelled while a request still waits")
	}
	cancel2()
	<-r2
	waitFor(t, "batch context cancelled", func() bool { return batchCtx.Err() != nil })
	close(f.gate)
}

func TestOverloaded(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	b := New(f, Config{MaxBatch: 4, MaxQueue: 8})
	defer b.Close()
	first := blockFirst(t, b, f)
	var queued []<-chan reply
	for i := range 4 {
		queued = append(queued, async(context.Background(), b, embed.Query, fmt.Sprint(i), fmt.Sprint(i+10)))
	}
	waitFor(t, "8 queued", func() bool { return b.Stats().Queued == 8 })
	_, err := b.Embed(context.Background(), embed.Query, []string{"one too many"})
	if !errors.Is(err, data.ErrOverloaded) {
		t.Fatalf("full queue: err %v, want ErrOverloaded", err)
	}
	if st := b.Stats(); st.Rejected != 1 {
		t.Errorf("rejected %d", st.Rejected)
	}
	close(f.gate)
	<-first
	for i, ch := range queued {
		if r := <-ch; r.err != nil {
			t.Errorf("queued request %d: %v", i, r.err)
		}
	}
	if _, err := b.Embed(context.Background(), embed.Query, []string{"room again"}); err != nil {
		t.Errorf("after the queue drained: %v", err)
	}
}

func TestLoneRequestIsServed(t *testing.T) {
	for _, wait := range []time.Duration{0, -1, 50 * time.Millisecond} {
		t.Run(fmt.Sprint(wait), func(t *testing.T) {
			f := &fake{}
			b := New(f, Config{MaxBatch: 64, MaxWait: wait})
			defer b.Close()
			got, err := b.Embed(context.Background(), embed.Query, []string{"alone"})
			if err != nil || !equal(got, want(embed.Query, []string{"alone"})) {
				t.Fatalf("%v %v", got, err)
			}
			if st := b.Stats(); st.Batches != 1 || st.Texts != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestLargeRequestGoesDirect(t *testing.T) {
	f := &fake{}
	b := New(f, Config{MaxBatch: 8, MaxQueue: 8})
	defer b.Close()
	texts := make([]string, 20)
	for i := range texts {
		texts[i] = fmt.Sprint("text ", i)
	}
	got, err := b.Embed(context.Background(), embed.Passage, texts)
	if err != nil || !equal(got, want(embed.Passage, texts)) {
		t.Fatalf("%v", err)
	}
	if st := b.Stats(); st.Direct != 1 || st.Batches != 0 {
		t.Errorf("stats %+v", st)
	}
	if calls := f.snapshot(); len(calls) != 1 || len(calls[0].texts) != 20 {
		t.Errorf("inner calls %v", calls)
	}
}

func TestDisabledPassesThrough(t *testing.T) {
	f := &fake{}
	b := New(f, Config{Disabled: true})
	defer b.Close()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			texts := []string{fmt.Sprint("t", i)}
			got, err := b.Embed(context.Background(), embed.Query, texts)
			if err != nil || !equal(got, want(embed.Query, texts)) {
				t.Errorf("%v %v", got, err)
			}
		})
	}
	wg.Wait()
	if calls := f.snapshot(); len(calls) != 10 {
		t.Errorf("%d inner calls, want 10", len(calls))
	}
	if st := b.Stats(); st.Direct != 10 || st.Batches != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestVectorsDoNotAlias(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	b := New(f, Config{})
	defer b.Close()
	first := blockFirst(t, b, f)
	r1 := async(context.Background(), b, embed.Query, "one")
	r2 := async(context.Background(), b, embed.Query, "two")
	waitFor(t, "2 queued", func() bool { return b.Stats().Queued == 2 })
	close(f.gate)
	<-first
	a, c := <-r1, <-r2
	if a.err != nil || c.err != nil {
		t.Fatal(a.err, c.err)
	}
	_ = append(a.vecs, []float32{9})
	_ = append(a.vecs[0], 9, 9, 9, 9)
	if !equal(c.vecs, want(embed.Query, []string{"two"})) {
		t.Errorf("appending to one result changed another: %v", c.vecs)
	}
}

func TestCloseDrains(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	// Only Close can start a partial batch; the blocker is a full one.
	b := New(f, Config{MaxBatch: 8, MaxWait: time.Hour})
	first := blockFirst(t, b, f, "1", "2", "3", "4", "5", "6", "7", "8")
	var queued []<-chan reply
	for i := range 5 {
		queued = append(queued, async(context.Background(), b, embed.Passage, fmt.Sprint("p", i)))
	}
	waitFor(t, "5 queued", func() bool { return b.Stats().Queued == 5 })
	closed := make(chan struct{})
	go func() {
		b.Close()
		close(closed)
	}()
	waitFor(t, "Close to begin", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.closed
	})
	if _, err := b.Embed(context.Background(), embed.Query, []string{"late"}); !errors.Is(err, data.ErrClosed) {
		t.Errorf("request during Close: %v, want ErrClosed", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while requests were queued")
	default:
	}
	close(f.gate)
	<-first
	for i, ch := range queued {
		if r := <-ch; r.err != nil || !equal(r.vecs, want(embed.Passage, []string{fmt.Sprint("p", i)})) {
			t.Errorf("queued request %d: %v %v", i, r.vecs, r.err)
		}
	}
	<-closed
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := b.Embed(context.Background(), embed.Passage, make([]string, 100)); !errors.Is(err, data.ErrClosed) {
		t.Errorf("large request after Close: %v", err)
	}
}

func TestMaxInFlight(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	b := New(f, Config{MaxBatch: 1, MaxInFlight: 2})
	defer b.Close()
	var replies []<-chan reply
	for i := range 3 {
		replies = append(replies, async(context.Background(), b, embed.Passage, fmt.Sprint("t", i)))
	}
	<-f.started
	<-f.started
	waitFor(t, "the third request to queue", func() bool { return b.Stats().Queued == 1 })
	if n := len(f.snapshot()); n != 2 {
		t.Errorf("%d inner calls running, want 2 (MaxInFlight)", n)
	}
	close(f.gate)
	for i, ch := range replies {
		if r := <-ch; r.err != nil || len(r.vecs) != 1 {
			t.Errorf("request %d: %v %v", i, r.vecs, r.err)
		}
	}
}

// After a batch ends, the next one gives the clients it served up to
// MaxLinger (and a quarter of its run time) to send their next texts, so closed-loop clients do
// not split into a full batch and a nearly empty one, turn about.
func TestWaitingBatchLingersForServedClients(t *testing.T) {
	f := &fake{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	const wait = 300 * time.Millisecond
	b := New(f, Config{MaxBatch: 64, MaxWait: wait, MaxLinger: time.Minute})
	defer b.Close()
	first := blockFirst(t, b, f, "blocker 1", "blocker 2", "blocker 3")
	queued := async(context.Background(), b, embed.Query, "waiting a", "waiting b")
	waitFor(t, "2 queued texts", func() bool { return b.Stats().Queued == 2 })
	time.Sleep(wait + 50*time.Millisecond) // their own MaxWait is over: they wait for the slot only
	close(f.gate)                          // the blocker ran for > 350 ms: the linger may last 1/4 of that
	if r := <-first; r.err != nil {
		t.Fatal(r.err)
	}
	// The blocker's client sends its next text as soon as it is served;
	// with it, as many texts are queued as the blocker's batch carried.
	late := async(context.Background(), b, embed.Query, "late")
	for _, ch := range []<-chan reply{queued, late} {
		if r := <-ch; r.err != nil {
			t.Fatal(r.err)
		}
	}
	calls := f.snapshot()
	if len(calls) != 2 || !slices.Equal(calls[1].texts, []string{"waiting a", "waiting b", "late"}) {
		t.Fatalf("inner calls %v, want the blocker then one batch of the waiting texts and the late one", calls)
	}
}

// The linger is at most half the last batch's run time: with a fast inner
// embedder a client sending one text after another waits MaxWait per
// request, as without a linger, not MaxLinger.
func TestLingerBoundedByRunTime(t *testing.T) {
	b := New(&fake{}, Config{MaxBatch: 64, MaxWait: 5 * time.Millisecond, MaxLinger: time.Minute})
	defer b.Close()
	start := time.Now()
	const n = 20
	for i := range n {
		// Two texts, then one: the one-text request finds fewer texts
		// queued than the last batch carried, so it would wait out the
		// whole linger if nothing bounded it.
		texts := []string{fmt.Sprintf("text %d", i)}
		if i%2 == 0 {
			texts = append(texts, fmt.Sprintf("text %d b", i))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		got, err := b.Embed(ctx, embed.Query, texts)
		cancel()
		if err != nil || !equal(got, want(embed.Query, texts)) {
			t.Fatalf("request %d: %v, %v", i, got, err)
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("%d sequential requests took %v: the linger is not bounded by the run time", n, el)
	}
	if st := b.Stats(); st.Batches != n {
		t.Fatalf("stats %+v, want %d batches", st, n)
	}
}
