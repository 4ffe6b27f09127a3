package ann

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

//go:noescape
func dotI8AVX2(a, b *int8, n int) int32

// dotI8 is the integer dot product of two int8 codes of equal length.
func dotI8(a, b []int8) int32 {
	n := len(a)
	b = b[:n]
	if !hasAVX2 || n < 16 {
		return dotI8Go(a, b)
	}
	m := n &^ 15
	s := dotI8AVX2(&a[0], &b[0], m)
	if m < n {
		s += dotI8Go(a[m:], b[m:])
	}
	return s
}
