package openaiwire

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ragd/ragd/data"
)

// Response format types.
const (
	FormatText       = "text"
	FormatJSONObject = "json_object"
	FormatJSONSchema = "json_schema"
)

// ResponseFormat is the "response_format" field: {"type":"text"},
// {"type":"json_object"} or {"type":"json_schema","json_schema":{...}}.
type ResponseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema is the "json_schema" member of a response format. It is
// written in OpenAI's shape ({"name", "schema", "strict"}); it is read in
// that shape (an object with a "schema" member) or, as Workers AI sends
// it, as the schema itself.
type JSONSchema struct {
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// UnmarshalJSON reads either shape.
func (s *JSONSchema) UnmarshalJSON(b []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("%w: response_format.json_schema must be an object", data.ErrInvalid)
	}
	if _, ok := probe["schema"]; ok {
		type plain JSONSchema
		var p plain
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("%w: response_format.json_schema: %w", data.ErrInvalid, err)
		}
		*s = JSONSchema(p)
		return nil
	}
	*s = JSONSchema{Schema: append(json.RawMessage(nil), b...)}
	return nil
}

// Validate checks the format: a known type, and a schema object for
// json_schema. Errors wrap data.ErrInvalid.
func (f *ResponseFormat) Validate() error {
	if f == nil {
		return nil
	}
	switch f.Type {
	case FormatText, FormatJSONObject:
		return nil
	case FormatJSONSchema:
		if f.JSONSchema == nil || len(bytes.TrimSpace(f.JSONSchema.Schema)) == 0 {
			return fmt.Errorf("%w: response_format of type json_schema needs json_schema.schema", data.ErrInvalid)
		}
		if s := bytes.TrimSpace(f.JSONSchema.Schema); s[0] != '{' && !bytes.Equal(s, []byte("true")) {
			return fmt.Errorf("%w: response_format.json_schema.schema must be a JSON object", data.ErrInvalid)
		}
		return nil
	case "":
		return fmt.Errorf("%w: response_format.type is missing (want text, json_object or json_schema)", data.ErrInvalid)
	}
	return fmt.Errorf("%w: response_format.type %q (want text, json_object or json_schema)", data.ErrInvalid, f.Type)
}

// Structured reports whether the format asks for JSON output (json_object
// or json_schema), as opposed to none or "text".
func (f *ResponseFormat) Structured() bool {
	return f != nil && (f.Type == FormatJSONObject || f.Type == FormatJSONSchema)
}
