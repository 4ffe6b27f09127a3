package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ragd/ragd/ingest"
)

func ExampleLoadFile() {
	docs, err := ingest.LoadFile(context.Background(), "testdata/guide.md", ingest.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := docs[0]
	fmt.Println("id:", p.Doc.ID)
	fmt.Println("title:", p.Doc.Title)
	for _, s := range p.Sections {
		fmt.Printf("%v: %q\n", s.Headings, p.Doc.Text[s.Start:s.End])
	}
	// Output:
	// id: testdata/guide.md
	// title: ragd guide
	// [ragd guide]: "ragd guide\n\nragd indexes your documents and answers questions about them."
	// [ragd guide Install]: "Install\n\nDownload the single binary. See the releases page."
	// [ragd guide Search]: "Search\n\nRun ragd search \"query\" to get the best chunks."
}

func ExampleLoadReader_jsonl() {
	corpus := `{"_id": "d1", "title": "Bread", "text": "Knead the dough.", "metadata": {"lang": "en"}}
not json
{"_id": "d2", "text": "Let it rise."}`
	docs, err := ingest.LoadReader(context.Background(), strings.NewReader(corpus), "corpus.jsonl", "", ingest.LoadOptions{})
	var partial *ingest.PartialError
	if errors.As(err, &partial) {
		for _, le := range partial.Lines {
			fmt.Println("skipped line", le.Line)
		}
	} else if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range docs {
		fmt.Println(p.Doc.ID, p.Doc.Title, p.Doc.Text, p.Doc.Metadata)
	}
	// Output:
	// skipped line 2
	// d1 Bread Knead the dough. map[lang:en]
	// d2  Let it rise. map[]
}
