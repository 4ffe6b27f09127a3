package use

import (
	"testing"
	"unicode/utf8"
)

// FuzzTokenizerEncode: any input text encodes without panicking into ids
// inside the vocabulary, and Count agrees with Encode's length.
func FuzzTokenizerEncode(f *testing.F) {
	for _, s := range []string{"", "cats :)", "fi dup\tcat", "\xff\xfe", "ｃａｔ", "😀 a", "   ", "c\u0301at"} {
		f.Add(s)
	}
	tok, err := ParseVocabulary([]byte(toyVocab))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("id %d outside the vocabulary of %d", id, tok.VocabSize())
			}
			if !utf8.ValidString(tok.Piece(id)) {
				t.Fatalf("piece %d is not valid UTF-8", id)
			}
		}
		if n := tok.Count(s); n != len(ids) {
			t.Fatalf("Count %d != len(Encode) %d", n, len(ids))
		}
	})
}
