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
)
