package openaiwire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestResponseFormatShapes(t *testing.T) {
	schema := `{"type":"object","properties":{"a":{"type":"string"}}}`
	for _, body := range []string{
		`{"type":"json_schema","json_schema":{"name":"n","schema":` + schema + `,"strict":true}}`,
		`{"type":"json_schema","json_schema":` + schema + `}`, // Workers AI
	} {
		var f ResponseFormat
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if err := f.Validate(); err != nil || !f.Structured() {
			t.Fatalf("%s: %v", body, err)
		}
		var got, want any
		_ = json.Unmarshal(f.JSONSchema.Schema, &got)
		_ = json.Unmarshal([]byte(schema), &want)
		if b1, _ := json.Marshal(got); string(b1) != func() string { b, _ := json.Marshal(want); return string(b) }() {
			t.Fatalf("%s: schema %s", body, f.JSONSchema.Schema)
		}
		// Written back in OpenAI's shape.
		out, _ := json.Marshal(f)
		if !strings.Contains(string(out), `"json_schema":{`) || !strings.Contains(string(out), `"schema":{`) {
			t.Fatalf("marshalled %s", out)
		}
	}
	var nilFormat *ResponseFormat
	if nilFormat.Validate() != nil || nilFormat.Structured() || (&ResponseFormat{Type: "text"}).Structured() {
		t.Fatal("nil and text formats are plain text")
	}
	for _, bad := range []string{`{}`, `{"type":"yaml"}`, `{"type":"json_schema"}`, `{"type":"json_schema","json_schema":{"name":"x","schema":"s"}}`} {
		var f ResponseFormat
		err := json.Unmarshal([]byte(bad), &f)
		if err == nil {
			err = f.Validate()
		}
		if !errors.Is(err, data.ErrInvalid) || !strings.Contains(err.Error(), "response_format") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
