package api_test

import (
	"net/http"
	"testing"
)

// Re-posting unchanged documents (metadata included) writes, chunks and
// embeds nothing: the hash check runs before any model work. A changed
// text is embedded again, alone.
func TestPutDocumentsSkipsUnchangedBeforeEmbedding(t *testing.T) {
	e := newEnv(t, nil)
	e.seed("vec", "hash")
	before := int(e.models.hash.Texts())
	var put struct {
		Written, Skipped, Chunks, Embedded int
		CacheHits                          int `json:"cache_hits"`
	}
	e.mustJSON("POST", "/v1/indexes/vec/documents", map[string]any{"documents": corpus}, http.StatusOK, &put)
	// Not even the embedding cache is asked (cache_hits 0): the
	// documents are never chunked.
	if put.Written != 0 || put.Skipped != len(corpus) || put.Chunks != 0 || put.Embedded != 0 || put.CacheHits != 0 || int(e.models.hash.Texts()) != before {
		t.Fatalf("unchanged re-post: %+v, embedder saw %d more texts", put, int(e.models.hash.Texts())-before)
	}
	changed := map[string]any{"id": "bread", "title": "Baking bread", "text": "Bread needs flour, water and time.",
		"metadata": map[string]any{"year": 2020, "lang": "en"}}
	e.mustJSON("POST", "/v1/indexes/vec/documents", map[string]any{"documents": []any{changed}}, http.StatusOK, &put)
	if put.Written != 1 || put.Embedded != 1 || int(e.models.hash.Texts()) != before+1 {
		t.Fatalf("changed text: %+v, embedder saw %d more texts", put, int(e.models.hash.Texts())-before)
	}
}
