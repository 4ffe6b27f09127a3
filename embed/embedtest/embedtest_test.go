package embedtest

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/ragd/ragd/embed"
)

func cos(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}

func TestBagOfWords(t *testing.T) {
	a, b, c := BagOfWords("Bake the bread", 64), BagOfWords("bread: bake it!", 64), BagOfWords("stock market falls", 64)
	if math.Abs(cos(a, a)-1) > 1e-6 {
		t.Errorf("not unit: %v", cos(a, a))
	}
	if cos(a, b) <= cos(a, c) || cos(a, b) < 0.6 {
		t.Errorf("shared words cos %.2f, unrelated %.2f", cos(a, b), cos(a, c))
	}
	if e := BagOfWords("  ...  ", 8); e[0] != 1 || cos(e, e) != 1 {
		t.Errorf("empty text: %v", e)
	}
	if !slices.Equal(BagOfWords("x y", 16), BagOfWords("Y X", 16)) {
		t.Error("order or case changed the vector")
	}
}

func TestFakesCountAndHonourContext(t *testing.T) {
	for _, e := range []*Embedder{NewHash("hash", 64), NewUnit("u8", 8)} {
		info := e.Info()
		vs, err := e.Embed(context.Background(), embed.Passage, []string{"a b", "c", "a b"})
		if err != nil || len(vs) != 3 || len(vs[0]) != info.Dims || !slices.Equal(vs[0], vs[2]) || slices.Equal(vs[0], vs[1]) {
			t.Fatalf("%s: %v %v", info.ID, vs, err)
		}
		if e.Texts() != 3 || e.Calls() != 1 {
			t.Errorf("%s: texts %d calls %d", info.ID, e.Texts(), e.Calls())
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.Embed(ctx, embed.Query, []string{"x"}); err == nil || e.Texts() != 3 {
			t.Errorf("%s: cancelled call: %v, texts %d", info.ID, err, e.Texts())
		}
	}
	if h := NewHash("h", 16).Info(); h.ID != "h" || h.Dims != 16 || !h.Normalized {
		t.Errorf("NewHash info %+v", h)
	}
}
