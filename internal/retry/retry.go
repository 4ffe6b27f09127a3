package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy says how often a failed attempt is retried and how long to wait.
type Policy struct {
	// MaxRetries is the number of retries after the first attempt (0: none).
	MaxRetries int
	// Base is the first retry's wait before jitter; it doubles on each retry.
	Base time.Duration
	// Max caps one wait, a server's Retry-After included.
	Max time.Duration
}

// Wait returns the wait before retry attempt+1 (attempt counts from 0):
// Base·2^attempt with jitter in [d/2, d], at least the server's
// retryAfter, at most Max.
func (p Policy) Wait(attempt int, retryAfter time.Duration) time.Duration {
	d := p.Base << min(max(attempt, 0), 20)
	if d <= 0 || (p.Max > 0 && d > p.Max) {
		d = p.Max
	}
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	d = max(d, retryAfter)
	if p.Max > 0 {
		d = min(d, p.Max)
	}
	return d
}

// Error marks a failure worth another attempt.
type Error struct {
	Err error
	// After is the server's Retry-After (0: none).
	After time.Duration
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Retryable marks err as worth another attempt, after at least after.
func Retryable(err error, after time.Duration) error { return &Error{Err: err, After: after} }

// Exhausted is Do's error when every attempt failed with a retryable error.
type Exhausted struct {
	Attempts int
	Err      error // the last attempt's error, unwrapped from *Error
}

func (e *Exhausted) Error() string { return fmt.Sprintf("%d attempts: %v", e.Attempts, e.Err) }
func (e *Exhausted) Unwrap() error { return e.Err }

// Do calls try until it returns nil, an error that is not Retryable (returned
// as is), or the policy's retries are spent (*Exhausted). Between attempts
// it calls onRetry (may be nil) and waits Policy.Wait; when ctx ends first,
// or try fails retryably after ctx ended, it returns ctx.Err().
func Do(ctx context.Context, p Policy, onRetry func(attempt int, wait time.Duration, err error), try func() error) error {
	for attempt := 0; ; attempt++ {
		err := try()
		if err == nil {
			return nil
		}
		var re *Error
		if !errors.As(err, &re) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attempt >= p.MaxRetries {
			return &Exhausted{Attempts: attempt + 1, Err: re.Err}
		}
		wait := p.Wait(attempt, re.After)
		if onRetry != nil {
			onRetry(attempt, wait, re.Err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// maxRetryAfter bounds a parsed Retry-After.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header: delay seconds or an HTTP date
// (relative to now). Absent, malformed, negative or past values are 0; a
// delay is at most a day.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, int(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}
