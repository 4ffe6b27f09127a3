package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// SSE streams server-sent events, flushing each one. The headers go out
// with the first event, so a handler that fails before sending anything
// can still answer with an ordinary HTTP error (see Started).
type SSE struct {
	c       echo.Context
	started bool
}

// NewSSE prepares a stream on c; nothing is written yet.
func NewSSE(c echo.Context) *SSE { return &SSE{c: c} }

// Started reports whether the response has begun (headers and at least
// one event sent).
func (s *SSE) Started() bool { return s.started }

// Event writes v as JSON in one event; name "" writes a data-only event.
func (s *SSE) Event(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.write(name, b)
}

// Data writes a data-only event with the payload as it is ("[DONE]", or
// JSON already encoded).
func (s *SSE) Data(payload []byte) error { return s.write("", payload) }

func (s *SSE) write(name string, payload []byte) error {
	w := s.c.Response()
	if !s.started {
		h := w.Header()
		h.Set(echo.HeaderContentType, "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("Connection", "keep-alive")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		s.started = true
	}
	if name != "" {
		if _, err := fmt.Fprintf(w, "event: %s\n", name); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(w, "data: %s\n\n", payload); err != nil {
		return err
	}
	w.Flush()
	return nil
}
