package wordpiece

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestGGMLVectors checks every llama.cpp test vector for the BGE
// vocabulary (expected ids exclude [CLS] and [SEP]).
func TestGGMLVectors(t *testing.T) {
	tk := loadMiniLM(t)
	inp, err := os.ReadFile(fixture(t, "ggml-vocab-bert-bge.gguf.inp"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(fixture(t, "ggml-vocab-bert-bge.gguf.out"))
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	texts = texts[:len(texts)-1] // the file ends with a separator
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(texts) != len(want) || len(texts) < 40 {
		t.Fatalf("%d inputs, %d outputs", len(texts), len(want))
	}
	for i, text := range texts {
		var ids []int32
		for _, f := range strings.Fields(want[i]) {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			ids = append(ids, int32(n))
		}
		toks, got := tk.Tokenize(text)
		if !slices.Equal(got, ids) {
			t.Errorf("case %d %q:\n got  %v %q\n want %v", i, text, got, toks, ids)
		}
		// Encode adds [CLS] and [SEP] around the same ids.
		enc := tk.Encode(text, -1)
		full := append(append([]int32{101}, ids...), 102)
		if !slices.Equal(enc.IDs, full) {
			t.Errorf("case %d Encode: got %v want %v", i, enc.IDs, full)
		}
	}
}

// TestDauletReference checks the expected ids from the tests of
// github.com/daulet/tokenizers v1.24.0 (Hugging Face's Rust tokenizer
// behind cgo) on the WordPiece tokenizer files its module ships. Its other
// test files (Llama 3, Cohere, Kimi tiktoken) are byte-level BPE, not
// WordPiece.
func TestDauletReference(t *testing.T) {
	dir := filepath.Join(dauletDir(t), "test", "data")
	load := func(t *testing.T, name string) *Tokenizer {
		tk, err := LoadTokenizerJSON(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	type tc struct {
		name      string
		file      string
		text      string
		special   bool
		maxLen    int
		left      bool
		wantIDs   []int32
		wantToks  []string
		wantTypes []int32
	}
	const fox = "brown fox jumps over the lazy dog"
	cases := []tc{
		{name: "labse plain", file: "sentence-transformers-labse.json", text: fox,
			wantIDs:  []int32{0xca3f, 0x2f304, 0x5185b, 0x3c54, 0x3a89, 0x35fc3, 0x57b4},
			wantToks: []string{"brown", "fox", "jumps", "over", "the", "lazy", "dog"}},
		{name: "labse special", file: "sentence-transformers-labse.json", text: fox, special: true,
			wantIDs:   []int32{0x65, 0xca3f, 0x2f304, 0x5185b, 0x3c54, 0x3a89, 0x35fc3, 0x57b4, 0x66},
			wantToks:  []string{"[CLS]", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "[SEP]"},
			wantTypes: make([]int32, 9)},
		{name: "labse special tokens in text", file: "sentence-transformers-labse.json", text: "[CLS]fox[SEP]",
			wantIDs: []int32{101, 193284, 102}},
		{name: "labse right truncation", file: "sentence-transformers-labse.json", text: fox, special: true, maxLen: 5,
			wantIDs:  []int32{0x65, 0xca3f, 0x2f304, 0x5185b, 0x66},
			wantToks: []string{"[CLS]", "brown", "fox", "jumps", "[SEP]"}},
		{name: "labse left truncation", file: "sentence-transformers-labse.json", text: fox, special: true, maxLen: 5, left: true,
			wantIDs:  []int32{0x65, 0x3a89, 0x35fc3, 0x57b4, 0x66},
			wantToks: []string{"[CLS]", "the", "lazy", "dog", "[SEP]"}},
		{name: "bert plain", file: "bert-base-uncased.json", text: fox,
			wantIDs:  []int32{2829, 4419, 14523, 2058, 1996, 13971, 3899},
			wantToks: []string{"brown", "fox", "jumps", "over", "the", "lazy", "dog"}},
		{name: "bert special", file: "bert-base-uncased.json", text: fox, special: true,
			wantIDs: []int32{101, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 102}},
		{name: "bert empty", file: "bert-base-uncased.json", text: ""},
		{name: "bert empty special", file: "bert-base-uncased.json", text: "", special: true,
			wantIDs: []int32{101, 102}, wantToks: []string{"[CLS]", "[SEP]"}, wantTypes: []int32{0, 0}},
		{name: "bert invalid utf8", file: "bert-base-uncased.json", text: "\x91D",
			wantIDs: []int32{1040}, wantToks: []string{"d"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := load(t, c.file)
			tk.truncateLeft = c.left
			var ids []int32
			var toks []string
			var types []int32
			if c.special {
				maxLen := c.maxLen
				if maxLen == 0 {
					maxLen = -1
				}
				e := tk.Encode(c.text, maxLen)
				ids, toks, types = e.IDs, e.Tokens, e.TypeIDs
				if e.Truncated != (c.maxLen > 0) {
					t.Errorf("Truncated = %v", e.Truncated)
				}
			} else {
				toks, ids = tk.Tokenize(c.text)
			}
			if !slices.Equal(ids, c.wantIDs) {
				t.Errorf("ids %v, want %v", ids, c.wantIDs)
			}
			if c.wantToks != nil && !slices.Equal(toks, c.wantToks) {
				t.Errorf("tokens %q, want %q", toks, c.wantToks)
			}
			if c.wantTypes != nil && !slices.Equal(types, c.wantTypes) {
				t.Errorf("type ids %v, want %v", types, c.wantTypes)
			}
		})
	}

	t.Run("minilm padding to multiple of 8", func(t *testing.T) {
		tk := load(t, "all-minilm-l6-v2.json")
		toks, ids := tk.Tokenize("this short sentence")
		e := Encoding{IDs: ids, Tokens: toks, TypeIDs: make([]int32, len(ids)), AttentionMask: []int32{1, 1, 1}}
		m := tk.PadMultiple()
		if m != 8 {
			t.Fatalf("PadMultiple = %d, want 8", m)
		}
		e = tk.Pad(e, (e.Len()+m-1)/m*m)
		if want := []int32{0x7e7, 0x99c, 0x186b, 0, 0, 0, 0, 0}; !slices.Equal(e.IDs, want) {
			t.Errorf("ids %v, want %v", e.IDs, want)
		}
		if want := []string{"this", "short", "sentence", "[PAD]", "[PAD]", "[PAD]", "[PAD]", "[PAD]"}; !slices.Equal(e.Tokens, want) {
			t.Errorf("tokens %q", e.Tokens)
		}
		if want := []int32{1, 1, 1, 0, 0, 0, 0, 0}; !slices.Equal(e.AttentionMask, want) {
			t.Errorf("mask %v", e.AttentionMask)
		}
	})
	t.Run("bert vocab size", func(t *testing.T) {
		if n := load(t, "bert-base-uncased.json").VocabSize(); n != 30522 {
			t.Errorf("VocabSize = %d, want 30522", n)
		}
	})
	t.Run("cohere is not wordpiece", func(t *testing.T) {
		if _, err := LoadTokenizerJSON(filepath.Join(dir, "cohere-tokenizer.json")); err == nil {
			t.Error("BPE tokenizer loaded as WordPiece")
		}
	})
}
