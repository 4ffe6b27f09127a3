package unitvec

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/ragd/ragd/embed"
)

// FromSeed returns a unit vector of dims normally distributed components
// drawn from a PCG generator seeded by seed: the same seed, the same vector.
func FromSeed(seed uint64, dims int) []float32 {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	v := make([]float32, dims)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	if n == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// ForText returns the unit vector seeded by the FNV-1a hash of parts,
// joined by zero bytes (so ("ab", "c") and ("a", "bc") differ).
func ForText(dims int, parts ...string) []float32 {
	h := fnv.New64a()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return FromSeed(h.Sum64(), dims)
}

// Embedder gives each text its ForText vector, whatever the kind. It is
// safe for concurrent use.
type Embedder struct{ Dims int }

var _ embed.Embedder = Embedder{}

// Info names the embedder "synthetic-<dims>".
func (s Embedder) Info() embed.Info {
	return embed.Info{ID: fmt.Sprintf("synthetic-%d", s.Dims), Dims: s.Dims, MaxTokens: 512, Normalized: true}
}

// Embed returns one vector per text.
func (s Embedder) Embed(ctx context.Context, _ embed.Kind, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = ForText(s.Dims, t)
	}
	return out, nil
}
