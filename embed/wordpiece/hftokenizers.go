//go:build hftokenizers

package wordpiece

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/daulet/tokenizers"
)

// HFTokenizer has the Encode/EncodePair/Tokenize surface of Tokenizer but
// runs Hugging Face's Rust tokenizers library through
// github.com/daulet/tokenizers. It handles every tokenizer.json that
// library does (BPE, Unigram, WordPiece). It is only built with the
// hftokenizers build tag and needs libtokenizers.a at link time.
type HFTokenizer struct {
	tk        *tokenizers.Tokenizer
	maxLength int
	padID     int32
	padToken  string
	// prefix and suffix are the special tokens the single template puts
	// around a sequence (read by encoding the empty string).
	prefix, suffix []int32
	prefixTok      []string
	suffixTok      []string
}

// LoadHFTokenizer loads a tokenizer.json with the Rust library.
func LoadHFTokenizer(path string) (*HFTokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTokenizer, err)
	}
	var f struct {
		Truncation *struct {
			MaxLength int `json:"max_length"`
		} `json:"truncation"`
		Padding *struct {
			PadID    int32  `json:"pad_id"`
			PadToken string `json:"pad_token"`
		} `json:"padding"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, errorf("%s: %v", path, err)
	}
	tk, err := tokenizers.FromBytes(data)
	if err != nil {
		return nil, errorf("%s: %v", path, err)
	}
	h := &HFTokenizer{tk: tk, maxLength: 512, padToken: "[PAD]"}
	if f.Truncation != nil && f.Truncation.MaxLength > 0 {
		h.maxLength = f.Truncation.MaxLength
	}
	if f.Padding != nil {
		h.padID, h.padToken = f.Padding.PadID, f.Padding.PadToken
	}
	// The empty string encodes to the template's special tokens alone;
	// split them around where the sequence would go (BERT: [CLS] | [SEP]).
	ids, toks := tk.Encode("", true)
	half := (len(ids) + 1) / 2
	for i, id := range ids {
		if i < half {
			h.prefix = append(h.prefix, int32(id))
			h.prefixTok = append(h.prefixTok, tokAt(toks, i))
		} else {
			h.suffix = append(h.suffix, int32(id))
			h.suffixTok = append(h.suffixTok, tokAt(toks, i))
		}
	}
	return h, nil
}

func tokAt(toks []string, i int) string {
	if i < len(toks) {
		return toks[i]
	}
	return ""
}

// Close frees the Rust tokenizer.
func (h *HFTokenizer) Close() error { return h.tk.Close() }

// MaxLength is the tokenizer file's truncation length, else 512.
func (h *HFTokenizer) MaxLength() int { return h.maxLength }

// VocabSize is the size of the vocabulary with added tokens.
func (h *HFTokenizer) VocabSize() int { return int(h.tk.VocabSize()) }

// PadID is the padding token's id.
func (h *HFTokenizer) PadID() int32 { return h.padID }

// Tokenize splits text into tokens without special tokens or truncation.
func (h *HFTokenizer) Tokenize(text string) ([]string, []int32) {
	ids, toks := h.tk.Encode(text, false)
	return toks, toInt32(ids)
}

// Encode wraps text in the special tokens and truncates it to maxLen (0 =
// MaxLength(), negative = no limit), as Tokenizer.Encode does.
func (h *HFTokenizer) Encode(text string, maxLen int) Encoding {
	toks, ids := h.Tokenize(text)
	return h.assemble(ids, toks, nil, nil, maxLen)
}

// EncodePair encodes "[CLS] a [SEP] b [SEP]" with type ids 0 and 1 and
// longest-first truncation, as Tokenizer.EncodePair does.
func (h *HFTokenizer) EncodePair(a, b string, maxLen int) Encoding {
	ta, ia := h.Tokenize(a)
	tb, ib := h.Tokenize(b)
	if ib == nil {
		ib = []int32{}
	}
	return h.assemble(ia, ta, ib, tb, maxLen)
}

func (h *HFTokenizer) assemble(a []int32, ta []string, b []int32, tb []string, maxLen int) Encoding {
	if maxLen == 0 {
		maxLen = h.maxLength
	}
	nSpecial := len(h.prefix) + len(h.suffix)
	if b != nil {
		nSpecial += len(h.suffix)
	}
	var truncated bool
	if maxLen > 0 {
		a, b, truncated = truncatePair(a, b, max(maxLen-nSpecial, 0), false)
		ta, tb = ta[:min(len(ta), len(a))], tb[:min(len(tb), len(b))]
	}
	var e Encoding
	e.Truncated = truncated
	add := func(ids []int32, toks []string, typeID int32) {
		for i, id := range ids {
			e.IDs = append(e.IDs, id)
			e.Tokens = append(e.Tokens, tokAt(toks, i))
			e.TypeIDs = append(e.TypeIDs, typeID)
			e.AttentionMask = append(e.AttentionMask, 1)
		}
	}
	add(h.prefix, h.prefixTok, 0)
	add(a, ta, 0)
	add(h.suffix, h.suffixTok, 0)
	if b != nil {
		add(b, tb, 1)
		add(h.suffix, h.suffixTok, 1)
	}
	return e
}

func toInt32(ids []uint32) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}
