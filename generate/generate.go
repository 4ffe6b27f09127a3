package generate

import (
	"context"
	"errors"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/openaiwire"
)

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"` // "system", "user", "assistant" or "tool"
	Content string `json:"content"`
	// ToolCalls are an assistant message's tool calls; ToolCallID is the
	// call a "tool" message answers.
	ToolCalls  []openaiwire.ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string                `json:"tool_call_id,omitempty"`
}

// Request is one generation request. Either Messages (rendered with the
// model's chat template) or Prompt (used verbatim) is set.
type Request struct {
	Messages  []Message `json:"messages,omitempty"`
	Prompt    string    `json:"prompt,omitempty"`
	MaxTokens int       `json:"max_tokens,omitempty"` // 0 = backend default
	// Temperature 0 means greedy decoding.
	Temperature float64  `json:"temperature"`
	TopP        float64  `json:"top_p,omitempty"`
	TopK        int      `json:"top_k,omitempty"`
	Seed        *uint32  `json:"seed,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	// ResponseFormat, when json_object or json_schema, asks for one JSON
	// document as the whole output. Generators that cannot honour it fail
	// with an error wrapping data.ErrUnsupported; llama.cpp constrains
	// sampling with a grammar and fails with ErrIncomplete when MaxTokens
	// ends the document early.
	ResponseFormat *openaiwire.ResponseFormat `json:"response_format,omitempty"`
	// Tools the model may call (OpenAI's shape) and the choice among them.
	// A generator that cannot call tools fails with an error wrapping
	// data.ErrUnsupported when ToolsActive.
	Tools      []openaiwire.Tool      `json:"tools,omitempty"`
	ToolChoice *openaiwire.ToolChoice `json:"tool_choice,omitempty"`
}

// ToolsActive reports whether the request lets the model call a tool.
func (r Request) ToolsActive() bool { return openaiwire.ToolsActive(r.Tools, r.ToolChoice) }

// Event kinds sent to the stream callback.
const (
	EventToken = "token"
	EventDone  = "done"
)

// Event is one streamed piece of a generation: token deltas, then exactly
// one done event carrying usage and the finish reason.
type Event struct {
	Type         string `json:"type"`
	Delta        string `json:"delta,omitempty"`
	Usage        *Usage `json:"usage,omitempty"`
	FinishReason string `json:"finish_reason,omitempty"` // "stop", "length", "cancelled", "tool_calls"
	// ToolCalls, on the done event, are the tool calls the completion
	// made (FinishReason "tool_calls"); no token event carried them.
	ToolCalls []openaiwire.ToolCall `json:"tool_calls,omitempty"`
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Info describes a generator.
type Info struct {
	ID          string `json:"id"`
	Backend     string `json:"backend"` // "llama.cpp", "openai", "extractive"
	ContextSize int    `json:"context_size"`
}

// Generator streams a completion through emit. A non-nil error from emit
// stops generation and is returned. Generate honours ctx cancellation
// promptly. Implementations are safe for concurrent use.
type Generator interface {
	Info() Info
	Generate(ctx context.Context, req Request, emit func(Event) error) error
}

// TokenCounter is an optional capability: a generator that can count tokens
// with its own tokenizer, used for context packing.
type TokenCounter interface {
	CountTokens(text string) (int, error)
}

// Sentinel errors.
var (
	ErrBadModel = errors.New("generate: bad model")
	// The others are kinds of data's sentinels, so data's error table maps them.
	ErrUnavailable = data.Kinded(data.ErrUnavailable, "generate: backend unavailable")
	ErrContextFull = data.Kinded(data.ErrContextFull, "generate: prompt longer than the context")
	ErrOverloaded  = data.Kinded(data.ErrOverloaded, "generate: queue full")
	ErrUpstream    = data.Kinded(data.ErrUpstream, "generate: upstream error")
	// ErrIncomplete reports structured (JSON) output cut off by max_tokens
	// or the context before the document was complete.
	ErrIncomplete = data.Kinded(data.ErrContextFull, "generate: structured output cut off before the JSON document was complete; raise max_tokens")
	// ErrNoStructuredOutput is returned by generators that cannot produce
	// output in a requested response_format.
	ErrNoStructuredOutput = data.Kinded(data.ErrUnsupported, "generate: response_format (JSON output) needs the llama.cpp or an OpenAI-compatible generator")
	// ErrNoTools is returned by generators that cannot call tools.
	ErrNoTools = data.Kinded(data.ErrUnsupported, "generate: tools need the llama.cpp or an OpenAI-compatible generator")
)
