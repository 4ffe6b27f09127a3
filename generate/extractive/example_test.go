package extractive_test

import (
	"context"
	"fmt"

	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/extractive"
)

func ExampleGenerator_AnswerPassages() {
	g := extractive.New(extractive.Config{})
	passages := []generate.Passage{
		{N: 1, Source: "ovens.md", Text: "Preheat the oven to 250 degrees before baking sourdough. Ovens vary."},
		{N: 2, Source: "stocks.md", Text: "The stock market fell today."},
	}
	var text string
	err := g.AnswerPassages(context.Background(), "How hot should the oven be for sourdough?", passages, generate.Request{},
		func(ev generate.Event) error {
			text += ev.Delta
			return nil
		})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(text)
	// Output:
	// Extractive answer (no language model configured): Preheat the oven to 250 degrees before baking sourdough [1].
}
