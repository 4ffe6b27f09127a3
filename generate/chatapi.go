package generate

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/ragd/ragd/openaiwire"
)

// The OpenAI-compatible chat endpoint that ragd serves (POST
// /v1/chat/completions) speaks openaiwire's types. The API layer decodes an
// openaiwire.ChatCompletionRequest, converts it with ChatRequest, runs a
// Generator, and feeds its events to a ChatAdapter, which yields the chunks
// to stream (each written as an SSE "data:" line, then "data: [DONE]") or,
// for stream=false, the complete response.

// ChatCompletionResponse is openaiwire.ChatCompletionResponse, named here
// for the front ends that embed it.
type ChatCompletionResponse = openaiwire.ChatCompletionResponse

// ChatRequest validates r and converts it to a generation Request. An
// absent temperature means 1, the OpenAI default; "developer" messages
// become system messages.
func ChatRequest(r *openaiwire.ChatCompletionRequest) (Request, error) {
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	req := Request{Temperature: 1, Stop: append([]string(nil), r.Stop...), ResponseFormat: r.ResponseFormat,
		Tools: r.Tools, ToolChoice: r.ToolChoice}
	for _, m := range r.Messages {
		if m.Role == "developer" {
			m.Role = "system"
		}
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: m.Content, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID})
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

// chatUsage converts Usage.
func chatUsage(u Usage) *openaiwire.ChatUsage {
	return &openaiwire.ChatUsage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.PromptTokens + u.CompletionTokens}
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
	toolCalls    []openaiwire.ToolCall
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
func (a *ChatAdapter) Chunks(ev Event) []openaiwire.ChatCompletionChunk {
	switch ev.Type {
	case EventToken:
		if ev.Delta == "" {
			return nil
		}
		a.text.WriteString(ev.Delta)
		d := openaiwire.ChatDelta{Content: ev.Delta}
		if !a.sentRole {
			d.Role, a.sentRole = "assistant", true
		}
		return []openaiwire.ChatCompletionChunk{a.chunk([]openaiwire.ChunkChoice{{Delta: d}}, nil)}
	case EventDone:
		a.finish = finishReason(ev.FinishReason)
		if ev.Usage != nil {
			a.usage = *ev.Usage
		}
		d := openaiwire.ChatDelta{}
		if !a.sentRole {
			d.Role, a.sentRole = "assistant", true
		}
		var out []openaiwire.ChatCompletionChunk
		if len(ev.ToolCalls) > 0 {
			a.toolCalls = ev.ToolCalls
			a.finish = "tool_calls"
			calls := make([]openaiwire.ToolCall, len(ev.ToolCalls))
			for i, c := range ev.ToolCalls {
				c.Index = &i
				calls[i] = c
			}
			out = append(out, a.chunk([]openaiwire.ChunkChoice{{Delta: openaiwire.ChatDelta{Role: d.Role, ToolCalls: calls}}}, nil))
			d.Role = ""
		}
		fr := a.finish
		out = append(out, a.chunk([]openaiwire.ChunkChoice{{Delta: d, FinishReason: &fr}}, nil))
		if a.includeUsage {
			out = append(out, a.chunk([]openaiwire.ChunkChoice{}, chatUsage(a.usage)))
		}
		return out
	}
	return nil
}

// Response returns the complete response for the events seen so far.
func (a *ChatAdapter) Response() openaiwire.ChatCompletionResponse {
	return openaiwire.ChatCompletionResponse{
		ID: a.id, Object: "chat.completion", Created: a.created, Model: a.model,
		Choices: []openaiwire.ChatChoice{{Message: openaiwire.ChatMessage{Role: "assistant", Content: a.text.String(), ToolCalls: a.toolCalls}, FinishReason: finishReason(a.finish)}},
		Usage:   *chatUsage(a.usage),
	}
}

func (a *ChatAdapter) chunk(choices []openaiwire.ChunkChoice, u *openaiwire.ChatUsage) openaiwire.ChatCompletionChunk {
	return openaiwire.ChatCompletionChunk{ID: a.id, Object: "chat.completion.chunk", Created: a.created, Model: a.model, Choices: choices, Usage: u}
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
