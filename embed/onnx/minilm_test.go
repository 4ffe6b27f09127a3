package onnx

import (
	"context"
	"testing"

	"github.com/ragd/ragd/embed"
)

// TestMiniLMShapeMatchesGo proves the benchmark model (6 × 384, 12 heads)
// computes the same BERT as the Go forward pass, through the full pipeline.
func TestMiniLMShapeMatchesGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 90 MB model; skipped with -short")
	}
	cfg := testConfig(t)
	dir, w := miniLMDir(t)
	e, err := NewEmbedder(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if info := e.Info(); info.Dims != 384 || info.MaxTokens != 128 || e.Pooling() != PoolMean {
		t.Fatalf("info %+v pooling %s", info, e.Pooling())
	}
	texts := []string{"Heat transfer in hypersonic flow.", "a wing"}
	got, err := e.Embed(context.Background(), embed.Query, texts)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, enc := range e.Encode(embed.Query, texts) {
		worst = max(worst, maxAbsDiff(t, got[i], goEmbedding(t, w, enc, PoolMean)))
	}
	t.Logf("MiniLM-shaped: max |Δ| = %.2e", worst)
	if worst > tolerance {
		t.Fatalf("max |Δ| = %g > %g", worst, tolerance)
	}
}
