package openaiwire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/ragd/ragd/data"
)

// Limits on chat requests.
const (
	MaxChatMessages = 1024
	MaxStopStrings  = 16
)

// ChatMessage is one message of a chat request or response.
type ChatMessage struct {
	Role    string `json:"role"` // "system", "developer", "user", "assistant" or "tool"
	Content string `json:"content"`
	// ToolCalls are the calls of an assistant message.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID is the call a "tool" message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// UnmarshalJSON accepts a message whose content is a string, null, or an
// array of content parts of type "text" (which are concatenated). Other
// part types (images, audio) are rejected with data.ErrUnsupported.
func (m *ChatMessage) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCalls  []ToolCall      `json:"tool_calls"`
		ToolCallID string          `json:"tool_call_id"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Role = raw.Role
	m.ToolCalls, m.ToolCallID = raw.ToolCalls, raw.ToolCallID
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
	Model    string        `json:"model,omitempty"`
	Messages []ChatMessage `json:"messages"`
	Stream   bool          `json:"stream,omitempty"`
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
	// ResponseFormat asks for JSON output (json_object or json_schema).
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	// Tools the model may call, and which of them it must.
	Tools      []Tool      `json:"tools,omitempty"`
	ToolChoice *ToolChoice `json:"tool_choice,omitempty"`
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
		case "system", "user", "assistant", "developer", "tool":
		default:
			return bad("messages[%d].role %q (want system, user, assistant or tool)", i, m.Role)
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
	if err := ValidateTools(r.Tools, r.ToolChoice); err != nil {
		return err
	}
	return r.ResponseFormat.Validate()
}

// IncludeUsage reports whether the client asked for a usage chunk.
func (r *ChatCompletionRequest) IncludeUsage() bool {
	return r.StreamOptions != nil && r.StreamOptions.IncludeUsage
}

// CompletionRequest is the body of the legacy POST /v1/completions, which
// takes a raw prompt; ragd's OpenAI client sends it for prompt requests.
type CompletionRequest struct {
	Model         string         `json:"model,omitempty"`
	Prompt        string         `json:"prompt"`
	Stream        bool           `json:"stream"`
	StreamOptions *StreamOptions `json:"stream_options,omitempty"`
	MaxTokens     *int           `json:"max_tokens,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	TopP          *float64       `json:"top_p,omitempty"`
	TopK          *int           `json:"top_k,omitempty"`
	Seed          *int64         `json:"seed,omitempty"`
	Stop          StopList       `json:"stop,omitempty"`
	// ResponseFormat is an extension that llama.cpp server and vLLM accept.
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
}

// ChatUsage is the "usage" object.
type ChatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatDelta is the incremental message of a chunk.
type ChatDelta struct {
	Role      string     `json:"role,omitempty"`
	Content   string     `json:"content,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// ChunkChoice is one choice of a streamed chunk. FinishReason is null until
// the last content chunk.
type ChunkChoice struct {
	Index        int       `json:"index"`
	Delta        ChatDelta `json:"delta"`
	FinishReason *string   `json:"finish_reason"`
	// Message is the whole message of a non-streamed reply and Text a
	// piece of a /v1/completions reply; clients read every shape through
	// this one type. ragd never writes them.
	Message *ChatMessage `json:"message,omitempty"`
	Text    *string      `json:"text,omitempty"`
}

// ChatCompletionChunk is one streamed "chat.completion.chunk".
type ChatCompletionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *ChatUsage    `json:"usage,omitempty"`
	// Error is an upstream's in-stream error (an object with a message, or
	// a string); ragd never writes it.
	Error json.RawMessage `json:"error,omitempty"`
}

// ChatChoice is one choice of a complete response.
type ChatChoice struct {
	Index        int         `json:"index"`
	Message      ChatMessage `json:"message"`
	FinishReason string      `json:"finish_reason"`
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
