package aisearch_test

import (
	"context"
	"fmt"
	"os"

	"github.com/ragd/ragd/aisearch"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// An instance on the embedded engine: a keyword-only instance, one file
// indexed before Upload returns, and a search over it.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "aisearch-example")
	defer os.RemoveAll(dir)
	eng, err := index.Open(ctx, index.Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()
	svc, _ := rag.New(rag.Config{Backend: eng})
	ais := aisearch.New(aisearch.Config{Indexes: eng, Retrieval: svc, Dir: dir})
	defer ais.Close()

	if _, err := ais.CreateInstance(ctx, aisearch.DefaultNamespace, aisearch.CreateInstanceRequest{ID: "kitchen"}); err != nil {
		fmt.Println(err)
		return
	}
	it, err := ais.Upload(ctx, aisearch.DefaultNamespace, "kitchen", aisearch.Upload{Key: "bread.md", Wait: true,
		Body: []byte("# Bread\n\nKnead the sourdough and let it rise overnight.\n")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(it.Key, it.Status, *it.Chunks)
	res, err := ais.Search(ctx, aisearch.DefaultNamespace, "kitchen", "sourdough", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(res), res[0].DocID, res[0].Mode)
	// Output:
	// bread.md completed 1
	// 1 bread.md bm25
}
