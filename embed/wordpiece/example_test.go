package wordpiece_test

import (
	"fmt"

	"github.com/ragd/ragd/embed/wordpiece"
)

func Example() {
	// Real models load their tokenizer.json with LoadTokenizerJSON; a
	// small vocabulary shows the pipeline.
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cafe", "##s", "open", "!"}
	tk, err := wordpiece.NewFromVocab(vocab, wordpiece.DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	enc := tk.Encode("The Cafés open!", 0)
	fmt.Println(enc.Tokens)
	fmt.Println(enc.IDs)
	fmt.Println(enc.AttentionMask)
	// Output:
	// [[CLS] the cafe ##s open ! [SEP]]
	// [2 4 5 6 7 8 3]
	// [1 1 1 1 1 1 1]
}

func ExampleTokenizer_EncodePair() {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "what", "is", "go", "a", "language", "?"}
	tk, err := wordpiece.NewFromVocab(vocab, wordpiece.DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	enc := tk.EncodePair("What is Go?", "Go is a language", 0)
	fmt.Println(enc.Tokens)
	fmt.Println(enc.TypeIDs)
	// Output:
	// [[CLS] what is go ? [SEP] go is a language [SEP]]
	// [0 0 0 0 0 0 1 1 1 1 1]
}
