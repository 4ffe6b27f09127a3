package wordpiece

import (
	"errors"
	"fmt"
)

// ErrBadTokenizer is wrapped by every error about a tokenizer file or
// option set that cannot be used.
var ErrBadTokenizer = errors.New("wordpiece: bad tokenizer")

// Options configure a tokenizer loaded from a vocab.txt. Zero string and
// int fields take the value from DefaultOptions; the bool fields are used
// as given, so start from DefaultOptions to change one of them.
type Options struct {
	// Lowercase lowercases the text (uncased models). Default true.
	Lowercase bool
	// StripAccents removes accents (NFD, then non-spacing marks dropped).
	// Default true (BERT strips accents whenever it lowercases).
	StripAccents bool
	// HandleCJK makes each CJK ideograph a word of its own. Default true.
	HandleCJK bool
	// CleanText drops control characters, NUL and U+FFFD and maps
	// whitespace to spaces. Default true.
	CleanText bool
	// MaxLength is the longest encoding, special tokens included, that
	// Encode returns when called with maxLen 0. Default 512.
	MaxLength int
	// MaxInputCharsPerWord: longer words become UnkToken. Default 100.
	MaxInputCharsPerWord int
	// TruncateLeft drops tokens from the start instead of the end.
	TruncateLeft bool
	// UnkToken, ClsToken, SepToken and PadToken name the special tokens.
	// Defaults "[UNK]", "[CLS]", "[SEP]", "[PAD]".
	UnkToken, ClsToken, SepToken, PadToken string
}

// DefaultOptions returns the options of an uncased BERT vocabulary.
func DefaultOptions() Options {
	return Options{
		Lowercase:            true,
		StripAccents:         true,
		HandleCJK:            true,
		CleanText:            true,
		MaxLength:            512,
		MaxInputCharsPerWord: 100,
		UnkToken:             "[UNK]",
		ClsToken:             "[CLS]",
		SepToken:             "[SEP]",
		PadToken:             "[PAD]",
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxLength == 0 {
		o.MaxLength = d.MaxLength
	}
	if o.MaxInputCharsPerWord == 0 {
		o.MaxInputCharsPerWord = d.MaxInputCharsPerWord
	}
	if o.UnkToken == "" {
		o.UnkToken = d.UnkToken
	}
	if o.ClsToken == "" {
		o.ClsToken = d.ClsToken
	}
	if o.SepToken == "" {
		o.SepToken = d.SepToken
	}
	if o.PadToken == "" {
		o.PadToken = d.PadToken
	}
	return o
}

// Encoding is a tokenized input ready for a BERT model. All slices have
// the same length.
type Encoding struct {
	// IDs are the vocabulary ids.
	IDs []int32
	// Tokens are the token strings ("##" marks a word continuation).
	Tokens []string
	// TypeIDs are the segment ids: 0 for the first sequence, 1 for the
	// second of a pair.
	TypeIDs []int32
	// AttentionMask is 1 for real tokens and 0 for padding.
	AttentionMask []int32
	// Truncated reports whether tokens were dropped to fit the length.
	Truncated bool
}

// Len is the number of tokens, padding included.
func (e Encoding) Len() int { return len(e.IDs) }

// piece is one element of a post-processing template: either special
// tokens or a sequence slot (seq 0 = A, 1 = B).
type piece struct {
	special bool
	ids     []int32
	tokens  []string
	seq     int
	typeID  int32
}

// Tokenizer is a WordPiece tokenizer. It is immutable after loading and
// safe for concurrent use.
type Tokenizer struct {
	norm normalizer

	// first maps word-initial pieces to ids; cont maps continuation pieces
	// (without the prefix) to ids.
	first, cont       map[string]int32
	maxFirst, maxCont int // longest key in bytes
	idToToken         []string
	prefix            string
	unkID             int32
	unkToken          string
	maxCharsPerWord   int
	added             []addedToken // matched verbatim in the input
	addedIDs          map[string]int32
	single, pair      []piece
	maxLength         int
	truncateLeft      bool
	padID             int32
	padToken          string
	padMultiple       int
	vocabSize         int
}

// MaxLength is the default maximum encoding length, special tokens
// included.
func (t *Tokenizer) MaxLength() int { return t.maxLength }

// VocabSize is one more than the largest token id.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// PadID is the id of the padding token.
func (t *Tokenizer) PadID() int32 { return t.padID }

// PadMultiple is the pad_to_multiple_of of the tokenizer file's padding
// section, 0 when it has none.
func (t *Tokenizer) PadMultiple() int { return t.padMultiple }

// UnkID is the id of the unknown token.
func (t *Tokenizer) UnkID() int32 { return t.unkID }

// TokenID looks a token up in the vocabulary and the added tokens.
func (t *Tokenizer) TokenID(tok string) (int32, bool) {
	if id, ok := t.first[tok]; ok {
		return id, true
	}
	id, ok := t.addedIDs[tok]
	return id, ok
}

// Token returns the string of an id, "" when the id is unknown.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.idToToken) {
		return ""
	}
	return t.idToToken[id]
}

// Tokenize splits text into WordPiece tokens without special tokens or
// truncation.
func (t *Tokenizer) Tokenize(text string) ([]string, []int32) {
	ids := t.appendIDs(make([]int32, 0, len(text)/4+1), text)
	return t.tokensOf(ids), ids
}

// Encode tokenizes text as "[CLS] text [SEP]" (as the tokenizer's template
// says) and truncates it to maxLen tokens, special tokens included. maxLen
// 0 means MaxLength(); a negative maxLen means no truncation. A maxLen too
// small for the special tokens is raised to fit them.
func (t *Tokenizer) Encode(text string, maxLen int) Encoding {
	a := t.appendIDs(nil, text)
	return t.build(t.single, a, nil, maxLen)
}

// EncodePair tokenizes a sentence pair as "[CLS] a [SEP] b [SEP]" with type
// ids 0 for a and 1 for b, as cross-encoders (rerankers) expect. When the
// pair is too long the longer sequence is shortened first.
func (t *Tokenizer) EncodePair(a, b string, maxLen int) Encoding {
	ia := t.appendIDs(nil, a)
	ib := t.appendIDs(nil, b)
	return t.build(t.pair, ia, ib, maxLen)
}

// Pad appends padding tokens (attention mask 0) until e has length
// tokens. It does nothing when e is already that long.
func (t *Tokenizer) Pad(e Encoding, length int) Encoding {
	for len(e.IDs) < length {
		e.IDs = append(e.IDs, t.padID)
		e.Tokens = append(e.Tokens, t.padToken)
		e.TypeIDs = append(e.TypeIDs, 0)
		e.AttentionMask = append(e.AttentionMask, 0)
	}
	return e
}

func (t *Tokenizer) tokensOf(ids []int32) []string {
	toks := make([]string, len(ids))
	for i, id := range ids {
		toks[i] = t.Token(id)
	}
	return toks
}

// build assembles a template around the sequences, truncating them.
func (t *Tokenizer) build(tmpl []piece, a, b []int32, maxLen int) Encoding {
	if maxLen == 0 {
		maxLen = t.maxLength
	}
	nSpecial := 0
	for _, p := range tmpl {
		if p.special {
			nSpecial += len(p.ids)
		}
	}
	var truncated bool
	if maxLen > 0 {
		budget := max(maxLen-nSpecial, 0)
		a, b, truncated = truncatePair(a, b, budget, t.truncateLeft)
	}
	n := nSpecial + len(a) + len(b)
	e := Encoding{
		IDs:           make([]int32, 0, n),
		Tokens:        make([]string, 0, n),
		TypeIDs:       make([]int32, 0, n),
		AttentionMask: make([]int32, 0, n),
		Truncated:     truncated,
	}
	for _, p := range tmpl {
		if p.special {
			for i, id := range p.ids {
				e.IDs = append(e.IDs, id)
				e.Tokens = append(e.Tokens, p.tokens[i])
				e.TypeIDs = append(e.TypeIDs, p.typeID)
			}
			continue
		}
		seq := a
		if p.seq == 1 {
			seq = b
		}
		for _, id := range seq {
			e.IDs = append(e.IDs, id)
			e.Tokens = append(e.Tokens, t.Token(id))
			e.TypeIDs = append(e.TypeIDs, p.typeID)
		}
	}
	for range e.IDs {
		e.AttentionMask = append(e.AttentionMask, 1)
	}
	return e
}

// truncatePair cuts a and b to budget tokens in total, longest first: when
// the shorter fits in half the budget it is kept whole and the longer gets
// the rest; otherwise each gets half (the longer one the odd token).
func truncatePair(a, b []int32, budget int, left bool) ([]int32, []int32, bool) {
	la, lb := len(a), len(b)
	if la+lb <= budget {
		return a, b, false
	}
	if b == nil {
		return cut(a, budget, left), nil, true
	}
	// short and long are the token budgets of the shorter and the longer
	// input (a and b swapped when a is the longer).
	short := min(la, lb)
	swapped := la > lb
	if 2*short > budget {
		short = budget / 2
	}
	long := budget - short
	if swapped {
		short, long = long, short
	}
	return cut(a, short, left), cut(b, long, left), true
}

func cut(s []int32, n int, left bool) []int32 {
	if len(s) <= n {
		return s
	}
	if left {
		return s[len(s)-n:]
	}
	return s[:n]
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadTokenizer}, args...)...)
}
