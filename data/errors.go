package data

import "errors"

// Sentinel errors. Packages wrap them with context
// (fmt.Errorf("index %q: %w", name, data.ErrNotFound)); the API maps them to
// HTTP statuses with errors.Is.
var (
	// ErrNotFound: the named index, document, chunk, vector or model does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: creating something that already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict: a versioned write lost to a concurrent one; re-read and retry.
	ErrConflict = errors.New("conflicting concurrent change")
	// ErrInvalid: the input is malformed or out of range.
	ErrInvalid = errors.New("invalid input")
	// ErrDimension: a vector's length does not match the index's dimensions.
	ErrDimension = errors.New("dimension mismatch")
	// ErrModelMismatch: a query uses a different embedding model than the index was built with.
	ErrModelMismatch = errors.New("model mismatch")
	// ErrTooLarge: an input exceeds a configured limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnsupported: a file type, mode or option this build cannot handle.
	ErrUnsupported = errors.New("unsupported")
	// ErrUnavailable: a dependency (model, library, upstream) is missing or not ready.
	ErrUnavailable = errors.New("unavailable")
	// ErrOverloaded: a bounded queue is full; retry later.
	ErrOverloaded = errors.New("overloaded")
	// ErrUnauthorized: missing or wrong credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: credentials lack the needed scope.
	ErrForbidden = errors.New("forbidden")
	// ErrClosed: the resource has been closed.
	ErrClosed = errors.New("closed")
	// ErrRateLimited: the caller's request rate is over its limit; retry later.
	ErrRateLimited = errors.New("rate limited")
	// ErrContextFull: an input is longer than a model's context window.
	ErrContextFull = errors.New("longer than the context")
	// ErrUpstream: a remote dependency (an OpenAI-compatible server) failed.
	ErrUpstream = errors.New("upstream error")
)

// Error is a package's own sentinel that belongs to one of the kinds
// above: errors.Is matches both the sentinel itself and its kind, so the
// error table maps it without knowing the package
// (generate.ErrOverloaded is a Kinded(ErrOverloaded, ...)).
type Error struct {
	kind error
	msg  string
}

// Kinded returns a new sentinel with message msg and kind kind.
func Kinded(kind error, msg string) error { return &Error{kind: kind, msg: msg} }

func (e *Error) Error() string { return e.msg }

// Unwrap returns the kind.
func (e *Error) Unwrap() error { return e.kind }
