package sched

import (
	"fmt"
	"time"

	"github.com/ragd/ragd/data"
)

// OverloadedError is Do's answer when the queue is full. It wraps
// data.ErrOverloaded; RetryAfter is a hint for the client.
type OverloadedError struct {
	// Pool is the scheduler's Config.Name.
	Pool string
	// Queued is how many jobs were waiting, Limit the queue's bound.
	Queued, Limit int
	// After is the time the jobs ahead should take to drain.
	After time.Duration
}

func (e *OverloadedError) Error() string {
	return fmt.Sprintf("sched %s: %d jobs waiting (limit %d): %v", e.Pool, e.Queued, e.Limit, data.ErrOverloaded)
}

// Unwrap makes errors.Is(err, data.ErrOverloaded) hold.
func (e *OverloadedError) Unwrap() error { return data.ErrOverloaded }

// RetryAfter is the hint an HTTP layer sends as Retry-After.
func (e *OverloadedError) RetryAfter() time.Duration { return e.After }
