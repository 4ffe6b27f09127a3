package use

// This file holds the float32 matrix product used by every dense layer and
// by attention. The right-hand matrix is packed once into panels of
// panelWidth columns (for weights: at load time) so the inner kernel reads it
// contiguously; the kernel computes a kernelRows x panelWidth block of the
// output with all accumulators in registers (AVX2+FMA assembly on amd64,
// plain Go elsewhere).

const (
	panelWidth    = 16  // columns per packed panel
	maxKernelRows = 12  // most output rows of any kernel
	kBlock        = 256 // depth processed per pass (a panel slice stays in L1)
	mBlock        = 384 // rows per pass over the panels (an A block of 384 x 256 floats stays in L2, so a batch of short texts streams each weight panel once); a multiple of every kernel's rows
)

// wideKernels lets gemm use the two-panel kernel where the CPU has one;
// tests and benchmarks turn it off to compare with the one-panel kernel.
var wideKernels = true

// panels is a K x N matrix packed for gemm: panel p holds columns
// [16p, 16p+16) as K consecutive rows of 16 floats. N is a multiple of 16
// (missing columns are zero).
type panels struct {
	k, n int
	data []float32
}

// packPanels packs the row-major k x n matrix b (row stride ldb) into p,
// reusing p.data when it is large enough. Columns past n, up to the next
// multiple of 16, are zero.
func packPanels(p *panels, b []float32, k, n, ldb int) {
	np := (n + panelWidth - 1) / panelWidth
	size := np * k * panelWidth
	if cap(p.data) < size {
		p.data = make([]float32, size)
	}
	p.data = p.data[:size]
	p.k, p.n = k, np*panelWidth
	for q := 0; q < np; q++ {
		dst := p.data[q*k*panelWidth : (q+1)*k*panelWidth]
		c0 := q * panelWidth
		w := min(panelWidth, n-c0)
		for kk := 0; kk < k; kk++ {
			row := dst[kk*panelWidth : (kk+1)*panelWidth]
			copy(row[:w], b[kk*ldb+c0:kk*ldb+c0+w])
			clear(row[w:])
		}
	}
}

// packTransposed packs the transpose of the row-major n x k matrix b (row
// stride ldb): the result is k x n, so gemm with it computes A * b^T.
func packTransposed(p *panels, b []float32, n, k, ldb int) {
	np := (n + panelWidth - 1) / panelWidth
	size := np * k * panelWidth
	if cap(p.data) < size {
		p.data = make([]float32, size)
	}
	p.data = p.data[:size]
	p.k, p.n = k, np*panelWidth
	clear(p.data)
	for j := 0; j < n; j++ {
		q, jj := j/panelWidth, j%panelWidth
		dst := p.data[q*k*panelWidth:]
		src := b[j*ldb : j*ldb+k]
		for kk, v := range src {
			dst[kk*panelWidth+jj] = v
		}
	}
}

// gemm computes C = A * B, or C += A * B when accumulate is set, for the
// first k columns of the matrix A (m rows, row stride lda) and the first k
// rows of B, into the m x b.n matrix C (row stride ldc).
func gemm(m, k int, a []float32, lda int, b *panels, c []float32, ldc int, accumulate bool) {
	if m <= 0 || b.n == 0 {
		return
	}
	if k <= 0 {
		if accumulate {
			return
		}
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+b.n])
		}
		return
	}
	if k > b.k || lda < k || ldc < b.n ||
		len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+b.n {
		panic("use: gemm dimensions out of range") // internal invariant
	}
	np := b.n / panelWidth
	var tailA [maxKernelRows * kBlock]float32
	var tailC [maxKernelRows * panelWidth]float32
	full := m - m%kernelRows
	wide := wideKernels && hasWideKernel()
	for k0 := 0; k0 < k; k0 += kBlock {
		kb := min(kBlock, k-k0)
		acc := accumulate || k0 > 0
		for i0 := 0; i0 < full; i0 += mBlock {
			i1 := min(i0+mBlock, full)
			for q := 0; q < np; {
				bp := b.data[q*b.k*panelWidth+k0*panelWidth:]
				if wide && q+1 < np {
					// Two panels per call: each A value loaded once for 32 columns.
					bp1 := b.data[(q+1)*b.k*panelWidth+k0*panelWidth:]
					for i := i0; i < i1; i += kernelRows {
						kernelWide(kb, a[i*lda+k0:], lda, bp, bp1, c[i*ldc+q*panelWidth:], ldc, acc)
					}
					q += 2
					continue
				}
				for i := i0; i < i1; i += kernelRows {
					kernel(kb, a[i*lda+k0:], lda, bp, c[i*ldc+q*panelWidth:], ldc, acc)
				}
				q++
			}
		}
		if rows := m - full; rows > 0 {
			// Tail rows: run the kernel on a zero-padded copy.
			clear(tailA[:kernelRows*kb])
			for r := 0; r < rows; r++ {
				copy(tailA[r*kb:r*kb+kb], a[(full+r)*lda+k0:])
			}
			for q := 0; q < np; q++ {
				bp := b.data[q*b.k*panelWidth+k0*panelWidth:]
				if acc {
					for r := 0; r < rows; r++ {
						copy(tailC[r*panelWidth:(r+1)*panelWidth], c[(full+r)*ldc+q*panelWidth:])
					}
				}
				kernel(kb, tailA[:], kb, bp, tailC[:], panelWidth, acc)
				for r := 0; r < rows; r++ {
					copy(c[(full+r)*ldc+q*panelWidth:], tailC[r*panelWidth:(r+1)*panelWidth])
				}
			}
		}
	}
}

// kernelGo computes a kernelRows x 16 block: C (row stride ldc) = [C +]
// A * B, with A kernelRows x k (row stride lda) and B one packed panel slice
// (k rows of 16).
func kernelGo(k int, a []float32, lda int, b []float32, c []float32, ldc int, acc bool) {
	var sum [maxKernelRows][panelWidth]float32
	if acc {
		for r := 0; r < kernelRows; r++ {
			copy(sum[r][:], c[r*ldc:r*ldc+panelWidth])
		}
	}
	b = b[:k*panelWidth]
	for r := 0; r < kernelRows; r++ {
		row := a[r*lda : r*lda+k]
		s := &sum[r]
		for kk, av := range row {
			bb := (*[panelWidth]float32)(b[kk*panelWidth : kk*panelWidth+panelWidth])
			s[0] += av * bb[0]
			s[1] += av * bb[1]
			s[2] += av * bb[2]
			s[3] += av * bb[3]
			s[4] += av * bb[4]
			s[5] += av * bb[5]
			s[6] += av * bb[6]
			s[7] += av * bb[7]
			s[8] += av * bb[8]
			s[9] += av * bb[9]
			s[10] += av * bb[10]
			s[11] += av * bb[11]
			s[12] += av * bb[12]
			s[13] += av * bb[13]
			s[14] += av * bb[14]
			s[15] += av * bb[15]
		}
	}
	for r := 0; r < kernelRows; r++ {
		copy(c[r*ldc:r*ldc+panelWidth], sum[r][:])
	}
}
