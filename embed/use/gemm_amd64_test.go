//go:build amd64 && !purego

package use

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAssemblyKernels runs the gemm and kernel tests once per assembly
// kernel this CPU supports, then restores the automatic choice.
func TestAssemblyKernels(t *testing.T) {
	save512, save2, saveRows := hasAVX512, hasAVX2, kernelRows
	defer func() { hasAVX512, hasAVX2, kernelRows = save512, save2, saveRows }()
	modes := []struct {
		name       string
		avx512, ok bool
		rows       int
	}{
		{"avx2-fma", false, save2, 6},
		{"avx512", true, save512, 12},
		{"go-6", false, true, 6},
		{"go-12", false, true, 12},
	}
	for _, md := range modes {
		if !md.ok {
			t.Logf("%s: not supported by this CPU", md.name)
			continue
		}
		hasAVX512, kernelRows = md.avx512, md.rows
		hasAVX2 = save2 && md.name == "avx2-fma"
		t.Run(md.name, func(t *testing.T) {
			if got := kernelName(); (md.name == "avx2-fma" || md.name == "avx512") && got != md.name {
				t.Fatalf("kernel %s selected, want %s", got, md.name)
			}
			TestGemm(t)
			TestGemmTransposed(t)
			TestKernelMatchesGo(t)
		})
	}
}

// The two-panel AVX-512 kernel gives bit for bit what the one-panel kernel
// gives for each panel: the same products summed in the same order.
func TestWideKernelMatchesNarrow(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512F")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{1, 7, 64, 256} {
		for _, acc := range []bool{false, true} {
			lda, ldc := k+5, 2*panelWidth+3
			a := randMatrix(r, 12*lda)
			b0, b1 := randMatrix(r, k*panelWidth), randMatrix(r, k*panelWidth)
			init := randMatrix(r, 12*ldc)
			wide, narrow := slices.Clone(init), slices.Clone(init)
			kernelWide(k, a, lda, b0, b1, wide, ldc, acc)
			kernel(k, a, lda, b0, narrow, ldc, acc)
			kernel(k, a, lda, b1, narrow[panelWidth:], ldc, acc)
			for i := range wide {
				if math.Float32bits(wide[i]) != math.Float32bits(narrow[i]) {
					t.Fatalf("k=%d acc=%v: element %d (row %d col %d) %v != %v", k, acc, i, i/ldc, i%ldc, wide[i], narrow[i])
				}
			}
		}
	}
	// And through gemm, on a shape with an odd panel count and tail rows.
	m, k, n := 29, 300, 80
	a := randMatrix(r, m*k)
	w := randMatrix(r, k*n)
	var p panels
	packPanels(&p, w, k, n, n)
	got, want := make([]float32, m*p.n), make([]float32, m*p.n)
	gemm(m, k, a, k, &p, got, p.n, false)
	defer func(w bool) { wideKernels = w }(wideKernels)
	wideKernels = false
	gemm(m, k, a, k, &p, want, p.n, false)
	if !slices.Equal(got, want) {
		t.Fatal("gemm with the wide kernel differs from gemm without it")
	}
}
