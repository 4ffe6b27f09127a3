package api

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ragd/ragd/rag"
)

// Scheduler runs CPU-bound work on a bounded set of workers in arrival
// order (rag/sched.Scheduler; rag.Schedule runs a job through one). A full
// queue is an error wrapping data.ErrOverloaded, which may carry a
// RetryAfter() time.Duration hint.
type Scheduler = rag.Scheduler

// serverTiming is the Server-Timing header value of a scheduled search
// ("queue" and "search", in milliseconds); scripts/loadtest reads it.
func serverTiming(t rag.Timing) string {
	return fmt.Sprintf("queue;dur=%.3f, search;dur=%.3f", float64(t.Wait.Microseconds())/1000, float64(t.Service.Microseconds())/1000)
}

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
