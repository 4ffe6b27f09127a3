package rag_test

import (
	"context"
	"fmt"
	"os"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate/extractive"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// A keyword-only index: ingest two documents (the second run skips them
// as unchanged), search, and ask with the extractive generator.
func Example() {
	dir, _ := os.MkdirTemp("", "rag-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	eng, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	svc, err := rag.New(rag.Config{Backend: eng, Generator: extractive.New(extractive.Config{})})
	if err != nil {
		panic(err)
	}
	if _, err := svc.CreateIndex(ctx, data.IndexConfig{Name: "notes"}); err != nil {
		panic(err)
	}
	docs := []data.Document{
		{ID: "tea", Text: "Steep green tea for two minutes in water below boiling."},
		{ID: "bread", Text: "Bake the loaf in a hot oven for forty minutes."},
	}
	for range 2 {
		res, err := svc.Ingest(ctx, "notes", docs, rag.IngestOptions{})
		if err != nil {
			panic(err)
		}
		fmt.Printf("written %d, unchanged %d\n", res.Docs, res.Skipped)
	}
	hits, _ := svc.Search(ctx, "notes", data.Query{Text: "green tea", TopK: 1})
	fmt.Println("top hit:", hits[0].DocID)
	res, err := svc.Ask(ctx, "notes", rag.AskRequest{Query: data.Query{Text: "How long do I bake the loaf?", TopK: 1}}, func(ev rag.Event) error {
		if ev.Type != rag.EventToken {
			fmt.Println("event:", ev.Type)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("cites:", res.Answer.Citations[0].DocID)
	// Output:
	// written 2, unchanged 0
	// written 0, unchanged 2
	// top hit: tea
	// event: retrieval
	// event: done
	// cites: bread
}
