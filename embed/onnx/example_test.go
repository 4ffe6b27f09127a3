package onnx_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/bert"
	"github.com/ragd/ragd/embed/onnx"
)

// A sentence-transformers model directory (for example an export of
// bge-small-en-v1.5 with onnx/model.onnx) embeds queries with the BGE
// instruction and passages without. Examples here are compiled, not run:
// they need ONNX Runtime and a model directory.
func ExampleNewEmbedder() {
	e, err := onnx.NewEmbedder("models/bge-small-en-v1.5", onnx.Config{
		LibraryPath: onnx.DefaultLibraryPath,
		BatchSize:   32,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	vecs, err := e.Embed(context.Background(), embed.Query, []string{"how do I bake bread"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Info().Dims, len(vecs[0]))
}

func ExampleNewReranker() {
	r, err := onnx.NewReranker("models/ms-marco-MiniLM-L-6-v2", onnx.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	scores, err := r.Rerank(context.Background(), "how do I bake bread",
		[]string{"recipe for a sourdough loaf", "the stock market fell today"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(scores[0] > scores[1])
}

// Bench is what `ragd bench embed` runs: the pipeline against bare ONNX
// Runtime on a random MiniLM-shaped model when no real model is at hand.
func ExampleBench() {
	dir := "/tmp/minilm-random"
	if _, err := onnx.BuildRandomModel(dir, onnx.RandomModelOptions{
		Config:        bert.MiniLMConfig(),
		TokenizerJSON: "../shared/fixtures/tokenizers/all-minilm-l6-v2.tokenizer.json",
		Pooling:       onnx.PoolMean,
		MaxSeqLength:  128,
	}); err != nil {
		log.Fatal(err)
	}
	res, err := onnx.Bench(context.Background(), dir, onnx.Config{}, onnx.BenchOptions{Rounds: 5})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res)
}
