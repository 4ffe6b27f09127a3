//go:build !amd64 || purego

package use

// kernelRows is the number of output rows per kernel call.
var kernelRows = 6

func kernel(k int, a []float32, lda int, b []float32, c []float32, ldc int, acc bool) {
	kernelGo(k, a, lda, b, c, ldc, acc)
}

// kernelName reports which kernel runs, for benchmarks and reports.
func kernelName() string { return "go" }

// hasWideKernel reports whether kernelWide may be called: never here.
func hasWideKernel() bool { return false }

func kernelWide(k int, a []float32, lda int, b0, b1 []float32, c []float32, ldc int, acc bool) {
	kernelGo(k, a, lda, b0, c, ldc, acc)
	kernelGo(k, a, lda, b1, c[panelWidth:], ldc, acc)
}
