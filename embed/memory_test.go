package embed_test

import (
	"context"
	"testing"

	"github.com/ragd/ragd/embed"
)

// plain is an Embedder without the Memory capability.
type plain struct{}

func (plain) Info() embed.Info { return embed.Info{ID: "plain", Dims: 1} }
func (plain) Embed(_ context.Context, _ embed.Kind, texts []string) ([][]float32, error) {
	return make([][]float32, len(texts)), nil
}

// sized reports memory.
type sized struct{ plain }

func (sized) Memory() embed.Memory { return embed.Memory{Bytes: 42} }

// wrapper hides its inner embedder behind Unwrap, as a batcher does.
type wrapper struct {
	plain
	inner embed.Embedder
}

func (w wrapper) Unwrap() embed.Embedder { return w.inner }

func TestMemoryOf(t *testing.T) {
	tests := []struct {
		name string
		e    embed.Embedder
		want embed.Memory
		ok   bool
	}{
		{"reporter", sized{}, embed.Memory{Bytes: 42}, true},
		{"no capability", plain{}, embed.Memory{}, false},
		{"wrapped reporter", wrapper{inner: wrapper{inner: sized{}}}, embed.Memory{Bytes: 42}, true},
		{"wrapped plain", wrapper{inner: plain{}}, embed.Memory{}, false},
		{"wrapper of nil", wrapper{}, embed.Memory{}, false},
		{"nil", nil, embed.Memory{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := embed.MemoryOf(tc.e)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("MemoryOf = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
