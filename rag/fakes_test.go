package rag_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/rag"
)

// bagEmbedder is a deterministic embedder: each word adds to one of dims
// buckets (by hash), then the vector is normalised. Texts sharing words
// are close. It counts the texts it embeds.
type bagEmbedder struct {
	id   string
	dims int

	mu      sync.Mutex
	texts   int
	queries []string
	// onQuery, when set, runs for each query embedding call.
	onQuery func()
}

func (b *bagEmbedder) Info() embed.Info { return embed.Info{ID: b.id, Dims: b.dims} }

func (b *bagEmbedder) Embed(_ context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	b.mu.Lock()
	b.texts += len(texts)
	if kind == embed.Query {
		b.queries = append(b.queries, texts...)
	}
	onQuery := b.onQuery
	b.mu.Unlock()
	if kind == embed.Query && onQuery != nil {
		onQuery()
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, b.dims)
		for _, w := range strings.Fields(strings.ToLower(t)) {
			h := fnv.New32a()
			h.Write([]byte(strings.Trim(w, ".,?!")))
			v[h.Sum32()%uint32(b.dims)]++
		}
		v[0] += 0.01 // never the zero vector
		var n float64
		for _, f := range v {
			n += float64(f) * float64(f)
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(n))
		}
		out[i] = v
	}
	return out, nil
}

func (b *bagEmbedder) embedded() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.texts
}

// models resolves one embedder by name.
type models struct{ emb *bagEmbedder }

func (m models) Embedder(_ context.Context, name string) (embed.Embedder, error) {
	if name != m.emb.id {
		return nil, fmt.Errorf("model %q: %w", name, embed.ErrModelNotFound)
	}
	return m.emb, nil
}

// reverseReranker scores passages in reverse of their order.
type reverseReranker struct{ calls int }

func (r *reverseReranker) Rerank(_ context.Context, _ string, passages []string) ([]float32, error) {
	r.calls++
	out := make([]float32, len(passages))
	for i := range passages {
		out[i] = float32(i)
	}
	return out, nil
}

// countingScheduler records each Do call's weight.
type countingScheduler struct {
	mu      sync.Mutex
	weights []int
}

func (s *countingScheduler) Do(ctx context.Context, weight int, fn func(context.Context) error) error {
	s.mu.Lock()
	s.weights = append(s.weights, weight)
	s.mu.Unlock()
	return fn(ctx)
}

var corpus = []data.Document{
	{ID: "bread", Title: "Baking bread", Text: "Sourdough bread needs a starter, flour, water and salt. Bake the loaf in a hot oven."},
	{ID: "stocks", Title: "Markets", Text: "The stock market fell today as investors sold shares of banks."},
	{ID: "tea", Title: "Tea", Text: "Green tea is brewed with water below boiling. Steep the leaves for two minutes."},
}

// newService opens an embedded engine in a temp dir with an index "kb"
// that uses the bag embedder.
func newService(t *testing.T, cfg rag.Config) (*rag.Service, *bagEmbedder, *index.Engine) {
	t.Helper()
	eng, err := index.Open(context.Background(), index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	emb := &bagEmbedder{id: "bag", dims: 64}
	cfg.Backend, cfg.Models = eng, models{emb}
	svc, err := rag.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateIndex(context.Background(), data.IndexConfig{Name: "kb", Model: "bag"}); err != nil {
		t.Fatal(err)
	}
	return svc, emb, eng
}

func clone(docs []data.Document) []data.Document {
	out := make([]data.Document, len(docs))
	copy(out, docs)
	return out
}
