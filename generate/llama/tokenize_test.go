package llama

import (
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestTokenizeTinyLlama(t *testing.T) {
	m := tinyModel(t)
	tests := []struct {
		text       string
		addSpecial bool
		want       []int32
	}{
		{"Once upon a time", true, []int32{1, 9038, 2501, 263, 931}},
		{"Once upon a time", false, []int32{9038, 2501, 263, 931}},
		{"", true, []int32{1}},
		{"", false, []int32{}},
	}
	for _, tc := range tests {
		got, err := m.Tokenize(tc.text, tc.addSpecial)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Tokenize(%q, %v) = %v, want %v", tc.text, tc.addSpecial, got, tc.want)
		}
	}
	n, err := m.CountTokens("Once upon a time")
	if err != nil || n != 4 {
		t.Errorf("CountTokens = %d, %v; want 4", n, err)
	}
	text, err := m.Detokenize([]int32{9038, 2501, 263, 931})
	if err != nil || text != "Once upon a time" {
		t.Errorf("Detokenize = %q, %v", text, err)
	}
	// llama.cpp drops BOS but then keeps the SentencePiece space prefix.
	text, err = m.Detokenize([]int32{1, 9038, 2501, 263, 931})
	if err != nil || text != " Once upon a time" {
		t.Errorf("Detokenize with BOS = %q, %v", text, err)
	}
	if _, err := m.Detokenize([]int32{32000}); err == nil {
		t.Error("Detokenize accepted a token outside the vocabulary")
	}
	// Byte-fallback tokens outnumber the first buffer guess: the call is
	// repeated with the size llama_tokenize reports.
	emoji := strings.Repeat("\U0001F999", 50)
	toks, err := m.Tokenize(emoji, false)
	if err != nil || len(toks) <= len(emoji)/2+16 {
		t.Errorf("emoji: %d tokens, %v; want more than the first guess of %d", len(toks), err, len(emoji)/2+16)
	}
	if back, err := m.Detokenize(toks); err != nil || back != emoji {
		t.Errorf("emoji round trip = %q, %v", back, err)
	}
	// A long input.
	long := strings.Repeat("Once upon a time ", 2000)
	toks, err = m.Tokenize(long, false)
	if err != nil || len(toks) < 8000 {
		t.Errorf("long tokenize: %d tokens, %v", len(toks), err)
	}
}

// TestLlamaSPMFixture runs llama.cpp's own tokenizer test vectors for the
// Llama SentencePiece vocabulary (loaded vocabulary-only).
func TestLlamaSPMFixture(t *testing.T) {
	lib := testLibDir(t)
	vocab := sharedPath(t, "fixtures/tokenizers/ggml-vocab-llama-spm.gguf")
	inp, err := os.ReadFile(vocab + ".inp")
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(vocab + ".out")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(context.Background(), vocab, Config{LibDir: lib, VocabOnly: true}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	inputs := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	lines := strings.Split(string(out), "\n")
	// Both files end with a separator/newline: drop the empty tail.
	if inputs[len(inputs)-1] == "" && lines[len(lines)-1] == "" {
		inputs, lines = inputs[:len(inputs)-1], lines[:len(lines)-1]
	}
	if len(inputs) != len(lines) || len(inputs) < 40 {
		t.Fatalf("%d inputs vs %d outputs", len(inputs), len(lines))
	}
	for i, text := range inputs {
		var want []int32
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("case %d: bad id %q", i, f)
			}
			want = append(want, int32(id))
		}
		got, err := m.Tokenize(text, false)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d %q:\n got  %v\n want %v", i, text, got, want)
		}
	}
}
