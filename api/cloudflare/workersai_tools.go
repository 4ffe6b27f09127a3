package cloudflare

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ragd/ragd/data"
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
