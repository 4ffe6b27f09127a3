package sched_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/rag/sched"
)

func newSched(t *testing.T, cfg sched.Config) *sched.Scheduler {
	t.Helper()
	s, err := sched.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// waitQueued waits until n jobs wait in s's queue (the jobs are started
// on goroutines; this is how a test knows they have arrived).
func waitQueued(t *testing.T, s *sched.Scheduler, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Queued != n {
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d jobs, want %d", s.Stats().Queued, n)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// blocker occupies w slots until the returned release is called.
func blocker(t *testing.T, s *sched.Scheduler, w int) (release func(), done <-chan error) {
	t.Helper()
	started, stop, errc := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		errc <- s.Do(context.Background(), w, func(context.Context) error {
			close(started)
			<-stop
			return nil
		})
	}()
	<-started
	var once sync.Once
	return func() { once.Do(func() { close(stop) }) }, errc
}

func TestFIFOOrderOneWorker(t *testing.T) {
	s := newSched(t, sched.Config{Workers: 1})
	release, _ := blocker(t, s, 1)
	const n = 50
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Do(context.Background(), 1, func(context.Context) error {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
		waitQueued(t, s, i+1) // job i is queued before job i+1 is submitted
	}
	release()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("start order %v: position %d ran job %d", order, i, got)
		}
	}
	if len(order) != n {
		t.Fatalf("%d jobs ran, want %d", len(order), n)
	}
}

func TestAtMostWorkersRunAtOnce(t *testing.T) {
	const workers = 3
	s := newSched(t, sched.Config{Workers: workers, Queue: 1000})
	var cur, peak atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.Do(context.Background(), 1, func(context.Context) error {
				n := cur.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				runtime.Gosched()
				time.Sleep(50 * time.Microsecond)
				cur.Add(-1)
				return nil
			})
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > workers || p < 1 {
		t.Fatalf("peak concurrency %d, want 1..%d", p, workers)
	}
}

func TestBurstPastQueueIsRefused(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newSched(t, sched.Config{Name: "search", Workers: 1, Queue: 4, Registry: reg})
	release, _ := blocker(t, s, 1)
	var ran atomic.Int32
	results := make(chan error, 4)
	for i := range 4 {
		go func() {
			results <- s.Do(context.Background(), 1, func(context.Context) error { ran.Add(1); return nil })
		}()
		waitQueued(t, s, i+1)
	}
	// The queue is full: a burst of further jobs is refused at once, while
	// the worker is still busy (the refusal does not wait for it).
	for range 20 {
		err := s.Do(context.Background(), 1, func(context.Context) error { t.Error("refused job ran"); return nil })
		if !errors.Is(err, data.ErrOverloaded) {
			t.Fatalf("err %v, want data.ErrOverloaded", err)
		}
		var oe *sched.OverloadedError
		if !errors.As(err, &oe) || oe.Queued != 4 || oe.Limit != 4 || oe.Pool != "search" {
			t.Fatalf("err %#v, want an *OverloadedError with 4 of 4 queued", err)
		}
		var ra interface{ RetryAfter() time.Duration }
		if !errors.As(err, &ra) || ra.RetryAfter() < 0 {
			t.Fatalf("err %v has no RetryAfter hint", err)
		}
	}
	if st := s.Stats(); st.Busy != 1 || st.Queued != 4 {
		t.Fatalf("stats %+v while refusing", st)
	}
	if got := value(t, reg, "ragd_sched_rejected_total"); got != 20 {
		t.Fatalf("rejected_total %v, want 20", got)
	}
	release()
	for range 4 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if ran.Load() != 4 {
		t.Fatalf("%d queued jobs ran, want 4", ran.Load())
	}
}

func TestNoQueueRefusesWhenBusy(t *testing.T) {
	s := newSched(t, sched.Config{Workers: 1, Queue: -1})
	if err := s.Do(context.Background(), 1, func(context.Context) error { return nil }); err != nil {
		t.Fatalf("idle scheduler refused: %v", err)
	}
	release, _ := blocker(t, s, 1)
	defer release()
	if err := s.Do(context.Background(), 1, func(context.Context) error { return nil }); !errors.Is(err, data.ErrOverloaded) {
		t.Fatalf("err %v, want data.ErrOverloaded", err)
	}
}

func TestRetryAfterFollowsServiceTime(t *testing.T) {
	s := newSched(t, sched.Config{Workers: 1, Queue: 2})
	// Teach the scheduler that a job takes about 20 ms.
	for range 3 {
		_ = s.Do(context.Background(), 1, func(context.Context) error { time.Sleep(20 * time.Millisecond); return nil })
	}
	release, _ := blocker(t, s, 1)
	defer release()
	for i := range 2 {
		go func() { _ = s.Do(context.Background(), 1, func(context.Context) error { return nil }) }()
		waitQueued(t, s, i+1)
	}
	err := s.Do(context.Background(), 1, func(context.Context) error { return nil })
	var oe *sched.OverloadedError
	if !errors.As(err, &oe) {
		t.Fatalf("err %v, want *OverloadedError", err)
	}
	// Three jobs ahead (two queued, the next) at >= 20 ms each on one worker.
	if oe.RetryAfter() < 50*time.Millisecond {
		t.Fatalf("RetryAfter %v, want >= 3 × ~20 ms", oe.RetryAfter())
	}
}

func TestCancelledWhileQueuedNeverRuns(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newSched(t, sched.Config{Workers: 1, Registry: reg})
	release, _ := blocker(t, s, 1)
	var ran atomic.Int32
	const n = 10
	errs := make(chan error, n)
	cancels := make([]context.CancelFunc, n)
	for i := range n {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i] = cancel
		go func() { errs <- s.Do(ctx, 1, func(context.Context) error { ran.Add(1); return nil }) }()
		waitQueued(t, s, i+1)
	}
	for _, c := range cancels {
		c()
	}
	for range n {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	}
	release()
	if err := s.Do(context.Background(), 1, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ran.Load() != 0 {
		t.Fatalf("%d cancelled jobs ran", ran.Load())
	}
	if st := s.Stats(); st.Busy != 0 || st.Queued != 0 {
		t.Fatalf("stats %+v after the queue drained", st)
	}
	if got := value(t, reg, "ragd_sched_cancelled_total"); got != n {
		t.Fatalf("cancelled_total %v, want %d", got, n)
	}
	// An already-cancelled context never queues.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Do(ctx, 1, func(context.Context) error { ran.Add(1); return nil }); !errors.Is(err, context.Canceled) || ran.Load() != 0 {
		t.Fatalf("err %v, ran %d: a cancelled context must not run", err, ran.Load())
	}
}

// A cancelled head job that was holding back the jobs behind it (it needed
// more slots than were free) lets them start.
func TestCancelledWideHeadUnblocksQueue(t *testing.T) {
	s := newSched(t, sched.Config{Workers: 2})
	release, _ := blocker(t, s, 1)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	wide := make(chan error, 1)
	go func() {
		wide <- s.Do(ctx, 2, func(context.Context) error { t.Error("cancelled wide job ran"); return nil })
	}()
	waitQueued(t, s, 1)
	narrow := make(chan error, 1)
	go func() { narrow <- s.Do(context.Background(), 1, func(context.Context) error { return nil }) }()
	waitQueued(t, s, 2)
	cancel()
	if err := <-wide; !errors.Is(err, context.Canceled) {
		t.Fatalf("wide job: %v", err)
	}
	if err := <-narrow; err != nil {
		t.Fatalf("narrow job: %v", err)
	}
}

func TestWeight(t *testing.T) {
	t.Run("wide job waits for all its slots and holds later jobs back", func(t *testing.T) {
		s := newSched(t, sched.Config{Workers: 2})
		releaseA, _ := blocker(t, s, 1) // one slot busy, one free
		var mu sync.Mutex
		var order []string
		record := func(name string) func(context.Context) error {
			return func(context.Context) error {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return nil
			}
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = s.Do(context.Background(), 2, record("wide")) }()
		waitQueued(t, s, 1) // the wide job cannot start: one slot is busy
		go func() { defer wg.Done(); _ = s.Do(context.Background(), 1, record("narrow")) }()
		waitQueued(t, s, 2) // the narrow job does not jump ahead into the free slot
		if st := s.Stats(); st.Busy != 1 {
			t.Fatalf("stats %+v: a job started out of order", st)
		}
		releaseA()
		wg.Wait()
		if strings.Join(order, ",") != "wide,narrow" {
			t.Fatalf("order %v, want wide then narrow", order)
		}
	})
	t.Run("wide job excludes others while it runs", func(t *testing.T) {
		s := newSched(t, sched.Config{Workers: 2})
		release, _ := blocker(t, s, 2)
		if st := s.Stats(); st.Busy != 2 {
			t.Fatalf("weight 2 holds %d slots", st.Busy)
		}
		done := make(chan error, 1)
		go func() { done <- s.Do(context.Background(), 1, func(context.Context) error { return nil }) }()
		waitQueued(t, s, 1)
		release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("weight is capped at the pool size and floored at one", func(t *testing.T) {
		s := newSched(t, sched.Config{Workers: 2})
		for _, w := range []int{-3, 0, 1, 2, 50} {
			var busy int
			err := s.Do(context.Background(), w, func(context.Context) error { busy = s.Stats().Busy; return nil })
			want := min(max(w, 1), 2)
			if err != nil || busy != want {
				t.Fatalf("weight %d: err %v, %d slots busy, want %d", w, err, busy, want)
			}
		}
	})
}

func TestErrorsAndPanicsFreeTheSlot(t *testing.T) {
	s := newSched(t, sched.Config{Workers: 1})
	boom := errors.New("boom")
	if err := s.Do(context.Background(), 1, func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v, want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic did not reach the caller")
			}
		}()
		_ = s.Do(context.Background(), 1, func(context.Context) error { panic("in job") })
	}()
	if st := s.Stats(); st.Busy != 0 {
		t.Fatalf("stats %+v after a failed and a panicking job", st)
	}
	if err := s.Do(context.Background(), 1, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestCloseDropsQueuedWaitsRunningAndLeaksNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := sched.New(sched.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	release, running := blocker(t, s, 1)
	var ran atomic.Int32
	queued := make(chan error, 5)
	for i := range 5 {
		go func() {
			queued <- s.Do(context.Background(), 1, func(context.Context) error { ran.Add(1); return nil })
		}()
		waitQueued(t, s, i+1)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	for range 5 {
		if err := <-queued; !errors.Is(err, data.ErrClosed) {
			t.Fatalf("queued job: %v, want data.ErrClosed", err)
		}
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a job was still running")
	case <-time.After(20 * time.Millisecond):
	}
	release()
	<-closed
	if err := <-running; err != nil {
		t.Fatalf("running job: %v", err)
	}
	if err := s.Do(context.Background(), 1, func(context.Context) error { ran.Add(1); return nil }); !errors.Is(err, data.ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
	s.Close() // twice is fine
	if ran.Load() != 0 {
		t.Fatalf("%d dropped jobs ran", ran.Load())
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newSched(t, sched.Config{Name: "search", Workers: 2, Registry: reg})
	for range 5 {
		if err := s.Do(context.Background(), 1, func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	release, _ := blocker(t, s, 2)
	queued := make(chan error, 1)
	go func() { queued <- s.Do(context.Background(), 1, func(context.Context) error { return nil }) }()
	waitQueued(t, s, 1)
	if got := value(t, reg, "ragd_sched_queue_depth"); got != 1 {
		t.Fatalf("queue_depth %v, want 1", got)
	}
	if got := value(t, reg, "ragd_sched_busy_workers"); got != 2 {
		t.Fatalf("busy_workers %v, want 2", got)
	}
	release()
	if err := <-queued; err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				counts[mf.GetName()] = h.GetSampleCount()
			}
			if l := m.GetLabel(); len(l) != 1 || l[0].GetName() != "pool" || l[0].GetValue() != "search" {
				t.Errorf("%s labels %v, want pool=search", mf.GetName(), l)
			}
		}
	}
	// 5 jobs, the blocker and the queued job (the blocker's service may
	// not be recorded yet: its Do returns on another goroutine).
	if counts["ragd_sched_wait_seconds"] != 7 || counts["ragd_sched_service_seconds"] < 6 {
		t.Fatalf("histogram counts %v, want 7 waits and >= 6 services", counts)
	}
	if _, err := sched.New(sched.Config{Name: "search", Registry: reg}); err == nil {
		t.Fatal("a second scheduler with the same name registered its metrics twice")
	}
	if _, err := sched.New(sched.Config{Name: "embed", Registry: reg}); err != nil {
		t.Fatalf("a second pool on one registry: %v", err)
	}
}

// value reads a counter's or gauge's current value from reg.
func value(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}
