package openaiwire

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// The hand-written float array is byte for byte what encoding/json writes
// for the same []float32.
func TestEmbeddingVectorMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.1, 1e-6, 9.9999e-7, 1e-7, -3.4e-9, 1e20, 1e21, 1.5e21,
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 123456789, 0.000123}
	for range 5000 {
		switch r.IntN(3) {
		case 0:
			vals = append(vals, float32(r.NormFloat64()))
		case 1:
			vals = append(vals, math.Float32frombits(r.Uint32()&^(0xff<<23)|uint32(r.IntN(254)+1)<<23))
		default:
			vals = append(vals, float32(r.Float64()*1e-5))
		}
	}
	for _, n := range []int{0, 1, 3, len(vals)} {
		v := vals[:n]
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(EmbeddingVector{Values: v})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("n=%d:\n got %.200s\nwant %.200s", n, got, want)
		}
	}
	if _, err := json.Marshal(EmbeddingVector{Values: []float32{1, float32(math.NaN())}}); err == nil {
		t.Fatal("NaN was written")
	}
}
