package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
	"github.com/ragd/ragd/internal/unitvec"
	"github.com/ragd/ragd/rag"
)

// noCacheBackend is a backend without an embedding cache of its own, as
// Weaviate is.
type noCacheBackend struct{ index.Backend }

// A backend without its own embedding cache gets one beside it, so that
// text embedded once (here in another index) is not embedded again; a
// cache another process holds is skipped, not an error.
func TestSideEmbeddingCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	eng, err := index.Open(ctx, index.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	log := slog.New(slog.DiscardHandler)
	if openSideCache(eng, dir, log) != nil {
		t.Fatal("the embedded engine has its own cache; no side cache wanted")
	}
	b := noCacheBackend{eng}
	cache := openSideCache(b, dir, log)
	if cache == nil {
		t.Fatal("no side cache for a backend without one")
	}
	defer cache.Close()
	if again := openSideCache(b, dir, log); again != nil {
		again.Close()
		t.Fatal("a held cache opened twice")
	}
	se := unitvec.Embedder{Dims: 8}
	svc, err := rag.New(rag.Config{Backend: b, Models: syntheticModels{se}, Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	docs := []data.Document{{ID: "a", Text: "alpha beta gamma"}, {ID: "b", Text: "delta epsilon"}}
	for i, name := range []string{"one", "two"} {
		if _, err := svc.CreateIndex(ctx, data.IndexConfig{Name: name, Model: se.Info().ID}); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Ingest(ctx, name, append([]data.Document(nil), docs...), rag.IngestOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && (res.Embedded != 0 || res.CacheHits != 2) {
			t.Fatalf("second index embedded again: %+v", res.Summary)
		}
	}
}
