package wordpiece

import (
	"testing"
	"unicode/utf8"
)

// FuzzEncode checks that any input encodes without panicking into a
// well-formed encoding whose ids lie within the vocabulary.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", "Crème brûlée", "我想在apple工作", "a\x00b\ufffd\u200d", "[CLS]x[SEP]", "\xff\xfe"} {
		f.Add(s, 16)
	}
	tk := loadMiniLM(f)
	f.Fuzz(func(t *testing.T, text string, maxLen int) {
		maxLen %= 1024
		e := tk.Encode(text, maxLen)
		n := len(e.IDs)
		if len(e.Tokens) != n || len(e.TypeIDs) != n || len(e.AttentionMask) != n {
			t.Fatalf("lengths ids %d tokens %d types %d mask %d", n, len(e.Tokens), len(e.TypeIDs), len(e.AttentionMask))
		}
		if maxLen > 0 && n > max(maxLen, 2) {
			t.Fatalf("%d tokens for maxLen %d", n, maxLen)
		}
		for i, id := range e.IDs {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("id %d outside vocabulary", id)
			}
			if e.Tokens[i] != tk.Token(id) {
				t.Fatalf("token %q for id %d (%q)", e.Tokens[i], id, tk.Token(id))
			}
		}
		if !utf8.ValidString(text) {
			return
		}
		toks, ids := tk.Tokenize(text)
		if len(toks) != len(ids) {
			t.Fatalf("Tokenize: %d tokens, %d ids", len(toks), len(ids))
		}
		// Without truncation, Encode is Tokenize between [CLS] and [SEP].
		full := tk.Encode(text, -1)
		if len(full.IDs) != len(ids)+2 || full.Truncated {
			t.Fatalf("Encode has %d ids, Tokenize %d", len(full.IDs), len(ids))
		}
		for i, id := range ids {
			if full.IDs[i+1] != id {
				t.Fatalf("Encode and Tokenize differ at %d", i)
			}
		}
		p := tk.EncodePair(text, text, maxLen)
		if len(p.IDs) != len(p.TypeIDs) {
			t.Fatal("pair lengths differ")
		}
	})
}
