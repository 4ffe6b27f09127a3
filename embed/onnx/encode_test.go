package onnx

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/embed/wordpiece"
)

// The bounded encoder must give exactly what tokenizing the whole text
// gives, for texts around and far beyond the truncation length.
func TestBoundedEncodeMatchesFull(t *testing.T) {
	tok, err := wordpiece.LoadTokenizerJSON(tokenizerPath(t))
	if err != nil {
		t.Fatal(err)
	}
	enc := newEncoder(tok)
	if !enc.bounded || enc.specials != 2 {
		t.Fatalf("encoder %+v: want bounded, 2 specials", enc)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("the flow of air over a wing; supersonic shock-waves (Mach 3.5) unbelievably 日本語 naïve [MASK] x")
	for trial := range 200 {
		n := []int{2, 16, 128, 200, 2000}[trial%5]
		parts := make([]string, n)
		for i := range parts {
			parts[i] = words[rng.IntN(len(words))]
		}
		text := strings.Join(parts, []string{" ", "\n", "  \t"}[trial%3])
		maxLen := []int{8, 32, 128}[trial%3]
		want := tok.Encode(text, maxLen)
		got := enc.encode(text, maxLen)
		if !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.TypeIDs, want.TypeIDs) || got.Truncated != want.Truncated {
			t.Fatalf("trial %d (%d words, maxLen %d): bounded %v, full %v", trial, n, maxLen, got.Tokens, want.Tokens)
		}
		q := strings.Join(parts[:min(len(parts), 1+trial%40)], " ")
		wantPair := tok.EncodePair(q, text, maxLen)
		gotPair := enc.encodePair(q, text, maxLen)
		if !slices.Equal(gotPair.IDs, wantPair.IDs) || !slices.Equal(gotPair.TypeIDs, wantPair.TypeIDs) {
			t.Fatalf("trial %d pair: bounded %v, full %v", trial, gotPair.Tokens, wantPair.Tokens)
		}
	}
}

func BenchmarkEncodeLongText(b *testing.B) {
	tok, err := wordpiece.LoadTokenizerJSON(tokenizerPath(b))
	if err != nil {
		b.Fatal(err)
	}
	enc := newEncoder(tok)
	text := strings.Repeat("Boundary-layer transition on a flat plate at Mach 3. ", 20000) // ~1 MB
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if e := enc.encode(text, 128); e.Len() != 128 {
			b.Fatal(e.Len())
		}
	}
}
