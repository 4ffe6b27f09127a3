package sched

import (
	"container/list"
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ragd/ragd/data"
)

// DefaultQueuePerWorker sets the default queue bound: this many waiting
// jobs per worker, so the longest wait stays about the same whatever the
// number of cores (128 half-millisecond searches: 64 ms).
const DefaultQueuePerWorker = 128

// Config configures a Scheduler.
type Config struct {
	// Name labels the metrics and errors (default "cpu").
	Name string
	// Workers is how many worker slots run at once (default
	// runtime.GOMAXPROCS(0), the cores Go schedules on).
	Workers int
	// Queue bounds the jobs waiting for a slot: past it Do fails at once
	// with an *OverloadedError. 0 means DefaultQueuePerWorker × Workers;
	// negative means no waiting at all (a job runs at once or is refused).
	Queue int
	// Registry collects the metrics (nil: not exported).
	Registry prometheus.Registerer
}

// Scheduler runs jobs on a bounded set of worker slots in FIFO order. Its
// methods are safe for concurrent use.
type Scheduler struct {
	name     string
	workers  int
	maxQueue int
	m        *metrics

	mu      sync.Mutex
	free    int
	waiting list.List // of *waiter, in arrival order
	closed  bool
	running sync.WaitGroup
	// meanService is an exponentially weighted mean of service times, for
	// the Retry-After hint.
	meanService time.Duration
}

// waiter is a job in the queue. ready is closed when the job is granted
// its slots (elem is then nil) or refused because the scheduler closed
// (err is then set).
type waiter struct {
	weight int
	ready  chan struct{}
	elem   *list.Element
	err    error
}

// New returns a Scheduler; it fails only when its metrics cannot be
// registered (e.g. a second scheduler with the same Name on one registry).
func New(cfg Config) (*Scheduler, error) {
	if cfg.Name == "" {
		cfg.Name = "cpu"
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case cfg.Queue == 0:
		cfg.Queue = DefaultQueuePerWorker * cfg.Workers
	case cfg.Queue < 0:
		cfg.Queue = 0
	}
	m, err := newMetrics(cfg.Registry, cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("sched %s: metrics: %w", cfg.Name, err)
	}
	return &Scheduler{name: cfg.Name, workers: cfg.Workers, maxQueue: cfg.Queue, m: m, free: cfg.Workers}, nil
}

// Workers is the number of worker slots.
func (s *Scheduler) Workers() int { return s.workers }

// Do runs fn once weight worker slots are free (weight is clamped to
// 1..Workers) and every job that arrived earlier has started. fn runs on
// the caller's goroutine with ctx, and Do returns its error. Do fails
// without running fn when the queue is full (*OverloadedError, wrapping
// data.ErrOverloaded), when ctx ends first (ctx.Err()), and after Close
// (data.ErrClosed).
func (s *Scheduler) Do(ctx context.Context, weight int, fn func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := min(max(weight, 1), s.workers)
	enqueued := time.Now()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("sched %s: %w", s.name, data.ErrClosed)
	}
	if s.waiting.Len() == 0 && s.free >= w {
		s.grantLocked(w)
		s.mu.Unlock()
	} else if err := s.wait(ctx, w); err != nil {
		return err
	}
	start := time.Now()
	s.m.wait.Observe(start.Sub(enqueued).Seconds())
	defer s.finish(w, start) // deferred: a panicking fn still frees its slots
	return fn(ctx)
}

// wait queues a job of weight w; it is called with s.mu held and returns
// with it released, either holding w slots (nil) or with the reason the
// job will not run.
func (s *Scheduler) wait(ctx context.Context, w int) error {
	if n := s.waiting.Len(); n >= s.maxQueue {
		err := &OverloadedError{Pool: s.name, Queued: n, Limit: s.maxQueue, After: s.drainLocked(n)}
		s.mu.Unlock()
		s.m.rejected.Inc()
		return err
	}
	wt := &waiter{weight: w, ready: make(chan struct{})}
	wt.elem = s.waiting.PushBack(wt)
	s.m.depth.Set(float64(s.waiting.Len()))
	s.mu.Unlock()
	select {
	case <-wt.ready:
		if wt.err != nil {
			return wt.err
		}
		if err := ctx.Err(); err != nil { // granted and cancelled at once: do not run
			s.release(w, -1)
			s.m.dropped.Inc()
			return err
		}
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	granted := wt.elem == nil && wt.err == nil
	if wt.elem != nil {
		s.waiting.Remove(wt.elem)
		wt.elem = nil
		s.m.depth.Set(float64(s.waiting.Len()))
		s.admitLocked() // the job may have been the head that held others back
	}
	s.mu.Unlock()
	if wt.err != nil {
		return wt.err
	}
	if granted {
		s.release(w, -1)
	}
	s.m.dropped.Inc()
	return ctx.Err()
}

// grantLocked takes w slots for a job about to run.
func (s *Scheduler) grantLocked(w int) {
	s.free -= w
	s.running.Add(1)
	s.m.busy.Set(float64(s.workers - s.free))
}

// admitLocked starts queued jobs from the head while their slots are free.
func (s *Scheduler) admitLocked() {
	for e := s.waiting.Front(); e != nil; e = s.waiting.Front() {
		wt := e.Value.(*waiter)
		if s.free < wt.weight {
			break
		}
		s.grantLocked(wt.weight)
		s.waiting.Remove(e)
		wt.elem = nil
		close(wt.ready)
	}
	s.m.depth.Set(float64(s.waiting.Len()))
}

// release gives back w slots and starts the jobs that now fit; ran is
// the job's service time (negative: it did not run).
func (s *Scheduler) release(w int, ran time.Duration) {
	s.mu.Lock()
	switch {
	case ran < 0:
	case s.meanService == 0:
		s.meanService = ran
	default:
		s.meanService += (ran - s.meanService) / 16
	}
	s.free += w
	s.m.busy.Set(float64(s.workers - s.free))
	s.admitLocked()
	s.mu.Unlock()
	s.running.Done()
}

// finish records a job's service time and releases its slots.
func (s *Scheduler) finish(w int, start time.Time) {
	d := time.Since(start)
	s.m.service.Observe(d.Seconds())
	s.release(w, d)
}

// drainLocked estimates how long n queued jobs take to start: each takes
// the mean service time on one of the workers.
func (s *Scheduler) drainLocked(n int) time.Duration {
	return time.Duration(n+1) * s.meanService / time.Duration(s.workers)
}

// Stats is a snapshot of the scheduler's state.
type Stats struct {
	Workers, Busy, Queued, Limit int
}

// Stats reports the slots in use and the jobs waiting.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Workers: s.workers, Busy: s.workers - s.free, Queued: s.waiting.Len(), Limit: s.maxQueue}
}

// Close refuses new jobs, drops the waiting ones (their Do returns an error
// wrapping data.ErrClosed without running them) and waits for the running
// ones to finish. It is safe to call more than once.
func (s *Scheduler) Close() {
	s.mu.Lock()
	s.closed = true
	for e := s.waiting.Front(); e != nil; e = s.waiting.Front() {
		wt := e.Value.(*waiter)
		s.waiting.Remove(e)
		wt.elem = nil
		wt.err = fmt.Errorf("sched %s: %w", s.name, data.ErrClosed)
		close(wt.ready)
	}
	s.m.depth.Set(0)
	s.mu.Unlock()
	s.running.Wait()
}
