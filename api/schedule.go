package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ragd/ragd/rag"
)

// Scheduler runs CPU-bound work on a bounded set of workers in arrival
// order (rag/sched.Scheduler). weight is the number of cores the job uses.
// A full queue is an error wrapping data.ErrOverloaded, which may carry a
// RetryAfter() time.Duration hint.
type Scheduler interface {
	Do(ctx context.Context, weight int, fn func(context.Context) error) error
}

// Timing splits a scheduled job's time into its wait for a worker and its
// run on one.
type Timing struct {
	Wait, Service time.Duration
}

// Schedule runs fn through sch (directly when sch is nil) and reports how
// long it waited and ran.
func Schedule(ctx context.Context, sch Scheduler, weight int, fn func(context.Context) error) (Timing, error) {
	enqueued := time.Now()
	if sch == nil {
		err := fn(ctx)
		return Timing{Service: time.Since(enqueued)}, err
	}
	var t Timing
	var start time.Time
	err := sch.Do(ctx, weight, func(ctx context.Context) error {
		start = time.Now()
		t.Wait = start.Sub(enqueued)
		return fn(ctx)
	})
	if !start.IsZero() {
		t.Service = time.Since(start)
	} else {
		t.Wait = time.Since(enqueued)
	}
	return t, err
}

// ServerTiming is the Server-Timing header value for t ("queue" and
// "search", in milliseconds); scripts/loadtest reads it.
func (t Timing) ServerTiming() string {
	return fmt.Sprintf("queue;dur=%.3f, search;dur=%.3f", float64(t.Wait.Microseconds())/1000, float64(t.Service.Microseconds())/1000)
}

// serverTiming is the Server-Timing header value of a search the
// retrieval service scheduled.
func serverTiming(t rag.Timing) string { return Timing(t).ServerTiming() }

// RetryAfter is the Retry-After header value (whole seconds, at least 1)
// for a 429 or 503 answer to err: the error's own RetryAfter() hint when
// it has one (a full scheduler queue), else 1.
func RetryAfter(err error) string {
	var h interface{ RetryAfter() time.Duration }
	if errors.As(err, &h) {
		if d := h.RetryAfter(); d > time.Second {
			return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
		}
	}
	return "1"
}
