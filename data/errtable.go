package data

import (
	"context"
	"errors"
	"net/http"
)

// ErrorClass is how every front end reports one kind of error: the HTTP
// status, the stable string code of ragd's own error body
// ({"error":{"code","message"}}, used by /v1, the OpenAI routes and auth)
// and the numeric code of wire formats that want a number (Cloudflare's
// errors[].code on /client/v4).
type ErrorClass struct {
	Status int
	Code   string
	Number int
}

// Logged reports whether a failure of this class is the server's own
// (5xx) and belongs in the error log; a client that went away (499) is not.
func (c ErrorClass) Logged() bool { return c.Status >= 500 }

// StatusClientClosed is the status of a request whose client went away
// before the answer (nginx's 499); it is never sent, only logged and counted.
const StatusClientClosed = 499

// errorTable is the one mapping from sentinel errors to classes. The first
// entry the error matches (errors.Is) wins, so more specific kinds come
// before the general ones they may be wrapped with.
var errorTable = []struct {
	err   error
	class ErrorClass
}{
	{ErrUnauthorized, ErrorClass{http.StatusUnauthorized, "unauthorized", 10000}},
	{ErrForbidden, ErrorClass{http.StatusForbidden, "forbidden", 10001}},
	{ErrRateLimited, ErrorClass{http.StatusTooManyRequests, "rate_limited", 42902}},
	{ErrNotFound, ErrorClass{http.StatusNotFound, "not_found", 40401}},
	{ErrExists, ErrorClass{http.StatusConflict, "already_exists", 40901}},
	{ErrConflict, ErrorClass{http.StatusConflict, "conflict", 40902}},
	{ErrModelMismatch, ErrorClass{http.StatusConflict, "model_mismatch", 40903}},
	{ErrTooLarge, ErrorClass{http.StatusRequestEntityTooLarge, "too_large", 41301}},
	{ErrDimension, ErrorClass{http.StatusBadRequest, "dimension_mismatch", 40002}},
	{ErrContextFull, ErrorClass{http.StatusBadRequest, "context_length_exceeded", 40004}},
	{ErrInvalid, ErrorClass{http.StatusBadRequest, "invalid_request", 40001}},
	{ErrUnsupported, ErrorClass{http.StatusBadRequest, "unsupported", 40003}},
	{ErrOverloaded, ErrorClass{http.StatusTooManyRequests, "overloaded", 42901}},
	{ErrUnavailable, ErrorClass{http.StatusServiceUnavailable, "unavailable", 50301}},
	{ErrClosed, ErrorClass{http.StatusServiceUnavailable, "unavailable", 50301}},
	{ErrUpstream, ErrorClass{http.StatusBadGateway, "upstream_error", 50201}},
	{context.DeadlineExceeded, ErrorClass{http.StatusGatewayTimeout, "timeout", 50401}},
	{context.Canceled, ErrorClass{StatusClientClosed, "cancelled", 49901}},
}

// InternalError is the class of every error the table does not know.
var InternalError = ErrorClass{http.StatusInternalServerError, "internal", 50001}

// ClassOf returns err's class: the first table entry it matches, else
// InternalError.
func ClassOf(err error) ErrorClass {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.class
		}
	}
	return InternalError
}

// statusOnly are the classes of errors that carry only a status (a
// router's 404 or 405, a body limit's 413): a status-only 404 or 405 means
// no route (Cloudflare's 7003 and 7001), other statuses take the class of
// the general sentinel for them.
var statusOnly = map[int]ErrorClass{
	http.StatusNotFound:              {http.StatusNotFound, "not_found", 7003},
	http.StatusMethodNotAllowed:      {http.StatusMethodNotAllowed, "method_not_allowed", 7001},
	http.StatusBadRequest:            ClassOf(ErrInvalid),
	http.StatusUnauthorized:          ClassOf(ErrUnauthorized),
	http.StatusForbidden:             ClassOf(ErrForbidden),
	http.StatusConflict:              ClassOf(ErrConflict),
	http.StatusRequestEntityTooLarge: ClassOf(ErrTooLarge),
	http.StatusTooManyRequests:       ClassOf(ErrOverloaded),
	http.StatusBadGateway:            ClassOf(ErrUpstream),
	http.StatusServiceUnavailable:    ClassOf(ErrUnavailable),
	http.StatusGatewayTimeout:        ClassOf(context.DeadlineExceeded),
	http.StatusInternalServerError:   InternalError,
}

// ClassOfStatus returns the class of an error that carries only an HTTP
// status. Statuses without one get a code made from the status text and
// the number 40001 or 50001.
func ClassOfStatus(status int) ErrorClass {
	if c, ok := statusOnly[status]; ok {
		return c
	}
	code := []byte(http.StatusText(status))
	for i, b := range code {
		switch {
		case b >= 'A' && b <= 'Z':
			code[i] = b + 'a' - 'A'
		case b == ' ' || b == '-':
			code[i] = '_'
		}
	}
	if len(code) == 0 {
		code = []byte("error")
	}
	n := 40001
	if status >= 500 {
		n = 50001
	}
	return ErrorClass{status, string(code), n}
}
