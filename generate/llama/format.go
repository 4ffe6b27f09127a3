package llama

import (
	"fmt"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate/grammar"
	"github.com/ragd/ragd/openaiwire"
)

// grammarFor returns the GBNF grammar (start rule grammar.Root) that
// constrains sampling to a response format: "" for none or "text", any
// compact JSON object for json_object, and the schema's documents for
// json_schema. An unsupported schema fails with an error wrapping
// data.ErrUnsupported that names the keyword.
func grammarFor(f *openaiwire.ResponseFormat) (string, error) {
	if !f.Structured() {
		return "", nil
	}
	if err := f.Validate(); err != nil {
		return "", fmt.Errorf("llama generate: %w", err)
	}
	if f.Type == openaiwire.FormatJSONObject {
		return grammar.JSONObject(), nil
	}
	s, err := grammar.Parse(f.JSONSchema.Schema)
	if err != nil {
		return "", fmt.Errorf("llama generate: response_format: %w", err)
	}
	return s.GBNF(), nil
}

// initGrammar makes a grammar sampler; llama.cpp returns NULL for a
// grammar it cannot parse.
func (m *Model) initGrammar(gbnf string) (uintptr, error) {
	g := m.lib.samplerInitGrammar(m.vocab, gbnf, grammar.Root)
	if g == 0 {
		return 0, fmt.Errorf("llama generate: %w: llama.cpp rejected the grammar built from response_format (a $ref cycle that writes nothing?)", data.ErrUnsupported)
	}
	return g, nil
}
