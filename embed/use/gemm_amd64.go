//go:build amd64 && !purego

package use

import "golang.org/x/sys/cpu"

// hasAVX2 selects the assembly kernel; without AVX2 and FMA the Go kernel
// runs.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x16 is kernelGo in AVX2+FMA assembly (gemm_amd64.s). The caller
// guarantees the bounds: A has 6 rows of k, B k rows of 16, C 6 rows of 16.
//
//go:noescape
func kernel6x16(k int, a *float32, lda int, b *float32, c *float32, ldc int, acc bool)

func kernel(k int, a []float32, lda int, b []float32, c []float32, ldc int, acc bool) {
	if hasAVX2 {
		_ = a[(kernelRows-1)*lda+k-1]
		_ = b[k*panelWidth-1]
		_ = c[(kernelRows-1)*ldc+panelWidth-1]
		kernel6x16(k, &a[0], lda, &b[0], &c[0], ldc, acc)
		return
	}
	kernelGo(k, a, lda, b, c, ldc, acc)
}

// kernelName reports which kernel runs, for benchmarks and reports.
func kernelName() string {
	if hasAVX2 {
		return "avx2-fma"
	}
	return "go"
}
