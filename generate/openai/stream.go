package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/internal/retry"
	"github.com/ragd/ragd/openaiwire"
)

// Limits on what is read from an upstream.
const (
	maxJSONBody  = 16 << 20
	maxErrorBody = 64 << 10
)

// stream holds one Generate call's progress across attempts.
type stream struct {
	emit    func(generate.Event) error
	emitted bool // a token went out: no more retries
	finish  string
	usage   *generate.Usage
	calls   []openaiwire.ToolCall // tool calls assembled from deltas
}

// readSSE consumes an event stream.
func (s *stream) readSSE(body io.Reader) error {
	r := newSSEReader(body)
	s.finish, s.usage, s.calls = "", nil, nil
	for {
		ev, err := r.Next()
		if err != nil {
			if s.finish != "" && errors.Is(err, io.EOF) {
				// Some servers close after the finish chunk without [DONE].
				return s.done()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return retry.Retryable(fmt.Errorf("openai: %w: stream ended before completion", generate.ErrUpstream), 0)
			}
			if errors.Is(err, errEventTooLarge) {
				return fmt.Errorf("openai: %w: %w", generate.ErrUpstream, err)
			}
			return retry.Retryable(fmt.Errorf("openai: %w: reading stream: %v", generate.ErrUpstream, err), 0) //nolint:errorlint // cause kept as text: transport and context errors must not make an upstream failure look like the caller's cancellation
		}
		if string(bytes.TrimSpace(ev)) == "[DONE]" {
			return s.done()
		}
		if err := s.chunk(ev); err != nil {
			return err
		}
	}
}

// chunk handles one decoded data payload.
func (s *stream) chunk(payload []byte) error {
	// A chunk of either endpoint or, for the JSON fallback, a whole response.
	var c openaiwire.ChatCompletionChunk
	if err := json.Unmarshal(payload, &c); err != nil {
		return fmt.Errorf("openai: %w: malformed chunk %q: %w", generate.ErrUpstream, clip(string(payload), 200), err)
	}
	if msg := errorMessage(c.Error); msg != "" {
		return fmt.Errorf("openai: %w: upstream reported: %s", generate.ErrUpstream, msg)
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue
		}
		text := ch.Delta.Content
		switch {
		case text != "":
		case ch.Message != nil:
			text = ch.Message.Content
		case ch.Text != nil:
			text = *ch.Text
		}
		if ch.Message != nil && len(ch.Message.ToolCalls) > 0 {
			s.calls = append([]openaiwire.ToolCall(nil), ch.Message.ToolCalls...)
		}
		s.addCalls(ch.Delta.ToolCalls)
		if text != "" {
			s.emitted = true
			if err := s.emit(generate.Event{Type: generate.EventToken, Delta: text}); err != nil {
				return emitError{err}
			}
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			s.finish = *ch.FinishReason
		}
	}
	if c.Usage != nil {
		s.usage = &generate.Usage{PromptTokens: c.Usage.PromptTokens, CompletionTokens: c.Usage.CompletionTokens}
	}
	return nil
}

// addCalls merges streamed tool-call pieces: the first piece of a call
// (by index) brings its id, type and name, later ones more arguments text.
func (s *stream) addCalls(parts []openaiwire.ToolCall) {
	for _, p := range parts {
		i := len(s.calls)
		if p.Index != nil {
			i = *p.Index
		}
		if i < 0 || i > 1024 {
			continue
		}
		for len(s.calls) <= i {
			s.calls = append(s.calls, openaiwire.ToolCall{})
		}
		c := &s.calls[i]
		if p.ID != "" {
			c.ID = p.ID
		}
		if p.Type != "" {
			c.Type = p.Type
		}
		c.Function.Name += p.Function.Name
		c.Function.Arguments += p.Function.Arguments
	}
}

// done sends the final event, with the tool calls when there are some.
func (s *stream) done() error {
	fr := s.finish
	if fr == "" {
		fr = "stop"
	}
	var calls []openaiwire.ToolCall
	for _, c := range s.calls {
		c.Index = nil
		calls = append(calls, c)
	}
	if len(calls) > 0 && fr == "stop" {
		fr = "tool_calls"
	}
	if err := s.emit(generate.Event{Type: generate.EventDone, FinishReason: fr, Usage: s.usage, ToolCalls: calls}); err != nil {
		return emitError{err}
	}
	return nil
}

// readJSON handles a server that answered the streaming request with a
// complete JSON response.
func (s *stream) readJSON(body io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(body, maxJSONBody+1))
	if err != nil {
		return retry.Retryable(fmt.Errorf("openai: %w: reading response: %v", generate.ErrUpstream, err), 0) //nolint:errorlint // cause kept as text: transport and context errors must not make an upstream failure look like the caller's cancellation
	}
	if len(b) > maxJSONBody {
		return fmt.Errorf("openai: %w: response over %d bytes", generate.ErrUpstream, maxJSONBody)
	}
	s.finish, s.usage, s.calls = "", nil, nil
	if err := s.chunk(b); err != nil {
		return err
	}
	return s.done()
}

// statusError turns a non-2xx response into an error; 429 and 5xx are
// retryable.
func statusError(resp *http.Response, maxWait time.Duration) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := bodyMessage(b)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	code := resp.StatusCode
	wrap := func(kind error) error {
		if kind == nil {
			return fmt.Errorf("openai: %w: HTTP %d: %s", generate.ErrUpstream, code, msg)
		}
		return fmt.Errorf("openai: %w: %w: HTTP %d: %s", generate.ErrUpstream, kind, code, msg)
	}
	retryAfter := min(retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), maxWait)
	switch {
	case code == http.StatusUnauthorized:
		return wrap(data.ErrUnauthorized)
	case code == http.StatusForbidden:
		return wrap(data.ErrForbidden)
	case code == http.StatusNotFound:
		return wrap(data.ErrNotFound)
	case code == http.StatusTooManyRequests:
		return retry.Retryable(wrap(generate.ErrOverloaded), retryAfter)
	case code >= 500:
		return retry.Retryable(wrap(generate.ErrUnavailable), retryAfter)
	case isContextOverflow(msg):
		return wrap(generate.ErrContextFull)
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity || code == http.StatusRequestEntityTooLarge:
		return wrap(data.ErrInvalid)
	}
	return wrap(nil)
}

func isContextOverflow(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "context") && (strings.Contains(m, "length") || strings.Contains(m, "window") || strings.Contains(m, "exceed"))
}

// bodyMessage extracts the message of an error body: {"error": {"message":
// ...}}, {"error": "..."}, {"message": ...} or, failing those, the text.
func bodyMessage(b []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
	}
	if json.Unmarshal(b, &v) == nil {
		if m := errorMessage(v.Error); m != "" {
			return m
		}
		if v.Message != "" {
			return clip(v.Message, 500)
		}
		if v.Detail != "" {
			return clip(v.Detail, 500)
		}
	}
	return clip(strings.TrimSpace(string(b)), 500)
}

// errorMessage reads an "error" value: an object with a message, or a string.
func errorMessage(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return clip(s, 500)
	}
	var o struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	if json.Unmarshal(raw, &o) == nil && (o.Message != "" || o.Type != "") {
		if o.Message == "" {
			return o.Type
		}
		return clip(o.Message, 500)
	}
	return clip(string(raw), 500)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
