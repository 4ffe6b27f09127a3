package unitvec

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/ragd/ragd/embed"
)

func norm(v []float32) float64 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	return math.Sqrt(n)
}

func TestFromSeed(t *testing.T) {
	for _, dims := range []int{1, 3, 384} {
		a, b := FromSeed(42, dims), FromSeed(42, dims)
		if !slices.Equal(a, b) || len(a) != dims {
			t.Fatalf("dims %d: not deterministic", dims)
		}
		if n := norm(a); math.Abs(n-1) > 1e-5 {
			t.Errorf("dims %d: norm %v", dims, n)
		}
	}
	if slices.Equal(FromSeed(1, 8), FromSeed(2, 8)) {
		t.Error("seeds 1 and 2 give the same vector")
	}
	if len(FromSeed(1, 0)) != 0 {
		t.Error("dims 0")
	}
}

func TestForText(t *testing.T) {
	if !slices.Equal(ForText(16, "hello"), ForText(16, "hello")) {
		t.Fatal("not deterministic")
	}
	if slices.Equal(ForText(16, "ab", "c"), ForText(16, "a", "bc")) {
		t.Error("parts are not separated")
	}
	if slices.Equal(ForText(16, "hello"), ForText(16, "hellp")) {
		t.Error("different texts, same vector")
	}
	// Random unit vectors in 384 dimensions are nearly orthogonal.
	var dot float64
	a, b := ForText(384, "one"), ForText(384, "two")
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	if math.Abs(dot) > 0.3 {
		t.Errorf("cosine of unrelated texts %v", dot)
	}
}

func TestEmbedder(t *testing.T) {
	e := Embedder{Dims: 32}
	if info := e.Info(); info.ID != "synthetic-32" || info.Dims != 32 || !info.Normalized {
		t.Errorf("info %+v", info)
	}
	vs, err := e.Embed(context.Background(), embed.Query, []string{"a", "b", "a"})
	if err != nil || len(vs) != 3 || !slices.Equal(vs[0], vs[2]) || slices.Equal(vs[0], vs[1]) || !slices.Equal(vs[0], ForText(32, "a")) {
		t.Fatalf("Embed: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, embed.Passage, []string{"x"}); err == nil {
		t.Error("cancelled context embedded")
	}
}
