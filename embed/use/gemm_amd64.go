//go:build amd64 && !purego

package use

import "golang.org/x/sys/cpu"

// The assembly kernels (gemm_amd64.s): with AVX-512F a 12 x 16 block per
// call, or 12 x 32 over two panels; with AVX2+FMA a 6 x 16 block; without
// either the Go kernel runs.
var (
	hasAVX512 = cpu.X86.HasAVX512F
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// kernelRows is the number of output rows per kernel call.
var kernelRows = func() int {
	if hasAVX512 {
		return 12
	}
	return 6
}()

// kernel6x16 and kernel12x16 are kernelGo in assembly. The caller
// guarantees the bounds: A has 6 (12) rows of k, B k rows of 16, C 6 (12)
// rows of 16.
//
//go:noescape
func kernel6x16(k int, a *float32, lda int, b *float32, c *float32, ldc int, acc bool)

//go:noescape
func kernel12x16(k int, a *float32, lda int, b *float32, c *float32, ldc int, acc bool)

// kernel12x32 is kernel12x16 over two panels at once: C (12 x 32) =
// [C +] A * [b0 | b1]. Same bounds as kernel12x16, for each panel.
//
//go:noescape
func kernel12x32(k int, a *float32, lda int, b0, b1 *float32, c *float32, ldc int, acc bool)

// hasWideKernel reports whether kernelWide may be called.
func hasWideKernel() bool { return hasAVX512 }

// kernelWide computes a kernelRows x 32 block of C from two packed panel
// slices b0 and b1 (the columns of b0, then those of b1).
func kernelWide(k int, a []float32, lda int, b0, b1 []float32, c []float32, ldc int, acc bool) {
	_ = a[(kernelRows-1)*lda+k-1]
	_ = b0[k*panelWidth-1]
	_ = b1[k*panelWidth-1]
	_ = c[(kernelRows-1)*ldc+2*panelWidth-1]
	kernel12x32(k, &a[0], lda, &b0[0], &b1[0], &c[0], ldc, acc)
}

func kernel(k int, a []float32, lda int, b []float32, c []float32, ldc int, acc bool) {
	if hasAVX512 || hasAVX2 {
		_ = a[(kernelRows-1)*lda+k-1]
		_ = b[k*panelWidth-1]
		_ = c[(kernelRows-1)*ldc+panelWidth-1]
		if hasAVX512 {
			kernel12x16(k, &a[0], lda, &b[0], &c[0], ldc, acc)
		} else {
			kernel6x16(k, &a[0], lda, &b[0], &c[0], ldc, acc)
		}
		return
	}
	kernelGo(k, a, lda, b, c, ldc, acc)
}

// kernelName reports which kernel runs, for benchmarks and reports.
func kernelName() string {
	switch {
	case hasAVX512:
		return "avx512"
	case hasAVX2:
		return "avx2-fma"
	}
	return "go"
}
