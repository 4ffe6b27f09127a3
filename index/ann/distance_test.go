package ann

import (
	"math"
	"math/rand"
	"testing"

	"github.com/ragd/ragd/data"
)

func TestDotI8(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{1, 7, 15, 16, 17, 31, 32, 33, 64, 100, 384, 385} {
		a, b := make([]int8, n), make([]int8, n)
		for i := range a {
			a[i], b[i] = int8(r.Intn(255)-127), int8(r.Intn(255)-127)
		}
		a[n-1], b[n-1] = -127, -127 // extremes
		var want int32
		for i := range a {
			want += int32(a[i]) * int32(b[i])
		}
		if got := dotI8(a, b); got != want {
			t.Fatalf("n=%d: dotI8 = %d, want %d", n, got, want)
		}
		if got := dotI8Go(a, b); got != want {
			t.Fatalf("n=%d: dotI8Go = %d, want %d", n, got, want)
		}
	}
}

func TestQuantizedDistanceClose(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for _, m := range []data.Metric{data.Cosine, data.L2} {
		for trial := 0; trial < 50; trial++ {
			a, b := make([]float32, 384), make([]float32, 384)
			for i := range a {
				a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			if m == data.Cosine {
				normalize(a)
				normalize(b)
			}
			ca, cb := make([]int8, 384), make([]int8, 384)
			sa := quantize(ca, a)
			q := &qquery{code: cb, scale: quantize(cb, b)}
			var sqa float32
			for i := range a {
				q.sqn += b[i] * b[i]
				sqa += a[i] * a[i]
			}
			exact := dist(m, a, b)
			approx := distQ(m, q, ca, sa, sqa)
			if math.Abs(float64(exact-approx)) > 0.02*math.Max(1, math.Abs(float64(exact))) {
				t.Fatalf("%s: exact %v approx %v", m, exact, approx)
			}
		}
	}
}

func BenchmarkDotI8(b *testing.B) {
	x, y := make([]int8, 384), make([]int8, 384)
	for i := range x {
		x[i], y[i] = int8(i), int8(-i)
	}
	b.Run("avx2", func(b *testing.B) {
		for b.Loop() {
			dotI8(x, y)
		}
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			dotI8Go(x, y)
		}
	})
}
