//go:build amd64 && !purego

package use

import "testing"

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
