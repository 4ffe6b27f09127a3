package cloudflare

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
)

// Workers AI function calling: "tools" is an array of {name, description,
// parameters} (or OpenAI's {type: "function", function: {...}}), and a
// result that calls tools carries tool_calls [{name, arguments}] with the
// arguments as an object.

// wireToolCall is one call in a Workers AI result.
type wireToolCall struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// workersTools reads the "tools" field.
func workersTools(raw json.RawMessage) ([]openaiwire.Tool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: tools must be an array", data.ErrInvalid)
	}
	tools := make([]openaiwire.Tool, 0, len(items))
	for i, it := range items {
		var t struct {
			Type     string                  `json:"type"`
			Function *openaiwire.FunctionDef `json:"function"`
			openaiwire.FunctionDef
		}
		if err := json.Unmarshal(it, &t); err != nil {
			return nil, fmt.Errorf("%w: tools[%d] must be an object {name, description, parameters}", data.ErrInvalid, i)
		}
		def := t.FunctionDef
		if t.Function != nil {
			def = *t.Function
		}
		tools = append(tools, openaiwire.Tool{Type: "function", Function: def})
	}
	if err := openaiwire.ValidateTools(tools, nil); err != nil {
		return nil, err
	}
	return tools, nil
}

// workersCalls converts a completion's tool calls (nil for none).
func workersCalls(calls []openaiwire.ToolCall) []wireToolCall {
	if len(calls) == 0 {
		return nil
	}
	out := make([]wireToolCall, len(calls))
	for i, c := range calls {
		args := json.RawMessage(c.Function.Arguments)
		if !json.Valid(args) {
			b, _ := json.Marshal(c.Function.Arguments)
			args = b
		}
		out[i] = wireToolCall{Name: c.Function.Name, Arguments: args}
	}
	return out
}

// message turns one ai/run message into a generation message: tool
// results ("tool" messages) and an assistant's calls fed back are kept
// as on /v1/chat/completions.
func (m genMessage) message() (generate.Message, error) {
	switch m.Role {
	case "system", "user", "assistant", "tool":
	default:
		return generate.Message{}, fmt.Errorf("role %q: want system, user, assistant or tool", m.Role)
	}
	calls := bytes.TrimSpace(m.ToolCalls)
	hasCalls := len(calls) > 0 && string(calls) != "null"
	callsOnly := hasCalls && m.Role == "assistant"
	if c := bytes.TrimSpace(m.Content); (len(c) == 0 || string(c) == "null") && !callsOnly {
		return generate.Message{}, fmt.Errorf("content is required (a string or an array of {type, text} parts)")
	}
	text, err := m.text()
	if err != nil {
		return generate.Message{}, err
	}
	msg := generate.Message{Role: m.Role, Content: text}
	switch {
	case m.Role == "tool":
		msg.ToolCallID = m.ToolCallID
		if msg.ToolCallID == "" {
			msg.ToolCallID = m.Name
		}
	case m.ToolCallID != "":
		return generate.Message{}, fmt.Errorf("tool_call_id belongs on a tool message")
	}
	if hasCalls {
		if m.Role != "assistant" {
			return generate.Message{}, fmt.Errorf("tool_calls belong on an assistant message")
		}
		if msg.ToolCalls, err = fedBackCalls(calls); err != nil {
			return generate.Message{}, err
		}
	}
	return msg, nil
}

// fedBackCalls reads an assistant's tool_calls in either shape; arguments
// may be an object or a JSON string.
func fedBackCalls(raw json.RawMessage) ([]openaiwire.ToolCall, error) {
	var items []struct {
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
		Function  *struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("tool_calls must be an array of {name, arguments}")
	}
	out := make([]openaiwire.ToolCall, 0, len(items))
	for i, it := range items {
		name, args := it.Name, it.Arguments
		if it.Function != nil {
			name, args = it.Function.Name, it.Function.Arguments
		}
		if name == "" {
			return nil, fmt.Errorf("tool_calls[%d]: name is required", i)
		}
		text := "{}"
		if a := bytes.TrimSpace(args); len(a) > 0 && string(a) != "null" {
			var s string
			if json.Unmarshal(a, &s) == nil {
				text = s
			} else {
				text = string(a)
			}
		}
		out = append(out, openaiwire.ToolCall{ID: it.ID, Type: "function", Function: openaiwire.FunctionCall{Name: name, Arguments: text}})
	}
	return out, nil
}
