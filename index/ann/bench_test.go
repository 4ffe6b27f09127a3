package ann

import (
	"context"
	"flag"
	"math/rand"
	"testing"
)

var benchN = flag.Int("bench.n", 20000, "vectors for BenchmarkBuild/BenchmarkSearch")

func benchData(n, dims int, seed int64) [][]float32 {
	r := rand.New(rand.NewSource(seed))
	centres := make([][]float32, 100)
	for i := range centres {
		centres[i] = make([]float32, dims)
		for j := range centres[i] {
			centres[i][j] = float32(r.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.Intn(100)]
		v := make([]float32, dims)
		for j := range v {
			v[j] = c[j] + float32(r.NormFloat64()*0.5)
		}
		out[i] = v
	}
	return out
}

// BenchmarkBuild inserts -bench.n 384-d vectors with two workers.
func BenchmarkBuild(b *testing.B) {
	vs := benchData(*benchN, 384, 1)
	its := items(vs, nil)
	for b.Loop() {
		ix := mustNew(b, Config{Dims: 384, Workers: 2})
		if err := ix.Upsert(context.Background(), its); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(vs)*b.N)/b.Elapsed().Seconds(), "inserts/s")
}

func BenchmarkSearch(b *testing.B) {
	vs := benchData(*benchN, 384, 1)
	qs := benchData(200, 384, 2)
	for _, quant := range []bool{false, true} {
		ix := mustNew(b, Config{Dims: 384, Workers: 2, Quantize: quant, ExactBelow: -1})
		if err := ix.Upsert(context.Background(), items(vs, nil)); err != nil {
			b.Fatal(err)
		}
		name := "float"
		if quant {
			name = "int8"
		}
		for _, ef := range []int{32, 128} {
			b.Run(name+"/ef"+itoa(ef), func(b *testing.B) {
				i := 0
				for b.Loop() {
					ix.Search(context.Background(), qs[i%len(qs)], SearchOptions{K: 10, Ef: ef})
					i++
				}
			})
		}
	}
}

func BenchmarkExact(b *testing.B) {
	vs := benchData(*benchN, 384, 1)
	f, _ := NewFlat(Config{Dims: 384})
	f.Upsert(context.Background(), items(vs, nil))
	q := benchData(1, 384, 2)[0]
	for b.Loop() {
		f.Search(context.Background(), q, SearchOptions{K: 10})
	}
}

func itoa(i int) string {
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

// BenchmarkLoad saves and loads a -bench.n x 384 flat index (the same
// vector slab path as the graph index, without the build time).
func BenchmarkLoad(b *testing.B) {
	vs := benchData(*benchN, 384, 1)
	f, _ := NewFlat(Config{Dims: 384})
	if err := f.Upsert(context.Background(), items(vs, nil)); err != nil {
		b.Fatal(err)
	}
	path := b.TempDir() + "/x.ann"
	if err := f.Save(path); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := LoadFlat(path); err != nil {
			b.Fatal(err)
		}
	}
}
