package grammar

import "testing"

// FuzzParse: any input either fails cleanly or yields a grammar, and
// Validate never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}`), []byte(`{"a":1}`))
	f.Add([]byte(`{"$defs":{"n":{"anyOf":[{"$ref":"#/$defs/n"},{"type":"null"}]}},"$ref":"#/$defs/n"}`), []byte(`null`))
	f.Add([]byte(`{"enum":[1,"a",{"b":[]}]}`), []byte(`{"b":[]}`))
	f.Fuzz(func(t *testing.T, schema, doc []byte) {
		s, err := Parse(schema)
		if err != nil {
			return
		}
		if g := s.GBNF(); len(g) == 0 {
			t.Fatal("empty grammar")
		}
		_ = s.Validate(doc)
	})
}
