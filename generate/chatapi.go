package generate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/ragd/ragd/data"
)

// Wire types of the OpenAI-compatible chat endpoint that ragd serves
// (POST /v1/chat/completions), with adapters to and from Request and Event.
// The API layer decodes a ChatCompletionRequest, calls Validate and
// ToRequest, runs a Generator, and feeds its events to a ChatAdapter, which
// yields the chunks to stream (each written as an SSE "data:" line, then
// "data: [DONE]") or, for stream=false, the ChatCompletionResponse.

// Limits on chat requests.
const (
	MaxChatMessages = 1024
	MaxStopStrings  = 16
)

// UnmarshalJSON accepts a message whose content is a string, null, or an
// array of content parts of type "text" (which are concatenated). Other
// part types (images, audio) are rejected with data.ErrUnsupported.
func (m *Message) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Role = raw.Role
	m.Content = ""
	c := bytes.TrimSpace(raw.Content)
	switch {
	case len(c) == 0 || bytes.Equal(c, []byte("null")):
	case c[0] == '"':
		return json.Unmarshal(c, &m.Content)
	case c[0] == '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(c, &parts); err != nil {
			return fmt.Errorf("message content parts: %w", err)
		}
		var sb strings.Builder
		for _, p := range parts {
			if p.Type != "text" {
				return fmt.Errorf("%w: message content part of type %q (only text)", data.ErrUnsupported, p.Type)
			}
			sb.WriteString(p.Text)
		}
		m.Content = sb.String()
	default:
		return fmt.Errorf("%w: message content must be a string or an array of text parts", data.ErrInvalid)
	}
	return nil
}

// StopList is the "stop" field: a string or an array of strings.
type StopList []string

// UnmarshalJSON accepts null, "text" or ["a", "b"].
func (s *StopList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = StopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("%w: stop must be a string or an array of strings", data.ErrInvalid)
	}
	*s = many
	return nil
}

// StreamOptions is the "stream_options" field.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatCompletionRequest is the body of POST /v1/chat/completions. Pointer
// fields distinguish "absent" from zero.
type ChatCompletionRequest struct {
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`
	Stream   bool      `json:"stream,omitempty"`
	// StreamOptions.IncludeUsage asks for a final chunk carrying usage.
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	MaxTokens     *int           `json:"max_tokens,omitempty"`
	// MaxCompletionTokens is the newer name of MaxTokens; it wins when both are set.
	MaxCompletionTokens *int     `json:"max_completion_tokens,omitempty"`
	Temperature         *float64 `json:"temperature,omitempty"`
	TopP                *float64 `json:"top_p,omitempty"`
	// TopK is an extension that vLLM, llama.cpp server and Ollama accept.
	TopK *int     `json:"top_k,omitempty"`
	Seed *int64   `json:"seed,omitempty"`
	Stop StopList `json:"stop,omitempty"`
	User string   `json:"user,omitempty"`
}

// Validate checks the request and returns an error wrapping data.ErrInvalid
// that names the offending field.
func (r *ChatCompletionRequest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{data.ErrInvalid}, args...)...)
	}
	if len(r.Messages) == 0 {
		return bad("messages must not be empty")
	}
	if len(r.Messages) > MaxChatMessages {
		return bad("more than %d messages", MaxChatMessages)
	}
	for i, m := range r.Messages {
		switch m.Role {
		case "system", "user", "assistant", "developer":
		default:
			return bad("messages[%d].role %q (want system, user or assistant)", i, m.Role)
		}
	}
	if t := r.Temperature; t != nil && (math.IsNaN(*t) || *t < 0 || *t > data.MaxTemperature) {
		return bad("temperature must be in [0, %d]", data.MaxTemperature)
	}
	if p := r.TopP; p != nil && (math.IsNaN(*p) || *p < 0 || *p > 1) {
		return bad("top_p must be in [0, 1]")
	}
	if k := r.TopK; k != nil && *k < 0 {
		return bad("top_k must not be negative")
	}
	for _, n := range []*int{r.MaxTokens, r.MaxCompletionTokens} {
		if n != nil && *n < 0 {
			return bad("max_tokens must not be negative")
		}
	}
	if s := r.Seed; s != nil && (*s < 0 || *s > math.MaxUint32) {
		return bad("seed must be in [0, %d]", uint32(math.MaxUint32))
	}
	if len(r.Stop) > MaxStopStrings {
		return bad("more than %d stop strings", MaxStopStrings)
	}
	for _, s := range r.Stop {
		if s == "" {
			return bad("empty stop string")
		}
	}
	return nil
}

// IncludeUsage reports whether the client asked for a usage chunk.
func (r *ChatCompletionRequest) IncludeUsage() bool {
	return r.StreamOptions != nil && r.StreamOptions.IncludeUsage
}

// ToRequest validates r and converts it to a generation Request. An absent
// temperature means 1, the OpenAI default; "developer" messages become
// system messages.
func (r *ChatCompletionRequest) ToRequest() (Request, error) {
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	req := Request{Temperature: 1, Stop: append([]string(nil), r.Stop...)}
	for _, m := range r.Messages {
		if m.Role == "developer" {
			m.Role = "system"
		}
		req.Messages = append(req.Messages, m)
	}
	if r.MaxTokens != nil {
		req.MaxTokens = *r.MaxTokens
	}
	if r.MaxCompletionTokens != nil {
		req.MaxTokens = *r.MaxCompletionTokens
	}
	if r.Temperature != nil {
		req.Temperature = *r.Temperature
	}
	if r.TopP != nil {
		req.TopP = *r.TopP
	}
	if r.TopK != nil {
		req.TopK = *r.TopK
	}
	if r.Seed != nil {
		s := uint32(*r.Seed)
		req.Seed = &s
	}
	return req, nil
}

// ChatUsage is the "usage" object.
type ChatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// NewChatUsage converts Usage.
func NewChatUsage(u Usage) *ChatUsage {
	return &ChatUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.PromptTokens + u.CompletionTokens}
}

// ChatDelta is the incremental message of a chunk.
type ChatDelta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

// ChunkChoice is one choice of a streamed chunk. FinishReason is null until
// the last content chunk.
type ChunkChoice struct {
	Index        int       `json:"index"`
	Delta        ChatDelta `json:"delta"`
	FinishReason *string   `json:"finish_reason"`
}

// ChatCompletionChunk is one streamed "chat.completion.chunk".
type ChatCompletionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *ChatUsage    `json:"usage,omitempty"`
}

// ChatChoice is one choice of a complete response.
type ChatChoice struct {
	Index        int     `json:"index"`
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason"`
}

// ChatCompletionResponse is the non-streamed "chat.completion" body.
type ChatCompletionResponse struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []ChatChoice `json:"choices"`
	Usage   ChatUsage    `json:"usage"`
}

// ErrorResponse is the OpenAI error body: {"error": {...}}.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an error. Type is e.g. "invalid_request_error",
// "authentication_error", "rate_limit_error" or "server_error".
type ErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// NewErrorResponse builds an error body.
func NewErrorResponse(message, typ string) ErrorResponse {
	return ErrorResponse{Error: ErrorDetail{Message: message, Type: typ}}
}

// NewCompletionID returns a fresh id for a chat completion: "chatcmpl-"
// and 24 random hex digits.
func NewCompletionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

// ChatAdapter turns a Generator's events into chat completion chunks and,
// at the end, a complete response. It is used by one request at a time.
type ChatAdapter struct {
	id, model    string
	created      int64
	includeUsage bool
	sentRole     bool
	text         strings.Builder
	finish       string
	usage        Usage
}

// NewChatAdapter starts an adapter for one completion. created is a Unix
// time in seconds; includeUsage adds the final usage-only chunk
// (stream_options.include_usage).
func NewChatAdapter(id, model string, created int64, includeUsage bool) *ChatAdapter {
	return &ChatAdapter{id: id, model: model, created: created, includeUsage: includeUsage}
}

// Chunks converts one event into the chunks to send, in order: the first
// token carries the assistant role; the done event yields a chunk with the
// finish reason and, when usage was requested, one with empty choices and
// the usage.
func (a *ChatAdapter) Chunks(ev Event) []ChatCompletionChunk {
	switch ev.Type {
	case EventToken:
		if ev.Delta == "" {
			return nil
		}
		a.text.WriteString(ev.Delta)
		d := ChatDelta{Content: ev.Delta}
		if !a.sentRole {
			d.Role, a.sentRole = "assistant", true
		}
		return []ChatCompletionChunk{a.chunk([]ChunkChoice{{Delta: d}}, nil)}
	case EventDone:
		a.finish = finishReason(ev.FinishReason)
		if ev.Usage != nil {
			a.usage = *ev.Usage
		}
		d := ChatDelta{}
		if !a.sentRole {
			d.Role, a.sentRole = "assistant", true
		}
		fr := a.finish
		out := []ChatCompletionChunk{a.chunk([]ChunkChoice{{Delta: d, FinishReason: &fr}}, nil)}
		if a.includeUsage {
			out = append(out, a.chunk([]ChunkChoice{}, NewChatUsage(a.usage)))
		}
		return out
	}
	return nil
}

// Response returns the complete response for the events seen so far.
func (a *ChatAdapter) Response() ChatCompletionResponse {
	return ChatCompletionResponse{
		ID: a.id, Object: "chat.completion", Created: a.created, Model: a.model,
		Choices: []ChatChoice{{Message: Message{Role: "assistant", Content: a.text.String()}, FinishReason: finishReason(a.finish)}},
		Usage:   *NewChatUsage(a.usage),
	}
}

func (a *ChatAdapter) chunk(choices []ChunkChoice, u *ChatUsage) ChatCompletionChunk {
	return ChatCompletionChunk{ID: a.id, Object: "chat.completion.chunk", Created: a.created, Model: a.model, Choices: choices, Usage: u}
}

// finishReason maps ragd finish reasons to OpenAI ones ("cancelled" has no
// OpenAI counterpart and is reported as "stop").
func finishReason(s string) string {
	switch s {
	case "", "cancelled":
		return "stop"
	}
	return s
}
