package ann

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"testing"

	"github.com/ragd/ragd/data"
)

// clustered returns n seeded points around 20 Gaussian centres.
func clustered(seed int64, n, dims int) [][]float32 {
	r := rand.New(rand.NewSource(seed))
	centres := make([][]float32, 20)
	for i := range centres {
		centres[i] = make([]float32, dims)
		for j := range centres[i] {
			centres[i][j] = float32(r.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.Intn(len(centres))]
		v := make([]float32, dims)
		for j := range v {
			v[j] = c[j] + float32(r.NormFloat64()*0.5)
		}
		out[i] = v
	}
	return out
}

func itemID(i int) string { return fmt.Sprintf("v%06d", i) }

func items(vs [][]float32, meta func(i int) map[string]any) []Item {
	out := make([]Item, len(vs))
	for i, v := range vs {
		out[i] = Item{ID: itemID(i), Vector: v}
		if meta != nil {
			out[i].Metadata = meta(i)
		}
	}
	return out
}

// bruteTopK is an independent exact search in float64.
func bruteTopK(m data.Metric, vs [][]float32, q []float32, k int, allow func(i int) bool) []string {
	type sc struct {
		i int
		s float64
	}
	var all []sc
	qn := norm64(q)
	for i, v := range vs {
		if allow != nil && !allow(i) {
			continue
		}
		var dot, l2 float64
		for j := range v {
			dot += float64(v[j]) * float64(q[j])
			d := float64(v[j]) - float64(q[j])
			l2 += d * d
		}
		s := dot
		switch m {
		case data.Cosine:
			s = dot / (norm64(v) * qn)
		case data.L2:
			s = -math.Sqrt(l2)
		}
		all = append(all, sc{i, s})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].s > all[b].s })
	out := []string{}
	for i := 0; i < k && i < len(all); i++ {
		out = append(out, itemID(all[i].i))
	}
	return out
}

func norm64(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func recall(got []Result, want []string) float64 {
	if len(want) == 0 {
		return 1
	}
	set := map[string]bool{}
	for _, w := range want {
		set[w] = true
	}
	hit := 0
	for _, g := range got {
		if set[g.ID] {
			hit++
		}
	}
	return float64(hit) / float64(len(want))
}

type searcher interface {
	Search(ctx context.Context, q []float32, opts SearchOptions) ([]Result, error)
}

// meanRecall runs every query and compares with the brute-force answer.
func meanRecall(t *testing.T, ix searcher, m data.Metric, vs, qs [][]float32, opts SearchOptions, allow func(int) bool) float64 {
	t.Helper()
	var sum float64
	for _, q := range qs {
		got, err := ix.Search(context.Background(), q, opts)
		if err != nil {
			t.Fatal(err)
		}
		sum += recall(got, bruteTopK(m, vs, q, opts.K, allow))
	}
	return sum / float64(len(qs))
}

func mustNew(t testing.TB, cfg Config) *Index {
	t.Helper()
	ix, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}
