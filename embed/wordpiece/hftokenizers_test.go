//go:build hftokenizers

package wordpiece

import (
	"slices"
	"testing"
)

// TestHFTokenizerAgrees compares the Rust-backed tokenizer with the pure-Go
// one; it runs only where libtokenizers.a can be linked.
func TestHFTokenizerAgrees(t *testing.T) {
	path := fixture(t, "all-minilm-l6-v2.tokenizer.json")
	h, err := LoadHFTokenizer(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	g := loadMiniLM(t)
	for _, s := range []string{"Hello, world!", "Crème brûlée", "我想在apple工作"} {
		if a, b := h.Encode(s, 0), g.Encode(s, 0); !slices.Equal(a.IDs, b.IDs) {
			t.Errorf("%q: hf %v go %v", s, a.IDs, b.IDs)
		}
		if a, b := h.EncodePair(s, "x", 8), g.EncodePair(s, "x", 8); !slices.Equal(a.IDs, b.IDs) {
			t.Errorf("pair %q: hf %v go %v", s, a.IDs, b.IDs)
		}
	}
}
