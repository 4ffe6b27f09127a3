package llama

import (
	"math"
	"testing"

	"github.com/ragd/ragd/generate/grammar"
)

// acceptor feeds documents byte by byte (through the vocabulary's byte
// tokens) to llama.cpp's grammar sampler and reports whether the grammar
// accepts the whole document.
type acceptor struct {
	m     *Model
	bytes [256]int32 // byte -> token whose piece is that byte
	eos   int32
}

func newAcceptor(t *testing.T, m *Model) *acceptor {
	t.Helper()
	a := &acceptor{m: m, eos: 2}
	// Llama-2's vocabulary holds the byte tokens <0x00>..<0xFF> at 3..258.
	buf := make([]byte, 16)
	for b := 0; b < 256; b++ {
		tok := int32(3 + b)
		if p := m.piece(tok, buf); len(p) != 1 || p[0] != byte(b) {
			t.Fatalf("token %d is %q, want byte %#x", tok, p, b)
		}
		a.bytes[b] = tok
	}
	if !m.lib.vocabIsEOG(m.vocab, a.eos) {
		t.Fatalf("token %d is not end-of-generation", a.eos)
	}
	return a
}

// accepts reports whether doc is a complete sentence of gbnf.
func (a *acceptor) accepts(t *testing.T, gbnf, doc string) bool {
	t.Helper()
	g, err := a.m.initGrammar(gbnf)
	if err != nil {
		t.Fatalf("%v\n%s", err, gbnf)
	}
	defer a.m.lib.samplerFree(g)
	allowed := func(tok int32) bool {
		cand := []tokenData{{id: tok}}
		arr := tokenDataArray{data: &cand[0], size: 1, selected: -1}
		a.m.lib.samplerApply(g, &arr)
		return !math.IsInf(float64(cand[0].logit), -1)
	}
	for i := 0; i < len(doc); i++ {
		tok := a.bytes[doc[i]]
		if !allowed(tok) {
			return false
		}
		a.m.lib.samplerAccept(g, tok)
	}
	return allowed(a.eos)
}

// TestGrammarAcceptance checks the converter's grammars by behaviour in
// llama.cpp's own grammar engine: documents valid under the schema are
// accepted, invalid ones rejected, and Validate agrees.
func TestGrammarAcceptance(t *testing.T) {
	m := jsonTiny(t)
	a := newAcceptor(t, m)
	cases := []struct {
		schema string
		good   []string
		bad    []string
	}{
		{`{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":3},"c":{"type":"boolean"}},"required":["a"],"additionalProperties":false}`,
			[]string{`{"a":1}`, `{"a":-20,"b":"xyz"}`, `{"a":0,"c":true}`, `{"a":5,"b":"","c":false}`, `{"a":1,"b":"\n\"é"}`},
			[]string{`{}`, `{"b":"x"}`, `{"a":1.5}`, `{"a":01}`, `{"a":1,"b":"long"}`, `{"a":1,"d":2}`, `{"a":1,}`, `{"a":1} `, `[1]`, `{"a":1,"b":"x`}},
		{`{"type":"array","items":{"enum":["x",2,null,{"k":[true]}]},"minItems":1,"maxItems":2}`,
			[]string{`["x"]`, `[2,null]`, `[{"k":[true]}]`},
			[]string{`[]`, `["x","x","x"]`, `["y"]`, `[3]`, `[{"k":[false]}]`}},
		{`{"type":"number"}`,
			[]string{`0`, `-1.25`, `3e10`, `1E-5`, `12345.678`},
			[]string{`+1`, `1.`, `.5`, `1e`, `"1"`, `NaN`}},
		{`{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["v","next"]}},"$ref":"#/$defs/node"}`,
			[]string{`{"v":1,"next":null}`, `{"v":1,"next":{"v":2,"next":null}}`},
			[]string{`{"v":1}`, `{"v":1,"next":{"v":2}}`}},
		{`{"type":["string","null"],"minLength":2,"maxLength":2}`,
			[]string{`"ab"`, `null`, `"\u00e9x"`},
			[]string{`"a"`, `"abc"`, `1`}},
		{`{"type":"object","properties":{"p":{"const":"v"},"q":{"type":"object"},"r":{"type":"array"}}}`,
			[]string{`{}`, `{"p":"v"}`, `{"q":{"x":[1,{"y":null}]}}`, `{"p":"v","r":[]}`, `{"r":[1,"2"]}`},
			[]string{`{"p":"w"}`, `{"q":[]}`, `{"r":{}}`, `{"r":[],"p":"v"}`}},
	}
	for _, c := range cases {
		s, err := grammar.Parse([]byte(c.schema))
		if err != nil {
			t.Fatalf("%s: %v", c.schema, err)
		}
		gbnf := s.GBNF()
		for _, doc := range c.good {
			if !a.accepts(t, gbnf, doc) {
				t.Errorf("schema %s: grammar rejects valid %s\n%s", c.schema, doc, gbnf)
			}
			if err := s.Validate([]byte(doc)); err != nil {
				t.Errorf("schema %s: Validate(%s): %v", c.schema, doc, err)
			}
		}
		for _, doc := range c.bad {
			if a.accepts(t, gbnf, doc) {
				t.Errorf("schema %s: grammar accepts invalid %s\n%s", c.schema, doc, gbnf)
			}
		}
	}
	obj := grammar.JSONObject()
	for doc, want := range map[string]bool{`{}`: true, `{"a":[1,{"b":"c"}],"d":-0.5e3}`: true, `[]`: false, `{"a"}`: false, `{"a":1`: false, `"x"`: false} {
		if got := a.accepts(t, obj, doc); got != want {
			t.Errorf("json_object grammar on %s: %v, want %v", doc, got, want)
		}
	}
}
