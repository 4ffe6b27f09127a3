package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed/embedtest"
	"github.com/ragd/ragd/index"
)

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
	emb := embedtest.NewHash("counting", 4)
	cfg := Config{Index: "x", Embedder: emb, Cache: eng.Store()}
	sum, err := Run(ctx, eng, []string{dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := emb.Texts()
	if sum.Docs != 3 || sum.Embedded != int(first) || first == 0 || sum.CacheHits != 0 {
		t.Fatalf("first run: %+v, embedded %d", sum, first)
	}
	// Unchanged files: skipped before chunking, nothing embedded.
	sum, err = Run(ctx, eng, []string{dir}, cfg)
	if err != nil || sum.Skipped != 3 || emb.Texts() != first {
		t.Fatalf("unchanged re-run: %+v %v, embedded %d", sum, err, emb.Texts()-first)
	}
	// Forced rewrite: every chunk comes from the cache.
	forced := cfg
	forced.Force = true
	sum, err = Run(ctx, eng, []string{dir}, forced)
	if err != nil || sum.Docs != 3 || emb.Texts() != first || sum.CacheHits != int(first) {
		t.Fatalf("forced re-run: %+v %v, embedded %d more", sum, err, emb.Texts()-first)
	}
	// One changed file: only its new chunk text is embedded.
	if err := os.WriteFile(filepath.Join(dir, "c.txt"), []byte("Gamma changed entirely."), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err = Run(ctx, eng, []string{dir}, cfg)
	if err != nil || sum.Docs != 1 || emb.Texts() != first+1 {
		t.Fatalf("changed file: %+v %v, embedded %d more", sum, err, emb.Texts()-first)
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
	cfg := Config{Embedder: embedtest.NewHash("counting", 4), Chunk: ChunkOptions{Size: 1000, Overlap: 100}}
	fitChunks(&cfg)
	if cfg.Chunk.Size != 512 || cfg.Chunk.Overlap != 51 {
		t.Fatalf("chunks not cut to the model's 512 tokens: %+v", cfg.Chunk)
	}
}
