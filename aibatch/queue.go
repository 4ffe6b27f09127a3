package aibatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ragd/ragd/data"
)

// Runner runs one request of a batch: req is the request object as the
// client sent it (less external_reference), the result is what the
// synchronous route would have returned as its result.
type Runner interface {
	Run(ctx context.Context, model string, req json.RawMessage) (json.RawMessage, error)
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, model string, req json.RawMessage) (json.RawMessage, error)

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context, model string, req json.RawMessage) (json.RawMessage, error) {
	return f(ctx, model, req)
}

// Statuses of a batch.
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
)

// Defaults.
const (
	DefaultMaxQueued = 1024
	DefaultParallel  = 4
	DefaultKeep      = 24 * time.Hour
	DefaultMaxDone   = 1000
)

// Errors.
var (
	// ErrFull is returned by Submit when the queue holds MaxQueued
	// requests; it wraps data.ErrOverloaded (429).
	ErrFull = fmt.Errorf("aibatch: the batch queue is full: %w", data.ErrOverloaded)
	// ErrNotFound is returned by Get for an unknown or expired id.
	ErrNotFound = fmt.Errorf("aibatch: no such batch request: %w", data.ErrNotFound)
)

// Config configures a Queue.
type Config struct {
	// Runner runs each request (required).
	Runner Runner
	// Dir holds one file per batch ("" keeps batches in memory only).
	Dir string
	// MaxQueued bounds the requests queued or running, over all batches
	// (default DefaultMaxQueued). A batch larger than it is refused.
	MaxQueued int
	// Parallel is how many requests of a batch run at once (default
	// DefaultParallel).
	Parallel int
	// Keep is how long a finished batch can be polled (default DefaultKeep).
	Keep time.Duration
	// MaxDone bounds the finished batches kept (default DefaultMaxDone);
	// the oldest go first.
	MaxDone int
	// RetryAfter is the hint given with ErrFull (default 5 s).
	RetryAfter time.Duration
	// Logger receives failures to persist a batch (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Response is the outcome of one request of a batch.
type Response struct {
	ID                int             `json:"id"`
	Result            json.RawMessage `json:"result,omitempty"`
	Success           bool            `json:"success"`
	Error             string          `json:"error,omitempty"`
	ExternalReference json.RawMessage `json:"external_reference,omitempty"`
}

// Batch is one submitted batch.
type Batch struct {
	ID        string            `json:"request_id"`
	Model     string            `json:"model"`
	Status    string            `json:"status"`
	Created   time.Time         `json:"created"`
	Finished  time.Time         `json:"finished,omitzero"`
	Requests  []json.RawMessage `json:"requests,omitempty"`
	Responses []Response        `json:"responses,omitempty"`
}

// Queue is the batch queue. Its methods are safe for concurrent use.
type Queue struct {
	cfg   Config
	store *store

	mu      sync.Mutex
	batches map[string]*Batch
	order   []string // queued ids, oldest first
	pending int      // requests queued or running
	closed  bool

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// Open loads the batches in cfg.Dir and starts the worker. Batches that
// were queued or running run (again) from the start.
func Open(cfg Config) (*Queue, error) {
	if cfg.Runner == nil {
		return nil, fmt.Errorf("aibatch: a Runner is required: %w", data.ErrInvalid)
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.MaxDone <= 0 {
		cfg.MaxDone = DefaultMaxDone
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	st, err := openStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	loaded, bad, err := st.load()
	if err != nil {
		return nil, err
	}
	for _, f := range bad {
		cfg.Logger.Error("aibatch: not a batch file; renamed to .bad", "file", f)
	}
	q := &Queue{cfg: cfg, store: st, batches: map[string]*Batch{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	slices.SortFunc(loaded, func(a, b *Batch) int { return a.Created.Compare(b.Created) })
	for _, b := range loaded {
		q.batches[b.ID] = b
		if b.Status != StatusDone {
			b.Status = StatusQueued
			q.order = append(q.order, b.ID)
			q.pending += len(b.Requests)
		}
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	go q.work()
	q.signal()
	return q, nil
}

// Close stops the worker: the batch running, if any, is cancelled and
// stays queued on disk, so the next Open runs it. Safe to call twice.
func (q *Queue) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	<-q.done
}

// Submit queues a batch of requests for model and returns it (status
// queued). Requests must be JSON objects.
func (q *Queue) Submit(model string, requests []json.RawMessage) (Batch, error) {
	if len(requests) == 0 {
		return Batch{}, fmt.Errorf("%w: requests is empty", data.ErrInvalid)
	}
	if len(requests) > q.cfg.MaxQueued {
		return Batch{}, fmt.Errorf("%w: %d requests in one batch, the queue holds at most %d", data.ErrTooLarge, len(requests), q.cfg.MaxQueued)
	}
	for i, r := range requests {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(r, &obj); err != nil || obj == nil {
			return Batch{}, fmt.Errorf("%w: requests[%d] must be a JSON object", data.ErrInvalid, i)
		}
	}
	b := &Batch{ID: newID(), Model: model, Status: StatusQueued, Created: q.cfg.Now().UTC(), Requests: requests}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return Batch{}, fmt.Errorf("aibatch: %w", data.ErrClosed)
	}
	if q.pending+len(requests) > q.cfg.MaxQueued {
		return Batch{}, fullError{q.cfg.RetryAfter}
	}
	if err := q.store.save(b); err != nil {
		return Batch{}, err
	}
	q.batches[b.ID] = b
	q.order = append(q.order, b.ID)
	q.pending += len(requests)
	q.signal()
	return b.view(), nil
}

// Get returns the batch with id: its status, and its responses once done.
func (q *Queue) Get(id string) (Batch, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.expireLocked()
	b, ok := q.batches[id]
	if !ok {
		return Batch{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return b.view(), nil
}

// Pending reports the requests queued or running.
func (q *Queue) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending
}

// view is a copy for callers, without the requests.
func (b *Batch) view() Batch {
	v := *b
	v.Requests = nil
	v.Responses = slices.Clone(b.Responses)
	return v
}

// fullError is ErrFull with a Retry-After hint.
type fullError struct{ after time.Duration }

func (e fullError) Error() string             { return ErrFull.Error() }
func (e fullError) Unwrap() error             { return ErrFull }
func (e fullError) RetryAfter() time.Duration { return e.after }

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// work runs queued batches one after another until Close.
func (q *Queue) work() {
	defer close(q.done)
	for {
		q.mu.Lock()
		var b *Batch
		if len(q.order) > 0 {
			b = q.batches[q.order[0]]
			b.Status = StatusRunning
		}
		q.mu.Unlock()
		if b == nil {
			select {
			case <-q.ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		resp, err := q.run(b)
		if err != nil { // cancelled by Close: stays queued
			q.mu.Lock()
			b.Status = StatusQueued
			q.mu.Unlock()
			return
		}
		q.finish(b, resp)
	}
}

// run runs every request of b, Parallel at a time.
func (q *Queue) run(b *Batch) ([]Response, error) {
	out := make([]Response, len(b.Requests))
	g, ctx := errgroup.WithContext(q.ctx)
	g.SetLimit(q.cfg.Parallel)
	for i, raw := range b.Requests {
		g.Go(func() error {
			req, ref := splitReference(raw)
			res, err := q.runOne(ctx, b.Model, req)
			if q.ctx.Err() != nil {
				return q.ctx.Err()
			}
			out[i] = Response{ID: i, ExternalReference: ref}
			if err != nil {
				out[i].Error = err.Error()
			} else {
				out[i].Result, out[i].Success = res, true
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// runOne runs one request; a full model queue (data.ErrOverloaded: live
// traffic has the slots) is waited out rather than failing the request.
func (q *Queue) runOne(ctx context.Context, model string, req json.RawMessage) (json.RawMessage, error) {
	wait := 50 * time.Millisecond
	for {
		res, err := q.cfg.Runner.Run(ctx, model, req)
		if err == nil || !errors.Is(err, data.ErrOverloaded) {
			return res, err
		}
		d := wait
		var hint interface{ RetryAfter() time.Duration }
		if errors.As(err, &hint) && hint.RetryAfter() > 0 {
			d = hint.RetryAfter()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(d, 5*time.Second)):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// finish records b's responses, persists it and drops expired batches.
func (q *Queue) finish(b *Batch, resp []Response) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b.Status, b.Responses, b.Finished = StatusDone, resp, q.cfg.Now().UTC()
	q.pending -= len(b.Requests)
	b.Requests = nil
	q.order = slices.DeleteFunc(q.order, func(id string) bool { return id == b.ID })
	if err := q.store.save(b); err != nil {
		q.cfg.Logger.Error("aibatch: persist a finished batch", "id", b.ID, "err", err)
	}
	q.expireLocked()
}

// expireLocked drops finished batches older than Keep, and the oldest
// beyond MaxDone.
func (q *Queue) expireLocked() {
	var done []*Batch
	for _, b := range q.batches {
		if b.Status == StatusDone {
			done = append(done, b)
		}
	}
	slices.SortFunc(done, func(a, b *Batch) int { return a.Finished.Compare(b.Finished) })
	cut := q.cfg.Now().Add(-q.cfg.Keep)
	for i, b := range done {
		if b.Finished.Before(cut) || len(done)-i > q.cfg.MaxDone {
			delete(q.batches, b.ID)
			if err := q.store.remove(b.ID); err != nil {
				q.cfg.Logger.Warn("aibatch: remove an expired batch", "id", b.ID, "err", err)
			}
		}
	}
}

// splitReference takes external_reference out of a request object.
func splitReference(raw json.RawMessage) (json.RawMessage, json.RawMessage) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return raw, nil
	}
	ref, ok := obj["external_reference"]
	if !ok {
		return raw, nil
	}
	delete(obj, "external_reference")
	b, err := json.Marshal(obj)
	if err != nil {
		return raw, ref
	}
	return b, ref
}

// newID is a random UUID (version 4).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
