package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// useLiteNodeDir returns the npm folder holding the use-lite weights, or
// skips the test when they are not installed.
func useLiteNodeDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@energetic-ai", "model-embeddings-en")); err != nil {
		t.Skipf("use-lite weights not installed (run scripts/setup.sh): %v", err)
	}
	return dir
}

func cosine(a, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return dot / math.Sqrt(na*nb)
}

// The default model end to end: ingest embeds, hybrid search uses both
// retrievers, embed prints the vectors.
func TestUseLiteIngestSearchEmbed(t *testing.T) {
	nodeDir := useLiteNodeDir(t)
	cliEnv(t)
	t.Setenv("RAGD_NODE_DIR", nodeDir)
	t.Setenv("RAGD_MODEL", "use-lite")
	corpus := t.TempDir()
	writeFiles(t, corpus, map[string]string{
		"bread.txt":  "How to bake bread at home: mix flour, water, salt and yeast, knead, let the dough rise and bake the loaf.",
		"stocks.txt": "The stock market fell today as investors sold shares of technology companies.",
		"cats.txt":   "Cats sleep for most of the day and purr when they are content.",
	})

	var sum ingestSummary
	ragdJSON(t, &sum, "ingest", "--index", "sem", "--json", corpus)
	if sum.Docs != 3 || sum.Embedded != sum.Chunks || sum.Chunks < 3 || sum.Failed != 0 {
		t.Fatalf("ingest with use-lite: %+v", sum)
	}
	var list struct {
		Indexes []struct {
			Model string `json:"model"`
			Dims  int    `json:"dims"`
			Stats struct{ Vectors int }
		} `json:"indexes"`
	}
	ragdJSON(t, &list, "indexes", "--json")
	if len(list.Indexes) != 1 || list.Indexes[0].Model != "use-lite" || list.Indexes[0].Dims != 512 || list.Indexes[0].Stats.Vectors != sum.Chunks {
		t.Fatalf("index: %+v", list.Indexes)
	}

	// No word of the query is in the bread document: only the vector side
	// can find it.
	var res searchOut
	ragdJSON(t, &res, "search", "--index", "sem", "--mode", "hybrid", "--json", "recipe for a sourdough loaf")
	if len(res.Hits) == 0 || res.Hits[0].DocID != filepath.Join(corpus, "bread.txt") {
		t.Fatalf("hybrid search: %v", res.docIDs())
	}
	if ex := res.Hits[0].Explain; ex == nil || ex.Vector == nil || ex.Vector.Rank != 1 {
		t.Fatalf("top hit explain: %+v", res.Hits[0].Explain)
	}

	var emb struct {
		Model   string      `json:"model"`
		Dims    int         `json:"dims"`
		Vectors [][]float64 `json:"vectors"`
	}
	ragdJSON(t, &emb, "embed", "--json", "how do I bake bread", "recipe for sourdough loaf", "the stock market fell today")
	if emb.Model != "use-lite" || emb.Dims != 512 || len(emb.Vectors) != 3 {
		t.Fatalf("embed: model %q dims %d, %d vectors", emb.Model, emb.Dims, len(emb.Vectors))
	}
	for i, v := range emb.Vectors {
		if len(v) != 512 {
			t.Fatalf("vector %d has %d dims", i, len(v))
		}
	}
	related, unrelated := cosine(emb.Vectors[0], emb.Vectors[1]), cosine(emb.Vectors[0], emb.Vectors[2])
	if !(related > 0.5 && unrelated < 0.3) {
		t.Fatalf("cosine(bread, sourdough) = %.3f, cosine(bread, stocks) = %.3f; want > 0.5 and < 0.3", related, unrelated)
	}
}
