package openaiwire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/ragd/ragd/data"
)

// MaxTools bounds the tools of one request.
const MaxTools = 128

// Tool is one entry of "tools": a function the model may call.
type Tool struct {
	Type     string      `json:"type"` // "function"
	Function FunctionDef `json:"function"`
}

// FunctionDef describes a callable function; Parameters is a JSON schema
// of its arguments object.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ToolCall is one call in an assistant message's (or a delta's)
// "tool_calls". Arguments is a JSON object encoded as a string.
type ToolCall struct {
	Index    *int         `json:"index,omitempty"` // streamed deltas only
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its arguments.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Tool choice modes.
const (
	ToolChoiceNone     = "none"
	ToolChoiceAuto     = "auto"
	ToolChoiceRequired = "required"
	ToolChoiceFunction = "function" // Name says which
)

// ToolChoice is "tool_choice": "none", "auto", "required" or
// {"type":"function","function":{"name":...}}.
type ToolChoice struct {
	Mode string
	Name string
}

// UnmarshalJSON reads either form.
func (c *ToolChoice) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*c = ToolChoice{Mode: s}
		return nil
	}
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &obj); err != nil || obj.Type != "function" || obj.Function.Name == "" {
		return fmt.Errorf(`%w: tool_choice must be "none", "auto", "required" or {"type":"function","function":{"name":...}}`, data.ErrInvalid)
	}
	*c = ToolChoice{Mode: ToolChoiceFunction, Name: obj.Function.Name}
	return nil
}

// MarshalJSON writes the form UnmarshalJSON reads.
func (c ToolChoice) MarshalJSON() ([]byte, error) {
	if c.Mode == ToolChoiceFunction {
		return json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": c.Name}})
	}
	return json.Marshal(c.Mode)
}

var toolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidateTools checks tools and the choice among them. Errors wrap
// data.ErrInvalid.
func ValidateTools(tools []Tool, choice *ToolChoice) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{data.ErrInvalid}, args...)...)
	}
	if len(tools) > MaxTools {
		return bad("more than %d tools", MaxTools)
	}
	names := map[string]bool{}
	for i, t := range tools {
		if t.Type != "function" {
			return bad("tools[%d].type %q (want function)", i, t.Type)
		}
		if !toolName.MatchString(t.Function.Name) {
			return bad("tools[%d].function.name %q (want 1 to 64 of a-z, A-Z, 0-9, _ and -)", i, t.Function.Name)
		}
		if names[t.Function.Name] {
			return bad("tools[%d].function.name %q is repeated", i, t.Function.Name)
		}
		names[t.Function.Name] = true
		if p := bytes.TrimSpace(t.Function.Parameters); len(p) > 0 && p[0] != '{' {
			return bad("tools[%d].function.parameters must be a JSON schema object", i)
		}
	}
	if choice == nil {
		return nil
	}
	switch choice.Mode {
	case ToolChoiceNone, ToolChoiceAuto:
	case ToolChoiceRequired:
		if len(tools) == 0 {
			return bad(`tool_choice "required" without tools`)
		}
	case ToolChoiceFunction:
		if !names[choice.Name] {
			return bad("tool_choice names %q, which is not among the tools", choice.Name)
		}
	default:
		return bad(`tool_choice %q (want "none", "auto", "required" or a function)`, choice.Mode)
	}
	return nil
}

// ToolsActive reports whether a request with these tools and choice may
// call a tool.
func ToolsActive(tools []Tool, choice *ToolChoice) bool {
	return len(tools) > 0 && (choice == nil || choice.Mode != ToolChoiceNone)
}
