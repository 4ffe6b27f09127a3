package retry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 2 ", 2 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{"junk", 0},
		{"999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := ParseRetryAfter(tt.h, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestWait(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		for range 50 {
			if d := p.Wait(attempt, 0); d < want/2 || d > want {
				t.Fatalf("Wait(%d) = %v, want [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	// Retry-After is a floor, Max a ceiling.
	if d := p.Wait(0, 700*time.Millisecond); d != 700*time.Millisecond {
		t.Errorf("Retry-After 700ms: %v", d)
	}
	if d := p.Wait(0, time.Hour); d != time.Second {
		t.Errorf("Retry-After 1h: %v, want Max", d)
	}
	if d := p.Wait(1000, 0); d < 500*time.Millisecond || d > time.Second {
		t.Errorf("huge attempt: %v", d)
	}
}

var errFlaky = errors.New("flaky")

func TestDo(t *testing.T) {
	p := Policy{MaxRetries: 2, Base: time.Millisecond, Max: 5 * time.Millisecond}
	ctx := context.Background()

	calls, retries := 0, 0
	err := Do(ctx, p, func(int, time.Duration, error) { retries++ }, func() error {
		calls++
		if calls < 3 {
			return Retryable(errFlaky, 0)
		}
		return nil
	})
	if err != nil || calls != 3 || retries != 2 {
		t.Fatalf("success on the last try: err %v, calls %d, retries %d", err, calls, retries)
	}

	calls = 0
	err = Do(ctx, p, nil, func() error { calls++; return Retryable(errFlaky, 0) })
	var ex *Exhausted
	if !errors.As(err, &ex) || ex.Attempts != 3 || calls != 3 || !errors.Is(err, errFlaky) {
		t.Fatalf("exhausted: %v (calls %d)", err, calls)
	}
	if errors.As(ex.Err, new(*Error)) {
		t.Error("Exhausted.Err still wrapped as retryable")
	}

	calls = 0
	final := errors.New("bad request")
	if err := Do(ctx, p, nil, func() error { calls++; return final }); err != final || calls != 1 {
		t.Fatalf("non-retryable: %v after %d calls", err, calls)
	}

	none := Policy{}
	calls = 0
	if err := Do(ctx, none, nil, func() error { calls++; return Retryable(errFlaky, 0) }); calls != 1 || !errors.Is(err, errFlaky) {
		t.Fatalf("no retries: %v after %d calls", err, calls)
	}
}

func TestDoStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{MaxRetries: 5, Base: time.Hour, Max: time.Hour}
	start := time.Now()
	err := Do(ctx, p, func(int, time.Duration, error) { cancel() }, func() error { return Retryable(errFlaky, 0) })
	if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	// A retryable failure after the context ended is reported as the context's error.
	err = Do(ctx, p, nil, func() error { return Retryable(errFlaky, 0) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}
