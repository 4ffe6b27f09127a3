package ingest_test

import (
	"fmt"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/ingest"
)

func ExampleChunk() {
	p := ingest.Parsed{Doc: data.Document{
		ID:   "notes.txt",
		Text: "Chunks end at paragraphs. Then at sentences.\n\nA new paragraph starts here. It has two sentences.",
	}}
	chunks := ingest.Chunk(p, ingest.ChunkOptions{Size: 14, Overlap: 7})
	for _, c := range chunks {
		fmt.Printf("%s [%d:%d] %q\n", c.ID, c.Start, c.End, c.Text)
	}
	// Output:
	// notes.txt#0 [0:44] "Chunks end at paragraphs. Then at sentences."
	// notes.txt#1 [26:74] "Then at sentences.\n\nA new paragraph starts here."
	// notes.txt#2 [46:96] "A new paragraph starts here. It has two sentences."
}
