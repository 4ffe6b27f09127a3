package onnx

import (
	"strings"

	"github.com/ragd/ragd/embed/wordpiece"
)

// encoder tokenizes with truncation without tokenizing more of a long text
// than the truncation keeps.
type encoder struct {
	tok *wordpiece.Tokenizer
	// bounded is false for tokenizers that truncate from the left, where
	// the end of the text matters.
	bounded bool
	// specials is the number of special tokens of a single encoding.
	specials int
}

func newEncoder(tok *wordpiece.Tokenizer) encoder {
	// A right-truncating tokenizer keeps "a" of "a b" at one content token.
	keep := tok.Encode("a b", 3)
	alone := tok.Encode("a", 3)
	right := keep.Len() == 3 && alone.Len() == 3 && keep.IDs[1] == alone.IDs[1]
	return encoder{tok: tok, bounded: right, specials: tok.Encode("", -1).Len()}
}

func (e encoder) encode(text string, maxLen int) wordpiece.Encoding {
	return e.tok.Encode(e.prefix(text, maxLen), maxLen)
}

func (e encoder) encodePair(a, b string, maxLen int) wordpiece.Encoding {
	return e.tok.EncodePair(e.prefix(a, maxLen), e.prefix(b, maxLen), maxLen)
}

// prefix returns text, or a prefix of it cut at whitespace that holds more
// than n tokens. Words are tokenized independently, so the prefix's tokens
// are the first tokens of the whole text; truncating either to n tokens
// (or, for pairs, to at most n tokens of each side) gives the same result.
func (e encoder) prefix(text string, n int) string {
	if !e.bounded || n <= 0 {
		return text
	}
	for l := 8 * n; l < len(text); l *= 2 {
		cut := strings.IndexAny(text[l:], " \t\n\r")
		if cut < 0 {
			return text
		}
		p := text[:l+cut]
		// Encode with room for n content tokens: Truncated means more.
		probe := e.tok.Encode(p, n+e.specials)
		if probe.Truncated {
			return p
		}
	}
	return text
}
