package ann_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index/ann"
)

func Example() {
	ctx := context.Background()
	ix, err := ann.New(ann.Config{Dims: 3, Metric: data.Cosine})
	if err != nil {
		panic(err)
	}
	err = ix.Upsert(ctx, []ann.Item{
		{ID: "a", Vector: []float32{1, 0, 0}, Metadata: map[string]any{"lang": "en"}},
		{ID: "b", Vector: []float32{0.9, 0.1, 0}, Metadata: map[string]any{"lang": "de"}},
		{ID: "c", Vector: []float32{0, 1, 0}, Metadata: map[string]any{"lang": "en"}},
	})
	if err != nil {
		panic(err)
	}
	f, _ := data.ParseFilterJSON([]byte(`{"lang": "en"}`))
	res, _ := ix.Search(ctx, []float32{1, 0.2, 0}, ann.SearchOptions{K: 2, Filter: f})
	for _, r := range res {
		fmt.Printf("%s %.3f\n", r.ID, r.Score)
	}
	// Output:
	// a 0.981
	// c 0.196
}

func ExampleLoad() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "ann")
	defer os.RemoveAll(dir)
	ix, _ := ann.New(ann.Config{Dims: 2, Metric: data.L2})
	_ = ix.Upsert(ctx, []ann.Item{{ID: "x", Vector: []float32{3, 4}}})
	path := filepath.Join(dir, "vectors.ann")
	if err := ix.Save(path); err != nil {
		panic(err)
	}
	loaded, err := ann.Load(path)
	if err != nil {
		// errors.Is(err, ann.ErrCorrupt): rebuild from the store of record
		panic(err)
	}
	res, _ := loaded.Search(ctx, []float32{0, 0}, ann.SearchOptions{K: 1})
	fmt.Println(loaded.Len(), res[0].ID, res[0].Score)
	// Output: 1 x -5
}

func ExampleFlat() {
	ctx := context.Background()
	f, _ := ann.NewFlat(ann.Config{Dims: 2, Metric: data.Dot})
	_ = f.Upsert(ctx, []ann.Item{
		{ID: "p", Vector: []float32{1, 2}, Namespace: "docs"},
		{ID: "q", Vector: []float32{2, 2}, Namespace: "mail"},
	})
	res, _ := f.Search(ctx, []float32{1, 1}, ann.SearchOptions{K: 5, Namespace: "docs"})
	fmt.Println(res)
	// Output: [{p 3}]
}
