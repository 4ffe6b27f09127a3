package llama

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/grammar"
	"github.com/ragd/ragd/openaiwire"
)

// Tool calls: the completion is either one JSON object
// {"name": TOOL, "arguments": {...}} whose arguments follow the tool's
// parameters schema (tool_choice "required" or a named function), or, with
// "auto", that object or plain text that does not start with "{". The
// grammar enforces it; toolCollector turns the object into a tool call.

// toolGrammar returns the grammar of a request's tool calls.
func toolGrammar(req generate.Request) (string, error) {
	if err := openaiwire.ValidateTools(req.Tools, req.ToolChoice); err != nil {
		return "", fmt.Errorf("llama generate: %w", err)
	}
	if req.ResponseFormat.Structured() {
		return "", fmt.Errorf("llama generate: %w: response_format together with tools", data.ErrUnsupported)
	}
	var alts []string
	for _, t := range req.Tools {
		if req.ToolChoice != nil && req.ToolChoice.Mode == openaiwire.ToolChoiceFunction && t.Function.Name != req.ToolChoice.Name {
			continue
		}
		params := bytes.TrimSpace(t.Function.Parameters)
		if len(params) == 0 {
			params = []byte(`{"type":"object"}`)
		}
		name, _ := json.Marshal(t.Function.Name)
		alts = append(alts, `{"type":"object","properties":{"name":{"const":`+string(name)+`},"arguments":`+string(params)+
			`},"required":["name","arguments"],"additionalProperties":false}`)
	}
	s, err := grammar.Parse([]byte(`{"anyOf":[` + strings.Join(alts, ",") + `]}`))
	if err != nil {
		return "", fmt.Errorf("llama generate: tool parameters: %w", err)
	}
	g := s.GBNF()
	if req.ToolChoice == nil || req.ToolChoice.Mode == openaiwire.ToolChoiceAuto {
		// Rename the call's start rule and allow text instead.
		g = "call ::= " + strings.TrimPrefix(g, grammar.Root+" ::= ")
		g = grammar.Root + ` ::= call | [^{\x00] [^\x00]*` + "\n" + g
	}
	return g, nil
}

// toolPrompt is the system text that tells the model its tools.
func toolPrompt(req generate.Request) string {
	var sb strings.Builder
	sb.WriteString("You can call these tools. To call one, reply with only a JSON object {\"name\": TOOL NAME, \"arguments\": {ARGUMENTS}}.")
	if req.ToolChoice == nil || req.ToolChoice.Mode == openaiwire.ToolChoiceAuto {
		sb.WriteString(" Otherwise answer in plain text.")
	}
	sb.WriteString("\nTools:")
	for _, t := range req.Tools {
		b, _ := json.Marshal(t.Function)
		sb.WriteString("\n")
		sb.Write(b)
	}
	return sb.String()
}

// toolMessages renders tool turns for chat templates that know only
// system, user and assistant: an assistant's calls become its JSON text,
// a tool result a user message that names the call; the tool list joins
// the system prompt.
func toolMessages(req generate.Request) []generate.Message {
	out := make([]generate.Message, 0, len(req.Messages)+1)
	if req.ToolsActive() {
		if len(req.Messages) > 0 && req.Messages[0].Role == "system" {
			out = append(out, generate.Message{Role: "system", Content: req.Messages[0].Content + "\n\n" + toolPrompt(req)})
			req.Messages = req.Messages[1:]
		} else {
			out = append(out, generate.Message{Role: "system", Content: toolPrompt(req)})
		}
	}
	for _, m := range req.Messages {
		switch {
		case m.Role == "tool":
			out = append(out, generate.Message{Role: "user", Content: fmt.Sprintf("Result of tool call %s:\n%s", m.ToolCallID, m.Content)})
		case m.Role == "assistant" && len(m.ToolCalls) > 0:
			var sb strings.Builder
			sb.WriteString(m.Content)
			for _, c := range m.ToolCalls {
				args := strings.TrimSpace(c.Function.Arguments)
				if !json.Valid([]byte(args)) {
					args = "{}"
				}
				name, _ := json.Marshal(c.Function.Name)
				fmt.Fprintf(&sb, "{\"name\":%s,\"arguments\":%s}", name, args)
			}
			out = append(out, generate.Message{Role: "assistant", Content: sb.String()})
		default:
			out = append(out, generate.Message{Role: m.Role, Content: m.Content})
		}
	}
	return out
}

// toolCollector sits between run and the caller's emit: it holds back the
// text of a tool call and reports it as Event.ToolCalls on the done event.
type toolCollector struct {
	emit    func(generate.Event) error
	forced  bool // the completion is a call (no text alternative)
	decided bool
	call    bool
	buf     strings.Builder
}

func (c *toolCollector) event(ev generate.Event) error {
	switch ev.Type {
	case generate.EventToken:
		if !c.decided {
			c.buf.WriteString(ev.Delta)
			if c.buf.Len() == 0 {
				return nil
			}
			c.decided, c.call = true, c.forced || strings.HasPrefix(c.buf.String(), "{")
			if c.call {
				return nil
			}
			ev.Delta = c.buf.String()
			c.buf.Reset()
			return c.emit(ev)
		}
		if c.call {
			c.buf.WriteString(ev.Delta)
			return nil
		}
		return c.emit(ev)
	case generate.EventDone:
		if c.call && ev.FinishReason == FinishStop {
			var call struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			}
			if err := json.Unmarshal([]byte(c.buf.String()), &call); err != nil {
				return fmt.Errorf("llama generate: tool call %q: %w", c.buf.String(), err)
			}
			var args bytes.Buffer
			_ = json.Compact(&args, call.Arguments)
			ev.FinishReason = "tool_calls"
			ev.ToolCalls = []openaiwire.ToolCall{{ID: newCallID(), Type: "function",
				Function: openaiwire.FunctionCall{Name: call.Name, Arguments: args.String()}}}
		}
	}
	return c.emit(ev)
}

// newCallID returns "call_" and 24 random hex digits.
func newCallID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "call_" + hex.EncodeToString(b[:])
}
