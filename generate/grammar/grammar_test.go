package grammar

import (
	"errors"
	"strings"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestParseRefusesWithKeyword(t *testing.T) {
	cases := []struct {
		schema string
		kind   error
		substr string
	}{
		{`{"type":"string","pattern":"a"}`, data.ErrUnsupported, `"pattern"`},
		{`{"type":"string","format":"date-time"}`, data.ErrUnsupported, `"format"`},
		{`{"type":"object","properties":{"n":{"type":"integer","minimum":1}}}`, data.ErrUnsupported, `"minimum" (at properties.n)`},
		{`{"allOf":[{"type":"string"}]}`, data.ErrUnsupported, `"allOf"`},
		{`{"type":"array","prefixItems":[{"type":"string"}]}`, data.ErrUnsupported, `"prefixItems"`},
		{`{"type":"object","additionalProperties":{"type":"string"}}`, data.ErrUnsupported, `additionalProperties`},
		{`{"$ref":"#/$defs/missing"}`, data.ErrUnsupported, `$ref`},
		{`{"type":"object","properties":{},"required":["x"]}`, data.ErrUnsupported, `"x"`},
		{`{"anyOf":[{"type":"string"}],"oneOf":[{"type":"null"}]}`, data.ErrUnsupported, `anyOf and oneOf`},
		{`false`, data.ErrUnsupported, `false`},
		{`{"type":"text"}`, data.ErrInvalid, `"text"`},
		{`{"type":[]}`, data.ErrInvalid, `type`},
		{`{"enum":[]}`, data.ErrInvalid, `enum`},
		{`{"type":"array","minItems":3,"maxItems":2}`, data.ErrInvalid, `minItems`},
		{`{"type":"string","maxLength":-1}`, data.ErrInvalid, `maxLength`},
		{`[1,2]`, data.ErrInvalid, `JSON object`},
		{`{"properties":{"a":` + strings.Repeat(`{"type":"array","items":`, 40) + `{}` + strings.Repeat(`}`, 41) + `}`, data.ErrInvalid, `deeper`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.schema))
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.substr) {
			t.Errorf("%s: %v, want %v naming %s", c.schema, err, c.kind, c.substr)
		}
	}
	// Annotations are ignored.
	if _, err := Parse([]byte(`{"$schema":"x","title":"t","description":"d","type":"string","default":"a","examples":["b"]}`)); err != nil {
		t.Errorf("annotations: %v", err)
	}
}

func TestValidate(t *testing.T) {
	schema := `{"$defs":{"id":{"type":"integer"}},"type":"object","properties":{
		"id":{"$ref":"#/$defs/id"},"name":{"type":"string","minLength":1,"maxLength":3},
		"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2},
		"v":{"oneOf":[{"type":"integer"},{"type":"string"}]},"x":{"type":"number"},"n":{"type":["null","boolean"]}},
		"required":["id","name"],"additionalProperties":false}`
	s, err := Parse([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	good := []string{`{"id":1,"name":"é"}`, `{"id":2.0,"name":"abc","tags":["a","b"],"v":"s","x":1.5,"n":null}`, `{"name":"x","id":-3,"n":true,"x":7}`}
	bad := map[string]string{
		`{"id":1}`:                                 `missing required property "name"`,
		`{"id":1.5,"name":"a"}`:                    `$.id`,
		`{"id":1,"name":""}`:                       `$.name`,
		`{"id":1,"name":"abcd"}`:                   `$.name`,
		`{"id":1,"name":"a","tags":["c"]}`:         `$.tags[0]`,
		`{"id":1,"name":"a","tags":["a","a","b"]}`: `3 items`,
		`{"id":1,"name":"a","v":true}`:             `alternatives`,
		`{"id":1,"name":"a","z":1}`:                `"z" is not allowed`,
		`{"id":1,"name":"a","n":0}`:                `$.n`,
		`{"id":1,"name":"a"} x`:                    `after the JSON value`,
		`{"id":1,`:                                 `not JSON`,
	}
	for _, doc := range good {
		if err := s.Validate([]byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
	for doc, substr := range bad {
		err := s.Validate([]byte(doc))
		if !errors.Is(err, data.ErrInvalid) || !strings.Contains(err.Error(), substr) {
			t.Errorf("%s: %v, want an error naming %s", doc, err, substr)
		}
	}
}

// TestGBNFGolden pins the grammar of a small schema: property order as
// written, optional members through the m-/f- rules, bounded strings.
// Its behaviour is checked in llama.cpp's grammar engine by
// generate/llama's TestGrammarAcceptance.
func TestGBNFGolden(t *testing.T) {
	s, err := Parse([]byte(`{"type":"object","properties":{"b":{"type":"string","maxLength":2},"a":{"enum":["x",1]}},"required":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `root ::= "{" root-obj-1-f0 "}"
char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
root-obj-1-f0 ::= "\"b\"" ":" "\"" char{0,2} "\"" root-obj-1-m1 | root-obj-1-f1
root-obj-1-f1 ::= "\"a\"" ":" ("\"x\"" | "1")
root-obj-1-m1 ::= "," "\"a\"" ":" ("\"x\"" | "1")
`
	if got := s.GBNF(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if g := JSONObject(); !strings.HasPrefix(g, "root ::= object\n") || !strings.Contains(g, "value ::= ") {
		t.Fatalf("JSONObject grammar:\n%s", g)
	}
}
