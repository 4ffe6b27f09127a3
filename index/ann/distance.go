package ann

import (
	"math"

	"github.com/ragd/ragd/data"
	"github.com/viterin/vek/vek32"
)

// Internally every metric is a distance, smaller is better:
// cosine and dot use -dot(a, b); euclidean uses the Euclidean distance.
// score converts back to the public, higher-is-better Result.Score.

// dist returns the distance between a and b under metric m. The dot product
// and Euclidean distance are vek's AVX2 kernels (with a Go fallback).
func dist(m data.Metric, a, b []float32) float32 {
	if m == data.L2 {
		return vek32.Distance(a, b)
	}
	return -vek32.Dot(a, b)
}

func score(m data.Metric, d float32) float32 { return -d }

// l2Exact is the Euclidean distance summed in float64 with a correctly
// rounded square root. Ranking uses vek's AVX kernel, whose square root is
// an approximation on some CPUs (2.9999998 for sqrt(9) on Intel Xeons, 3 on
// AMD EPYCs); the k scores a caller reads are recomputed with this one so
// they do not depend on the CPU.
func l2Exact(a, b []float32) float32 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return float32(math.Sqrt(s))
}

// normalize scales v to unit length in place.
func normalize(v []float32) {
	n := vek32.Norm(v)
	if n == 0 {
		return
	}
	inv := 1 / n
	for i := range v {
		v[i] *= inv
	}
}

// quantize writes the int8 code of v into dst and returns its scale:
// v[i] ~= float32(dst[i]) * scale. One scale per vector (its largest
// magnitude / 127) keeps the codes independent of any training set.
func quantize(dst []int8, v []float32) float32 {
	var mx float32
	for _, x := range v {
		if x < 0 {
			x = -x
		}
		if x > mx {
			mx = x
		}
	}
	if mx == 0 {
		clear(dst)
		return 0
	}
	scale := mx / 127
	inv := 1 / scale
	for i, x := range v {
		q := math.Round(float64(x * inv))
		if q > 127 {
			q = 127
		} else if q < -127 {
			q = -127
		}
		dst[i] = int8(q)
	}
	return scale
}

// dotI8Go is the portable integer dot product of two int8 codes,
// unrolled by eight.
func dotI8Go(a, b []int8) int32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+8 <= n; i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += int32(aa[0])*int32(bb[0]) + int32(aa[4])*int32(bb[4])
		s1 += int32(aa[1])*int32(bb[1]) + int32(aa[5])*int32(bb[5])
		s2 += int32(aa[2])*int32(bb[2]) + int32(aa[6])*int32(bb[6])
		s3 += int32(aa[3])*int32(bb[3]) + int32(aa[7])*int32(bb[7])
	}
	for ; i < n; i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// qquery is a query prepared for int8 traversal.
type qquery struct {
	code  []int8
	scale float32
	sqn   float32 // squared norm of the float query (euclidean)
}

// distQ approximates dist(query, node) from int8 codes. For euclidean it
// uses |a|^2 + |b|^2 - 2ab with exact stored squared norms.
func distQ(m data.Metric, q *qquery, code []int8, scale, sqn float32) float32 {
	d := float32(dotI8(q.code, code)) * q.scale * scale
	if m == data.L2 {
		s := q.sqn + sqn - 2*d
		if s < 0 {
			s = 0
		}
		return float32(math.Sqrt(float64(s)))
	}
	return -d
}
