package batch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

// Config tunes a Batcher. The zero value is ready to use.
type Config struct {
	// MaxBatch is the most texts one batched inner call carries. A request
	// with more texts than this bypasses the queue (it is a batch already).
	// 0 means 64.
	MaxBatch int
	// MaxWait is how long the oldest queued request may wait for its batch
	// to fill before the batch starts anyway. 0 means 2 ms; a negative value
	// means no wait (a batch starts with whatever is queued).
	MaxWait time.Duration
	// MaxLinger bounds how long, after a batch ends, the next batch waits
	// for the clients that batch served to send their next texts: it
	// starts once as many texts are queued as the last batch carried (or
	// MaxBatch), or when the linger is over. The linger is also at most a
	// quarter of the last batch's run time, so it only matters when
	// batches are slow. 0 means 5 ms; a negative value means none.
	MaxLinger time.Duration
	// MaxQueue bounds the texts waiting across all kinds; a request that
	// does not fit fails with data.ErrOverloaded. 0 means 4096. It is never
	// less than MaxBatch.
	MaxQueue int
	// MaxInFlight is how many batched inner calls run at once across kinds.
	// 0 means 1, right for in-process models that spread one call over all
	// cores; raise it for remote embedders.
	MaxInFlight int
	// Disabled passes every call straight to the inner embedder.
	Disabled bool
}

// Defaults of Config's fields.
const (
	DefaultMaxBatch = 64
	DefaultMaxWait  = 2 * time.Millisecond
	// DefaultMaxLinger: with 32 HTTP clients on 2 cores, sending back 32
	// responses and reading 32 new requests takes 2-5 ms.
	DefaultMaxLinger = 10 * time.Millisecond
	DefaultMaxQueue  = 4096
)

func (c Config) withDefaults() Config {
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MaxWait == 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.MaxWait < 0 {
		c.MaxWait = 0
	}
	if c.MaxLinger == 0 {
		c.MaxLinger = DefaultMaxLinger
	}
	if c.MaxLinger < 0 {
		c.MaxLinger = 0
	}
	if c.MaxQueue <= 0 {
		c.MaxQueue = DefaultMaxQueue
	}
	c.MaxQueue = max(c.MaxQueue, c.MaxBatch)
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 1
	}
	return c
}

// Stats is a snapshot of a Batcher's counters, for metrics.
type Stats struct {
	// Batches counts batched inner calls (failed ones included); Texts
	// counts the texts they carried.
	Batches int64 `json:"batches"`
	Texts   int64 `json:"texts"`
	// MeanBatch is Texts / Batches (0 before the first batch).
	MeanBatch float64 `json:"mean_batch"`
	// Queued is the number of texts waiting now.
	Queued int `json:"queued"`
	// Rejected counts requests refused with data.ErrOverloaded.
	Rejected int64 `json:"rejected"`
	// Direct counts requests passed straight through: Disabled, empty, or
	// larger than MaxBatch.
	Direct int64 `json:"direct"`
	// Retries counts requests re-embedded alone after their batch failed.
	Retries int64 `json:"retries"`
	// Dropped counts requests whose context ended while they were queued.
	Dropped int64 `json:"dropped"`
}

// Request states; a request leaves stateQueued exactly once, by whichever
// of the dispatcher (taken) and the caller (cancelled) gets there first.
const (
	stateQueued int32 = iota
	stateTaken
	stateCancelled
)

type request struct {
	ctx     context.Context
	texts   []string
	arrived time.Time
	state   atomic.Int32
	done    chan result // buffered: delivery never blocks
}

type result struct {
	vecs [][]float32
	err  error
}

// queue holds the waiting requests of one kind. Its fields are guarded by
// Batcher.mu.
type queue struct {
	kind  embed.Kind
	items []*request    // FIFO; may hold cancelled requests
	texts int           // texts of the requests still queued
	wake  chan struct{} // capacity 1: "the queue changed"
}

// Batcher coalesces concurrent Embed calls into batched calls of an inner
// embedder. It implements embed.Embedder and is safe for concurrent use.
// See the package documentation for its semantics.
type Batcher struct {
	inner embed.Embedder
	cfg   Config
	slots chan struct{} // one token per running batch

	mu      sync.Mutex
	queues  map[embed.Kind]*queue
	queued  int // texts queued across kinds
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup // dispatchers, batches and direct calls

	batches, texts, rejected, direct, retries, dropped atomic.Int64
	// The last batched inner call: its duration (ns), its end (Unix ns)
	// and its texts, for the linger.
	lastRun, lastEnd, lastTexts atomic.Int64
}

var _ embed.Embedder = (*Batcher)(nil)

// New returns a Batcher around inner. Close it to stop its dispatchers;
// closing the Batcher does not close inner.
func New(inner embed.Embedder, cfg Config) *Batcher {
	cfg = cfg.withDefaults()
	return &Batcher{
		inner:   inner,
		cfg:     cfg,
		slots:   make(chan struct{}, cfg.MaxInFlight),
		queues:  map[embed.Kind]*queue{},
		closing: make(chan struct{}),
	}
}

// Info returns the inner embedder's Info.
func (b *Batcher) Info() embed.Info { return b.inner.Info() }

// Unwrap returns the inner embedder, e.g. to reach optional capabilities.
func (b *Batcher) Unwrap() embed.Embedder { return b.inner }

// Config returns the configuration in effect, defaults filled in.
func (b *Batcher) Config() Config { return b.cfg }

// Embed returns one vector per text, in order, as the inner embedder
// would. Unless the Batcher is disabled or the request is larger than
// MaxBatch, the texts wait in a queue to be embedded together with other
// requests of the same kind. It fails at once with an error wrapping
// data.ErrOverloaded when the queue is full, and with data.ErrClosed after
// Close. When ctx ends first Embed returns ctx.Err().
func (b *Batcher) Embed(ctx context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if b.cfg.Disabled || len(texts) == 0 || len(texts) > b.cfg.MaxBatch {
		return b.embedDirect(ctx, kind, texts)
	}
	r := &request{ctx: ctx, texts: texts, arrived: time.Now(), done: make(chan result, 1)}
	q, err := b.enqueue(kind, r)
	if err != nil {
		return nil, err
	}
	select {
	case res := <-r.done:
		return res.vecs, res.err
	case <-ctx.Done():
		if r.state.CompareAndSwap(stateQueued, stateCancelled) {
			// Still queued: free its space now; the dispatcher skips it.
			b.mu.Lock()
			q.texts -= len(texts)
			b.queued -= len(texts)
			b.mu.Unlock()
			b.dropped.Add(1)
		}
		// Otherwise its batch is running; the result is discarded.
		return nil, ctx.Err()
	}
}

func (b *Batcher) embedDirect(ctx context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, fmt.Errorf("embed batch: %w", data.ErrClosed)
	}
	b.wg.Add(1)
	b.mu.Unlock()
	defer b.wg.Done()
	b.direct.Add(1)
	return b.inner.Embed(ctx, kind, texts)
}

// enqueue appends r to its kind's queue, starting that queue's dispatcher
// on first use.
func (b *Batcher) enqueue(kind embed.Kind, r *request) (*queue, error) {
	n := len(r.texts)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("embed batch: %w", data.ErrClosed)
	}
	if b.queued+n > b.cfg.MaxQueue {
		b.rejected.Add(1)
		return nil, fmt.Errorf("embed batch: %d texts queued, limit %d: %w", b.queued, b.cfg.MaxQueue, data.ErrOverloaded)
	}
	q := b.queues[kind]
	if q == nil {
		q = &queue{kind: kind, wake: make(chan struct{}, 1)}
		b.queues[kind] = q
		b.wg.Add(1)
		go b.dispatch(q)
	}
	q.items = append(q.items, r)
	q.texts += n
	b.queued += n
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return q, nil
}

// dispatch forms batches from q until the Batcher is closed and q is empty.
func (b *Batcher) dispatch(q *queue) {
	defer b.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		b.mu.Lock()
		q.pruneLocked()
		n, closed := q.texts, b.closed
		var oldest time.Time
		if len(q.items) > 0 {
			oldest = q.items[0].arrived
		}
		b.mu.Unlock()

		if n == 0 {
			if closed {
				return
			}
			select {
			case <-q.wake:
			case <-b.closing:
			}
			continue
		}
		if n < b.cfg.MaxBatch && !closed {
			deadline := oldest.Add(b.cfg.MaxWait)
			if end, target, ok := b.lingerWindow(); ok {
				// A batch just ended: wait for the clients it served.
				if n >= target {
					deadline = time.Time{}
				} else if end.After(deadline) {
					deadline = end
				}
			}
			if wait := time.Until(deadline); wait > 0 {
				timer.Reset(wait)
				select {
				case <-q.wake: // more arrived: the batch may be full now
				case <-timer.C:
				case <-b.closing:
				}
				timer.Stop()
				continue
			}
		}

		select {
		case b.slots <- struct{}{}:
		default:
			// The inner embedder is busy: wait for a free slot while the
			// queue keeps filling, then give the clients just served a
			// moment to send their next texts, so that batches stay full
			// instead of alternating between full and nearly empty.
			b.slots <- struct{}{}
			b.linger(q, timer)
		}
		reqs := b.take(q)
		if len(reqs) == 0 {
			<-b.slots
			continue
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer func() { <-b.slots }()
			b.run(q.kind, reqs)
		}()
	}
}

// lingerWindow reports whether the last batch ended less than its linger
// ago (MaxLinger, at most a quarter of its run time), when that linger
// ends, and how many texts a batch waits for meanwhile: as many as the
// last one carried, at most MaxBatch.
func (b *Batcher) lingerWindow() (end time.Time, target int, ok bool) {
	last := b.lastEnd.Load()
	if last == 0 || b.cfg.MaxLinger <= 0 {
		return time.Time{}, 0, false
	}
	end = time.Unix(0, last).Add(min(b.cfg.MaxLinger, time.Duration(b.lastRun.Load()/2)))
	if !time.Now().Before(end) {
		return time.Time{}, 0, false
	}
	return end, int(min(int64(b.cfg.MaxBatch), max(b.lastTexts.Load(), 1))), true
}

// linger waits, while the last batch's linger lasts, until q holds as many
// texts as that batch carried or the Batcher is closing.
func (b *Batcher) linger(q *queue, timer *time.Timer) {
	for {
		end, target, ok := b.lingerWindow()
		b.mu.Lock()
		enough, closed := q.texts >= target, b.closed
		b.mu.Unlock()
		wait := time.Until(end)
		if !ok || enough || closed || wait <= 0 {
			return
		}
		timer.Reset(wait)
		select {
		case <-q.wake:
		case <-timer.C:
		case <-b.closing:
		}
		timer.Stop()
	}
}

// pruneLocked drops cancelled requests from the front of q.
func (q *queue) pruneLocked() {
	if q.texts == 0 {
		clear(q.items)
		q.items = q.items[:0]
		return
	}
	i := 0
	for i < len(q.items) && q.items[i].state.Load() == stateCancelled {
		q.items[i] = nil
		i++
	}
	q.items = q.items[i:]
}

// take removes whole requests from the front of q, up to MaxBatch texts,
// and marks them taken. Cancelled requests are skipped.
func (b *Batcher) take(q *queue) []*request {
	b.mu.Lock()
	defer b.mu.Unlock()
	var reqs []*request
	total, i := 0, 0
	for ; i < len(q.items); i++ {
		r := q.items[i]
		if r.state.Load() == stateCancelled {
			q.items[i] = nil
			continue
		}
		if total > 0 && total+len(r.texts) > b.cfg.MaxBatch {
			break
		}
		if !r.state.CompareAndSwap(stateQueued, stateTaken) {
			q.items[i] = nil // cancelled just now; its caller frees its space
			continue
		}
		q.items[i] = nil
		reqs = append(reqs, r)
		total += len(r.texts)
	}
	q.items = q.items[i:]
	q.texts -= total
	b.queued -= total
	return reqs
}

// run embeds reqs with one inner call and delivers each request its
// vectors. When that call fails and it carried several requests, each
// request still wanted is retried alone.
func (b *Batcher) run(kind embed.Kind, reqs []*request) {
	texts := reqs[0].texts
	if len(reqs) > 1 {
		n := 0
		for _, r := range reqs {
			n += len(r.texts)
		}
		texts = make([]string, 0, n)
		for _, r := range reqs {
			texts = append(texts, r.texts...)
		}
	}
	ctx, cancel := batchContext(reqs)
	start := time.Now()
	vecs, err := b.inner.Embed(ctx, kind, texts)
	end := time.Now()
	b.lastRun.Store(int64(end.Sub(start)))
	b.lastTexts.Store(int64(len(texts)))
	b.lastEnd.Store(end.UnixNano())
	cancel()
	b.batches.Add(1)
	b.texts.Add(int64(len(texts)))
	if err == nil {
		err = checkCount(vecs, len(texts))
	}
	if err == nil {
		off := 0
		for _, r := range reqs {
			n := len(r.texts)
			out := vecs[off : off+n : off+n]
			for i, v := range out {
				out[i] = v[:len(v):len(v)] // appending must not spill into a neighbour
			}
			r.done <- result{vecs: out}
			off += n
		}
		return
	}
	if len(reqs) == 1 {
		reqs[0].done <- result{err: err}
		return
	}
	for _, r := range reqs {
		if cerr := r.ctx.Err(); cerr != nil {
			r.done <- result{err: cerr}
			continue
		}
		b.retries.Add(1)
		v, err := b.inner.Embed(r.ctx, kind, r.texts)
		if err == nil {
			err = checkCount(v, len(r.texts))
		}
		if err != nil {
			v = nil
		}
		r.done <- result{vecs: v, err: err}
	}
}

func checkCount(vecs [][]float32, n int) error {
	if len(vecs) != n {
		return fmt.Errorf("embed batch: inner embedder returned %d vectors for %d texts", len(vecs), n)
	}
	return nil
}

// batchContext returns the context of one batched call: the request's own
// for a single request; otherwise one that is cancelled when every
// request's context has ended, so work nobody waits for stops while one
// cancelled request never fails the others.
func batchContext(reqs []*request) (context.Context, context.CancelFunc) {
	if len(reqs) == 1 {
		return reqs[0].ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var left atomic.Int64
	left.Store(int64(len(reqs)))
	stops := make([]func() bool, len(reqs))
	for i, r := range reqs {
		stops[i] = context.AfterFunc(r.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// Stats returns a snapshot of the counters.
func (b *Batcher) Stats() Stats {
	b.mu.Lock()
	queued := b.queued
	b.mu.Unlock()
	s := Stats{
		Batches:  b.batches.Load(),
		Texts:    b.texts.Load(),
		Queued:   queued,
		Rejected: b.rejected.Load(),
		Direct:   b.direct.Load(),
		Retries:  b.retries.Load(),
		Dropped:  b.dropped.Load(),
	}
	if s.Batches > 0 {
		s.MeanBatch = float64(s.Texts) / float64(s.Batches)
	}
	return s
}

// Close stops accepting requests (later ones fail with data.ErrClosed),
// serves every request already queued, and returns when all batches and
// direct calls have finished. It does not close the inner embedder. Close
// is idempotent and always returns nil.
func (b *Batcher) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.closing)
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}
