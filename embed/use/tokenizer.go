package use

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ragd/ragd/embed"
)

// wordBoundary is the SentencePiece meta symbol that stands for a space and
// opens every input.
const wordBoundary = '\u2581'

// reservedPieces is the number of leading vocabulary entries (unknown,
// <s>, </s>, three extra ids) that never match input text.
const reservedPieces = 6

// unknownID is the id of the unknown piece. Characters no piece covers
// become unknownID, and runs of them collapse into one.
const unknownID = 0

// Tokenizer is the SentencePiece unigram tokenizer of USE lite. It
// reproduces the @energetic-ai/embeddings 0.2.0 tokenizer id for id:
// NFKC normalisation, "▁" before the text and in place of every ASCII
// space (other whitespace is kept as is), no lowercasing, Viterbi search
// for the highest-scoring segmentation over the scored vocabulary, and
// characters that no piece covers mapped to the unknown id 0, consecutive
// unknowns merged. It also keeps that implementation's quirks (a position
// whose best score is exactly 0 counts as unset; ties go to the piece that
// starts last; vocabulary entries with a null score count as 0), because
// the model was run on its ids.
//
// A Tokenizer is immutable after loading and safe for concurrent use.
type Tokenizer struct {
	pieces   []string // id -> piece text
	pieceLen []int    // id -> length in UTF-16 code units, as JS counts
	nodes    []trieNode
	children map[uint64]int32 // parent node<<32 | rune -> child node
	// rootASCII caches the root's children for runes below 0x2600 (Latin,
	// Greek, Cyrillic, ..., and "▁"): the first step from every position.
	rootASCII []int32
	// splitsAtBoundary reports that no piece holds "▁" after its first
	// character, so a segmentation never crosses a word boundary and a long
	// input can stop early once enough ids are known.
	splitsAtBoundary bool
}

type trieNode struct {
	end   bool
	depth int32 // piece length in runes
	id    int32
	score float64
}

// vocabEntry is one [piece, score] pair of vocab.json; the score may be
// null, which the reference treats as 0.
type vocabEntry struct {
	piece string
	score float64
}

func (v *vocabEntry) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) < 1 || len(raw) > 2 {
		return fmt.Errorf("vocabulary entry has %d fields, want 2", len(raw))
	}
	if err := json.Unmarshal(raw[0], &v.piece); err != nil {
		return fmt.Errorf("vocabulary piece: %w", err)
	}
	v.score = 0
	if len(raw) == 2 {
		var s *float64
		if err := json.Unmarshal(raw[1], &s); err != nil {
			return fmt.Errorf("vocabulary score: %w", err)
		}
		if s != nil {
			v.score = *s
		}
	}
	return nil
}

// ParseVocabulary builds a Tokenizer from the contents of vocab.json: a JSON
// array of [piece, score] pairs whose index is the token id.
func ParseVocabulary(data []byte) (*Tokenizer, error) {
	var entries []vocabEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("%w: vocab.json: %w", embed.ErrBadModel, err)
	}
	if len(entries) <= reservedPieces {
		return nil, fmt.Errorf("%w: vocab.json has %d entries", embed.ErrBadModel, len(entries))
	}
	t := &Tokenizer{
		pieces:           make([]string, len(entries)),
		pieceLen:         make([]int, len(entries)),
		nodes:            []trieNode{{}},
		children:         make(map[uint64]int32, 3*len(entries)),
		splitsAtBoundary: true,
	}
	for id, e := range entries {
		t.pieces[id] = e.piece
		t.pieceLen[id] = len(utf16.Encode([]rune(e.piece)))
		if id < reservedPieces {
			continue
		}
		t.insert(e.piece, e.score, int32(id))
		for i, r := range e.piece {
			if r == wordBoundary && i > 0 {
				t.splitsAtBoundary = false
			}
		}
	}
	t.rootASCII = make([]int32, 0x2600)
	for r := range t.rootASCII {
		t.rootASCII[r] = t.children[uint64(r)]
	}
	if t.pieceLen[unknownID] == 0 {
		return nil, fmt.Errorf("%w: vocab.json: empty unknown piece", embed.ErrBadModel)
	}
	return t, nil
}

// insert adds a piece to the trie; a later duplicate replaces the score and
// id of an earlier one, as in the reference.
func (t *Tokenizer) insert(piece string, score float64, id int32) {
	node := int32(0)
	depth := int32(0)
	for _, r := range piece {
		depth++
		key := uint64(node)<<32 | uint64(uint32(r))
		child, ok := t.children[key]
		if !ok {
			child = int32(len(t.nodes))
			t.nodes = append(t.nodes, trieNode{depth: depth})
			t.children[key] = child
		}
		node = child
	}
	if node == 0 {
		return // empty piece: the reference inserts nothing
	}
	t.nodes[node].end = true
	t.nodes[node].score = score
	t.nodes[node].id = id
}

// VocabSize is the number of pieces.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// Piece returns the text of a token id ("" when out of range).
func (t *Tokenizer) Piece(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Encode returns the token ids of text, all of them (the model itself reads
// only the first MaxTokens). Invalid UTF-8 bytes become U+FFFD, which is
// unknown to the vocabulary. The empty string has no tokens.
func (t *Tokenizer) Encode(text string) []int {
	return t.encode(text, 0)
}

// Count returns the number of tokens in text.
func (t *Tokenizer) Count(text string) int {
	return len(t.Encode(text))
}

// symbols applies the reference normalisation and returns the input as
// runes: NFKC, then "▁" before the text and in place of each ASCII space.
func symbols(text string) []rune {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	text = norm.NFKC.String(text)
	if text == "" {
		return nil
	}
	out := make([]rune, 1, len(text)+1)
	out[0] = wordBoundary
	for _, r := range text {
		if r == ' ' {
			r = wordBoundary
		}
		out = append(out, r)
	}
	return out
}

// encode tokenizes text. With limit > 0 it may stop early once the first
// limit ids are certain and returns at least those (possibly more).
//
// The reference collects, for every end position, the pieces ending there
// in ascending order of their start and then relaxes the end positions left
// to right. Relaxing each piece as soon as its start is reached visits the
// same (start, end) pairs in the same order per end position, with the
// start's score already final, so it yields the same result without the
// per-position lists.
func (t *Tokenizer) encode(text string, limit int) []int {
	syms := symbols(text)
	n := len(syms)
	if n == 0 {
		return []int{}
	}
	best := make([]float64, n+1)
	words := make([]int32, n+1)
	nextCheck := limit + 1
	relax := func(end int, id int32, score float64) {
		if best[end] == 0 || score >= best[end] {
			best[end] = score
			words[end] = id
		}
	}
	for i := 0; i < n; i++ {
		// Every piece ending at i started earlier, so position i is final.
		if limit > 0 && t.splitsAtBoundary && syms[i] == wordBoundary && i >= nextCheck {
			// No piece spans position i, so the ids of syms[:i] are final.
			if ids := t.backtrack(words, i); len(ids) > limit {
				return ids
			}
			nextCheck = 2 * i
		}
		matched := false
		node := int32(0)
		base := best[i]
		for j := i; j < n; j++ {
			child, ok := t.child(node, syms[j])
			if !ok {
				break
			}
			node = child
			if nd := &t.nodes[node]; nd.end {
				relax(j+1, nd.id, nd.score+base)
				matched = true
			}
		}
		if !matched {
			relax(i+1, unknownID, 0+base)
		}
	}
	return t.backtrack(words, n)
}

// child follows the trie edge labelled r from node.
func (t *Tokenizer) child(node int32, r rune) (int32, bool) {
	if node == 0 && r >= 0 && int(r) < len(t.rootASCII) {
		c := t.rootASCII[r]
		return c, c != 0
	}
	c, ok := t.children[uint64(node)<<32|uint64(uint32(r))]
	return c, ok
}

// backtrack reads the ids of syms[:end] back from words, stepping by each
// piece's UTF-16 length as the reference does, then merges consecutive
// unknowns and restores order.
func (t *Tokenizer) backtrack(words []int32, end int) []int {
	var rev []int
	for i := end; i > 0; i -= t.pieceLen[words[i]] {
		rev = append(rev, int(words[i]))
	}
	out := make([]int, 0, len(rev))
	prevUnknown := false
	for _, id := range rev {
		if !prevUnknown || id != unknownID {
			out = append(out, id)
		}
		prevUnknown = id == unknownID
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
