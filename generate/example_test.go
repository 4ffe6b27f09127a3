package generate_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/extractive"
)

func ExampleAnswer() {
	hits := []data.Hit{
		{DocID: "ovens", ChunkID: "ovens#0", Source: "ovens.md", Text: "Preheat the oven to 250 degrees before baking sourdough."},
		{DocID: "stocks", ChunkID: "stocks#4", Source: "stocks.md", Text: "The stock market fell today."},
	}
	// With no model configured, the extractive generator answers.
	g := extractive.New(extractive.Config{})
	ans, err := generate.Answer(context.Background(), g, "How hot should the oven be?", hits, generate.AnswerOptions{},
		func(ev generate.AnswerEvent) error {
			if ev.Type != generate.AnswerToken {
				fmt.Println("event:", ev.Type)
			}
			return nil
		})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(ans.Text)
	for _, c := range ans.Citations {
		fmt.Printf("[%d] %s %s\n", c.N, c.ChunkID, c.Source)
	}
	// Output:
	// event: retrieval
	// event: done
	// Extractive answer (no language model configured): Preheat the oven to 250 degrees before baking sourdough [1].
	// [1] ovens#0 ovens.md
}

func ExampleTemplateFor() {
	// A GGUF's tokenizer.chat_template is recognised by its special tokens.
	tmpl := generate.TemplateFor("", "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' }}")
	fmt.Println(tmpl.Name)
	fmt.Printf("%q\n", tmpl.Render([]generate.Message{{Role: "user", Content: "Hi"}}, true))
	// Output:
	// chatml
	// "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
}

func ExampleParseCitations() {
	fmt.Println(generate.ParseCitations("Paris is the capital [2][1]; it is large [1, 3] and old [4-5]."))
	// Output: [2 1 3 4 5]
}

func ExamplePack() {
	passages := generate.PassagesFromHits([]data.Hit{
		{DocID: "short", Text: "A short passage that fits."},
		{DocID: "long", Text: "A very long passage that does not fit in this tiny budget at all, " +
			"since it goes on and on with many words that take up a lot of tokens."},
		{DocID: "tiny", Text: "Tiny one."},
	})
	res, err := generate.Pack(passages, generate.PackOptions{Question: "What fits?", Budget: 80, MaxTokens: 20})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	for _, p := range res.Passages {
		fmt.Println("kept", p.N, p.DocID)
	}
	for _, d := range res.Dropped {
		fmt.Println("dropped rank", d.Rank, d.DocID)
	}
	// Output:
	// kept 1 short
	// kept 2 tiny
	// dropped rank 1 long
}

func ExampleChatAdapter() {
	a := generate.NewChatAdapter("chatcmpl-1", "ragd", 1700000000, false)
	for _, ev := range []generate.Event{
		{Type: generate.EventToken, Delta: "Hi"},
		{Type: generate.EventDone, FinishReason: "stop", Usage: &generate.Usage{PromptTokens: 3, CompletionTokens: 1}},
	} {
		for _, c := range a.Chunks(ev) {
			b, _ := json.Marshal(c)
			fmt.Printf("data: %s\n", b)
		}
	}
	fmt.Println("data: [DONE]")
	// Output:
	// data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"ragd","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}
	// data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"ragd","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}
	// data: [DONE]
}
