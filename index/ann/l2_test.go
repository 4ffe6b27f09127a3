package ann

import (
	"context"
	"testing"

	"github.com/ragd/ragd/data"
)

// Euclidean scores are exact distances whatever the CPU's SIMD square
// root: sqrt(9) is 3, not 2.9999998 (vek's AVX kernel on Intel Xeons).
func TestL2ScoresAreExact(t *testing.T) {
	ctx := context.Background()
	ix := mustNew(t, Config{Dims: 9, Metric: data.L2})
	a := make([]float32, 9)
	b := make([]float32, 9)
	a[1], b[0], b[1] = 3, 4, 3
	if err := ix.Upsert(ctx, []Item{{ID: "a", Vector: a}, {ID: "b", Vector: b}}); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(ctx, make([]float32, 9), SearchOptions{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].ID != "a" || res[0].Score != -3 || res[1].ID != "b" || res[1].Score != -5 {
		t.Fatalf("got %+v, want a at distance 3 then b at 5", res)
	}
}
