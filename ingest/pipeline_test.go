package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/index"
)

// countingEmbedder returns deterministic vectors and counts the texts it
// was asked to embed.
type countingEmbedder struct{ texts atomic.Int64 }

func (c *countingEmbedder) Info() embed.Info {
	return embed.Info{ID: "counting", Dims: 4, MaxTokens: 512, Normalized: true}
}

func (c *countingEmbedder) Embed(ctx context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	c.texts.Add(int64(len(texts)))
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{float32(len(t)%7) + 1, float32(strings.Count(t, "e")) + 1, 1, float32(i%3) + 1}
	}
	return out, nil
}

func TestPipelineEmbeddingCacheAndSync(t *testing.T) {
	ctx := context.Background()
	eng, err := index.Open(ctx, index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.CreateIndex(ctx, data.IndexConfig{Name: "x", Model: "counting", Dims: 4}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"a.txt": "Alpha paragraph one.\n\nAlpha paragraph two with more words.",
		"b.md":  "# Beta\n\nBeta text here.",
		"c.txt": "Gamma gamma gamma.",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	emb := &countingEmbedder{}
	cfg := Config{Index: "x", Embedder: emb, Cache: eng.Store()}
	sum, err := Run(ctx, eng, []string{dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := emb.texts.Load()
	if sum.Docs != 3 || sum.Embedded != int(first) || first == 0 || sum.CacheHits != 0 {
		t.Fatalf("first run: %+v, embedded %d", sum, first)
	}
	// Unchanged files: skipped before chunking, nothing embedded.
	sum, err = Run(ctx, eng, []string{dir}, cfg)
	if err != nil || sum.Skipped != 3 || emb.texts.Load() != first {
		t.Fatalf("unchanged re-run: %+v %v, embedded %d", sum, err, emb.texts.Load()-first)
	}
	// Forced rewrite: every chunk comes from the cache.
	forced := cfg
	forced.Force = true
	sum, err = Run(ctx, eng, []string{dir}, forced)
	if err != nil || sum.Docs != 3 || emb.texts.Load() != first || sum.CacheHits != int(first) {
		t.Fatalf("forced re-run: %+v %v, embedded %d more", sum, err, emb.texts.Load()-first)
	}
	// One changed file: only its new chunk text is embedded.
	if err := os.WriteFile(filepath.Join(dir, "c.txt"), []byte("Gamma changed entirely."), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err = Run(ctx, eng, []string{dir}, cfg)
	if err != nil || sum.Docs != 1 || emb.texts.Load() != first+1 {
		t.Fatalf("changed file: %+v %v, embedded %d more", sum, err, emb.texts.Load()-first)
	}
	// --sync removes the document of a deleted file.
	if err := os.Remove(filepath.Join(dir, "b.md")); err != nil {
		t.Fatal(err)
	}
	synced := cfg
	synced.Sync = true
	sum, err = Run(ctx, eng, []string{dir}, synced)
	if err != nil || sum.Deleted != 1 {
		t.Fatalf("sync: %+v %v", sum, err)
	}
	info, _ := eng.Index(ctx, "x")
	if info.Stats.Documents != 2 || info.Stats.Vectors != info.Stats.Chunks {
		t.Fatalf("after sync: %+v", info.Stats)
	}
}

func TestFitChunksToModel(t *testing.T) {
	cfg := Config{Embedder: &countingEmbedder{}, Chunk: ChunkOptions{Size: 1000, Overlap: 100}}
	fitChunks(&cfg)
	if cfg.Chunk.Size != 512 || cfg.Chunk.Overlap != 51 {
		t.Fatalf("chunks not cut to the model's 512 tokens: %+v", cfg.Chunk)
	}
}
