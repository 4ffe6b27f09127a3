package use

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randMatrix(r *rand.Rand, n int) []float32 {
	m := make([]float32, n)
	for i := range m {
		m[i] = float32(r.NormFloat64())
	}
	return m
}

// naiveMul is the textbook triple loop in float64.
func naiveMul(m, k, n int, a []float32, lda int, b []float32, ldb int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*lda+kk]) * float64(b[kk*ldb+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct{ m, k, n int }{
		{1, 1, 16}, {5, 3, 16}, {6, 7, 32}, {7, 256, 16}, {13, 257, 48},
		{100, 600, 64}, {97, 512, 20}, {2, 1536, 512},
	}
	for _, tc := range cases {
		lda := tc.k + 3
		a := randMatrix(r, tc.m*lda)
		b := randMatrix(r, tc.k*tc.n)
		var p panels
		packPanels(&p, b, tc.k, tc.n, tc.n)
		ldc := p.n + 5
		c := randMatrix(r, tc.m*ldc) // garbage must be overwritten
		gemm(tc.m, tc.k, a, lda, &p, c, ldc, false)
		want := naiveMul(tc.m, tc.k, tc.n, a, lda, b, tc.n)
		for i := 0; i < tc.m; i++ {
			for j := 0; j < p.n; j++ {
				w := 0.0
				if j < tc.n {
					w = want[i*tc.n+j]
				}
				if d := math.Abs(float64(c[i*ldc+j]) - w); d > 1e-4*math.Sqrt(float64(tc.k))*4 {
					t.Fatalf("m=%d k=%d n=%d: C[%d,%d] = %v, want %v", tc.m, tc.k, tc.n, i, j, c[i*ldc+j], w)
				}
			}
		}
	}
}

func TestGemmTransposed(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m, k, n := 11, 64, 37
	a := randMatrix(r, m*k)
	bt := randMatrix(r, n*k) // n x k, used as its transpose
	var p panels
	packTransposed(&p, bt, n, k, k)
	c := make([]float32, m*p.n)
	gemm(m, k, a, k, &p, c, p.n, false)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*k+kk]) * float64(bt[j*k+kk])
			}
			if math.Abs(float64(c[i*p.n+j])-s) > 1e-3 {
				t.Fatalf("C[%d,%d] = %v, want %v", i, j, c[i*p.n+j], s)
			}
		}
		for j := n; j < p.n; j++ {
			if c[i*p.n+j] != 0 {
				t.Fatalf("padding column %d = %v, want 0", j, c[i*p.n+j])
			}
		}
	}
}

// TestKernelMatchesGo checks the platform kernel against the portable one,
// with and without accumulation.
func TestKernelMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{1, 2, 17, 256} {
		for _, acc := range []bool{false, true} {
			lda, ldc := k+1, 20
			a := randMatrix(r, kernelRows*lda)
			b := randMatrix(r, k*panelWidth)
			c1 := randMatrix(r, kernelRows*ldc)
			c2 := append([]float32(nil), c1...)
			kernel(k, a, lda, b, c1, ldc, acc)
			kernelGo(k, a, lda, b, c2, ldc, acc)
			for i := range c1 {
				if math.Abs(float64(c1[i]-c2[i])) > 1e-3 {
					t.Fatalf("%s kernel k=%d acc=%v: [%d] %v vs go %v", kernelName(), k, acc, i, c1[i], c2[i])
				}
			}
		}
	}
}
