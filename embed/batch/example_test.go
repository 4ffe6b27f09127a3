package batch_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/batch"
)

// lengths is a toy embedder: a text's vector is its length and word count.
type lengths struct{}

func (lengths) Info() embed.Info { return embed.Info{ID: "lengths", Dims: 2} }

func (lengths) Embed(_ context.Context, _ embed.Kind, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{float32(len(t)), float32(len(strings.Fields(t)))}
	}
	return out, nil
}

func Example() {
	b := batch.New(lengths{}, batch.Config{}) // 64 texts, 2 ms, 4096 queued
	defer b.Close()

	// Concurrent callers use b like any embedder; their texts share calls.
	vecs, err := b.Embed(context.Background(), embed.Query, []string{"how do I bake bread", "sourdough"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(vecs)
	st := b.Stats()
	fmt.Println(st.Batches, st.Texts)
	// Output:
	// [[19 5] [9 1]]
	// 1 2
}
