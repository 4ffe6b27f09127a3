package llama

import (
	"context"
	"testing"

	"github.com/ragd/ragd/generate"
)

func TestSmoke(t *testing.T) {
	m := tinyModel(t)
	toks, err := m.Tokenize("Once upon a time", true)
	t.Log(toks, err)
	err = m.Generate(context.Background(), generate.Request{Prompt: "Once upon a time", MaxTokens: 8}, func(e generate.Event) error {
		t.Logf("%+v %+v", e, e.Usage)
		return nil
	})
	t.Log(err)
}
