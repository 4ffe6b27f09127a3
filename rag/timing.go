package rag

import (
	"context"
	"time"
)

// Timing splits a scheduled search's time into its wait for a worker and
// its run on one. A front end asks for it with WithTiming and reports it
// (the /v1 search route sends it as a Server-Timing header).
type Timing struct {
	Wait, Service time.Duration
}

type timingKey struct{}

// WithTiming returns a context under which Search records its Timing into
// the returned value (once Search returns).
func WithTiming(ctx context.Context) (context.Context, *Timing) {
	t := &Timing{}
	return context.WithValue(ctx, timingKey{}, t), t
}

// do runs fn through the service's scheduler (Schedule).
func (s *Service) do(ctx context.Context, weight int, fn func(context.Context) error) error {
	return Schedule(ctx, s.cfg.Scheduler, weight, fn)
}

// Schedule runs fn through sch, or inline when sch is nil, and records
// the wait and service times when the context asks for them (WithTiming).
// The service schedules its searches with it; a front end that reads the
// storage tier directly (the Vectorize query) schedules its work with it
// too, on the same scheduler.
func Schedule(ctx context.Context, sch Scheduler, weight int, fn func(context.Context) error) error {
	t, _ := ctx.Value(timingKey{}).(*Timing)
	enqueued := time.Now()
	if sch == nil {
		err := fn(ctx)
		if t != nil {
			t.Service = time.Since(enqueued)
		}
		return err
	}
	var start time.Time
	err := sch.Do(ctx, weight, func(ctx context.Context) error {
		start = time.Now()
		return fn(ctx)
	})
	if t != nil {
		if start.IsZero() {
			t.Wait = time.Since(enqueued)
		} else {
			t.Wait, t.Service = start.Sub(enqueued), time.Since(start)
		}
	}
	return err
}
