package use

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ragd/ragd/embed"
)

// toyVocab is a small vocabulary in the layout of vocab.json: six reserved
// entries, then scored pieces.
const toyVocab = `[["\ufffd",0],["<s>",0],["</s>",0],["x1",0],["x2",0],["x3",0],
 ["\u2581",-2.0],
 ["\u2581the",-1.0],
 ["\u2581th",-3.0],
 ["e",-2.5],
 ["\u2581cat",-1.5],
 ["\u2581c",-4.0],
 ["at",-2.0],
 ["s",-1.0],
 ["\u2581:)",null],
 [":",-3.0],
 [")",-3.0],
 ["\u2581fi",-2.0],
 ["dup",-5.0],
 ["dup",-6.0],
 ["c",-9],["a",-9],["t",-9],["h",-9],["d",-9],["u",-9],["p",-9],["f",-9],["i",-9]]`

func toyTokenizer(t *testing.T) *Tokenizer {
	t.Helper()
	tok, err := ParseVocabulary([]byte(toyVocab))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenizerToy(t *testing.T) {
	tok := toyTokenizer(t)
	// Expected ids are those of the reference JS tokenizer
	// (@energetic-ai/embeddings 0.2.0) given the same vocabulary.
	tests := []struct {
		name, in string
		want     []int
	}{
		{"empty has no tokens", "", []int{}},
		{"best segmentation wins", "the cat", []int{7, 10}},
		{"suffix piece", "cats", []int{10, 13}},
		{"lone space becomes two boundaries", " ", []int{6, 6}},
		{"unknown characters merge into one id", "thezq", []int{7, 0}},
		{"unknowns separated by a piece stay apart", "zsz", []int{6, 0, 13, 0}},
		{"a zero score counts as unset, so a later candidate replaces it", ":)", []int{6, 15, 16}},
		{"NFKC folds the ligature", "\ufb01", []int{17}},
		{"NFKC folds full-width letters", "\uff43\uff41\uff54", []int{10}},
		{"no lowercasing", "THE", []int{6, 0}},
		{"tab is not a space", "\tthe", []int{6, 0, 22, 23, 9}},
		{"later duplicate wins", "dup", []int{6, 19}},
		{"single letters", "c", []int{11}},
		{"no boundary inside a text", "hat", []int{6, 23, 12}},
		{"invalid UTF-8 reads as U+FFFD, unknown", "the\xff\xfe", []int{7, 0}},
		{"U+FFFD itself is unknown", "the\ufffd\ufffd", []int{7, 0}},
		{"control characters are unknown", "the\x00\x07", []int{7, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tok.Encode(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseVocabularyErrors(t *testing.T) {
	for _, in := range []string{
		``, `{}`, `[["a",0]]`, `[1,2,3,4,5,6,7]`,
		`[["a",0],["b",0],["c",0],["d",0],["e",0],["f",0],["g","x"]]`,
		`[["",0],["b",0],["c",0],["d",0],["e",0],["f",0],["g",1]]`,
	} {
		if _, err := ParseVocabulary([]byte(in)); !errors.Is(err, embed.ErrBadModel) {
			t.Errorf("ParseVocabulary(%.30q) error = %v, want ErrBadModel", in, err)
		}
	}
}

// TestEncodeEarlyStop checks that tokenizing with a limit keeps exactly the
// leading ids of a full tokenization, on long and unusual inputs.
func TestEncodeEarlyStop(t *testing.T) {
	m := testModel(t)
	inputs := []string{
		strings.Repeat("the boundary layer separates near the trailing edge. ", 200),
		strings.Repeat("xq ", 500) + strings.Repeat("🙂", 300),
		strings.Repeat("a", 5000),
		strings.Repeat("word ", 127) + "end",
		strings.Repeat("  ", 400),
	}
	for _, in := range inputs {
		full := m.tok.Encode(in)
		for _, limit := range []int{1, 5, 128} {
			got := m.tok.encode(in, limit)
			n := min(limit, len(full))
			if len(got) < n || !slices.Equal(got[:n], full[:n]) {
				t.Errorf("limit %d on %.20q...: got %v..., want prefix %v", limit, in, got[:min(len(got), 8)], full[:min(n, 8)])
			}
		}
	}
}
