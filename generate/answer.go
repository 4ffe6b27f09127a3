package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/openaiwire"
)

// Defaults for AnswerOptions.
const (
	// DefaultMaxTokens is the answer length reserved and requested when
	// AnswerOptions.MaxTokens is 0, capped at a quarter of the budget for
	// small contexts.
	DefaultMaxTokens = 512
	// DefaultContextBudget is used when neither AnswerOptions.ContextBudget
	// nor the generator's Info().ContextSize is set.
	DefaultContextBudget = 4096
)

// AnswerEvent kinds.
const (
	AnswerRetrieval = "retrieval"
	AnswerToken     = "token"
	AnswerDone      = "done"
	AnswerError     = "error"
)

// PassageAnswerer is an optional Generator capability: a generator that
// answers from the passages themselves rather than from a rendered prompt
// (the extractive generator). Answer calls AnswerPassages instead of
// Generate when the generator has it; req carries the sampling options and
// the packed Messages, for reference. The emit contract is Generate's.
type PassageAnswerer interface {
	AnswerPassages(ctx context.Context, question string, passages []Passage, req Request, emit func(Event) error) error
}

// AnswerOptions configures Answer. Zero values take the documented defaults.
type AnswerOptions struct {
	// SystemPrompt replaces DefaultSystemPrompt when not empty.
	SystemPrompt string
	// MaxTokens bounds the answer and is reserved in the context
	// (0 = DefaultMaxTokens, at most a quarter of the budget).
	MaxTokens int
	// Temperature 0 is greedy decoding.
	Temperature float64
	TopP        float64
	TopK        int
	Seed        *uint32
	Stop        []string
	// ContextBudget is the token budget for prompt plus answer
	// (0 = the generator's Info().ContextSize, else DefaultContextBudget).
	ContextBudget int
	// Template, when set, renders the chat into Request.Prompt (with its
	// Stop texts added) instead of sending Request.Messages. Leave it zero
	// for generators that apply their own chat template.
	Template Template
	// ResponseFormat, when json_object or json_schema, makes the answer
	// text one JSON document (citations are still read from it); the
	// system prompt then asks for JSON and, for a schema, shows it.
	ResponseFormat *openaiwire.ResponseFormat `json:",omitempty"`
	// Tools and ToolChoice let the model call a tool instead of answering
	// in text (OpenAI's shape); the calls come back as
	// AnswerResult.ToolCalls, with the passages and the citations found
	// in the calls' arguments. A generator that answers from the passages
	// themselves (PassageAnswerer: the extractive one) refuses active
	// tools with ErrNoTools before anything is streamed.
	Tools      []openaiwire.Tool      `json:",omitempty"`
	ToolChoice *openaiwire.ToolChoice `json:",omitempty"`
}

// AnswerEvent is one streamed piece of an answer. Type says which fields are set:
// "retrieval" (Passages: the passages in the prompt, numbered as cited),
// "token" (Delta), "done" (Citations, Usage, FinishReason, Dropped) and
// "error" (Error).
type AnswerEvent struct {
	Type         string           `json:"type"`
	Passages     []Passage        `json:"passages,omitempty"`
	Delta        string           `json:"delta,omitempty"`
	Citations    []Citation       `json:"citations,omitempty"`
	Usage        *Usage           `json:"usage,omitempty"`
	FinishReason string           `json:"finish_reason,omitempty"`
	Dropped      []DroppedPassage `json:"dropped,omitempty"`
	Error        string           `json:"error,omitempty"`
	// ToolCalls, on "done", are the tool calls the model made.
	ToolCalls []openaiwire.ToolCall `json:"tool_calls,omitempty"`
}

// MarshalJSON writes only the fields of the event's type, always present
// (empty lists as []), so that clients can rely on the shape:
//
//	{"type":"retrieval","passages":[...]}
//	{"type":"token","delta":"..."}
//	{"type":"done","citations":[...],"usage":{...},"finish_reason":"stop","dropped":[...]}
//	{"type":"error","error":"..."}
//
// Events of other types are written with all their non-empty fields.
func (e AnswerEvent) MarshalJSON() ([]byte, error) {
	orEmpty := func(v any, n int) any {
		if n == 0 {
			return []struct{}{}
		}
		return v
	}
	switch e.Type {
	case AnswerRetrieval:
		return json.Marshal(struct {
			Type     string `json:"type"`
			Passages any    `json:"passages"`
		}{e.Type, orEmpty(e.Passages, len(e.Passages))})
	case AnswerToken:
		return json.Marshal(struct {
			Type  string `json:"type"`
			Delta string `json:"delta"`
		}{e.Type, e.Delta})
	case AnswerDone:
		u := Usage{}
		if e.Usage != nil {
			u = *e.Usage
		}
		return json.Marshal(struct {
			Type         string                `json:"type"`
			Citations    any                   `json:"citations"`
			Usage        Usage                 `json:"usage"`
			FinishReason string                `json:"finish_reason"`
			Dropped      any                   `json:"dropped"`
			ToolCalls    []openaiwire.ToolCall `json:"tool_calls,omitempty"`
		}{e.Type, orEmpty(e.Citations, len(e.Citations)), u, e.FinishReason, orEmpty(e.Dropped, len(e.Dropped)), e.ToolCalls})
	case AnswerError:
		return json.Marshal(struct {
			Type  string `json:"type"`
			Error string `json:"error"`
		}{e.Type, e.Error})
	}
	type plain AnswerEvent // drops this method
	return json.Marshal(plain(e))
}

// AnswerResult is a completed RAG answer (a type cannot share the name of
// the Answer function).
type AnswerResult struct {
	Text         string           `json:"text"`
	Citations    []Citation       `json:"citations"`
	Usage        Usage            `json:"usage"`
	FinishReason string           `json:"finish_reason"`
	Generator    Info             `json:"generator"`
	Passages     []Passage        `json:"passages"`
	Dropped      []DroppedPassage `json:"dropped,omitempty"`
	// ToolCalls are the model's tool calls (AnswerOptions.Tools); Text is
	// then usually empty.
	ToolCalls []openaiwire.ToolCall `json:"tool_calls,omitempty"`
}

// errEmit marks errors returned by the caller's emit so they are passed
// through without an "error" event.
type errEmit struct{ err error }

func (e errEmit) Error() string { return e.err.Error() }
func (e errEmit) Unwrap() error { return e.err }

// Answer runs retrieval-augmented generation over hits (best first): it
// packs the passages into the context budget, streams a "retrieval" event,
// the generated "token" events and a final "done" event with the citations
// parsed from the text, and returns the whole answer. emit may be nil. A
// non-nil error from emit stops generation and is returned as is; a
// generation failure is reported as an "error" event and returned. A
// generator without usage reporting gets estimated counts.
func Answer(ctx context.Context, g Generator, question string, hits []data.Hit, opts AnswerOptions, emit func(AnswerEvent) error) (*AnswerResult, error) {
	if g == nil {
		return nil, fmt.Errorf("generate: answer: %w: no generator", ErrUnavailable)
	}
	question = strings.TrimSpace(question)
	if question == "" {
		return nil, fmt.Errorf("generate: answer: %w: empty question", data.ErrInvalid)
	}
	if opts.MaxTokens < 0 || opts.ContextBudget < 0 {
		return nil, fmt.Errorf("generate: answer: %w: negative max tokens or context budget", data.ErrInvalid)
	}
	if err := openaiwire.ValidateTools(opts.Tools, opts.ToolChoice); err != nil {
		return nil, fmt.Errorf("generate: answer: %w", err)
	}
	if _, ok := g.(PassageAnswerer); ok && openaiwire.ToolsActive(opts.Tools, opts.ToolChoice) {
		return nil, fmt.Errorf("generate: answer with %s: %w", g.Info().Backend, ErrNoTools)
	}
	if emit == nil {
		emit = func(AnswerEvent) error { return nil }
	}
	info := g.Info()
	system := opts.SystemPrompt
	if strings.TrimSpace(system) == "" {
		system = DefaultSystemPrompt
	}
	system += jsonInstruction(opts.ResponseFormat)
	budget := opts.ContextBudget
	if budget == 0 {
		budget = info.ContextSize
	}
	if budget <= 0 {
		budget = DefaultContextBudget
	}
	maxTokens := opts.MaxTokens
	if maxTokens == 0 {
		maxTokens = min(DefaultMaxTokens, max(budget/4, 16))
	}
	counter, _ := g.(TokenCounter)
	packed, err := Pack(PassagesFromHits(hits), PackOptions{
		SystemPrompt: system, Question: question, Budget: budget, MaxTokens: maxTokens,
		Counter: counter, Template: opts.Template,
	})
	if err != nil {
		return nil, fmt.Errorf("generate: answer: %w", err)
	}
	if err := emit(AnswerEvent{Type: AnswerRetrieval, Passages: packed.Passages}); err != nil {
		return nil, err
	}

	req := Request{
		Messages: packed.Messages, MaxTokens: maxTokens, Temperature: opts.Temperature,
		TopP: opts.TopP, TopK: opts.TopK, Seed: opts.Seed, Stop: opts.Stop, ResponseFormat: opts.ResponseFormat,
		Tools: opts.Tools, ToolChoice: opts.ToolChoice,
	}
	if !opts.Template.IsZero() {
		req.Prompt = opts.Template.Render(packed.Messages, true)
		req.Messages = nil
		req.Stop = append(append([]string(nil), opts.Stop...), opts.Template.Stop...)
	}

	var text strings.Builder
	var done *Event
	onEvent := func(ev Event) error {
		switch ev.Type {
		case EventToken:
			if ev.Delta == "" {
				return nil
			}
			text.WriteString(ev.Delta)
			if err := emit(AnswerEvent{Type: AnswerToken, Delta: ev.Delta}); err != nil {
				return errEmit{err}
			}
		case EventDone:
			e := ev
			done = &e
		}
		return nil
	}
	if pa, ok := g.(PassageAnswerer); ok {
		err = pa.AnswerPassages(ctx, question, packed.Passages, req, onEvent)
	} else {
		err = g.Generate(ctx, req, onEvent)
	}
	if err != nil {
		var ee errEmit
		if errors.As(err, &ee) {
			return nil, ee.err
		}
		err = fmt.Errorf("generate: answer with %s: %w", info.Backend, err)
		if eerr := emit(AnswerEvent{Type: AnswerError, Error: err.Error()}); eerr != nil {
			return nil, errors.Join(err, eerr)
		}
		return nil, err
	}

	ans := &AnswerResult{
		Text:      text.String(),
		Generator: info,
		Passages:  packed.Passages,
		Dropped:   packed.Dropped,
	}
	cited := ans.Text
	if done != nil && len(done.ToolCalls) > 0 {
		ans.ToolCalls = done.ToolCalls
		for _, c := range done.ToolCalls {
			cited += "\n" + c.Function.Arguments
		}
	}
	ans.Citations = MapCitations(ParseCitations(cited), packed.Passages)
	if ans.Citations == nil {
		ans.Citations = []Citation{}
	}
	ans.FinishReason = "stop"
	if done != nil && done.FinishReason != "" {
		ans.FinishReason = done.FinishReason
	}
	if done != nil && done.Usage != nil {
		ans.Usage = *done.Usage
	} else {
		ans.Usage = Usage{PromptTokens: packed.PromptTokens, CompletionTokens: EstimateTokens(ans.Text)}
	}
	u := ans.Usage
	if err := emit(AnswerEvent{
		Type: AnswerDone, Citations: ans.Citations, Usage: &u,
		FinishReason: ans.FinishReason, Dropped: packed.Dropped, ToolCalls: ans.ToolCalls,
	}); err != nil {
		return nil, err
	}
	return ans, nil
}

// jsonInstruction is what the system prompt gains for a JSON answer.
func jsonInstruction(f *openaiwire.ResponseFormat) string {
	if !f.Structured() {
		return ""
	}
	out := "\n\nReply with one JSON document and nothing else; cite passages inside its strings as usual."
	if f.Type == openaiwire.FormatJSONSchema && f.JSONSchema != nil {
		var b bytes.Buffer
		if json.Compact(&b, f.JSONSchema.Schema) == nil {
			out += " The document must follow this JSON schema: " + b.String()
		}
	}
	return out
}
