package embedtest

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"sync/atomic"
	"unicode"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/internal/unitvec"
)

// BagOfWords is a deterministic bag-of-words embedding: each lower-cased
// word (a run of letters and digits) adds 1 to the bucket its FNV-1a hash
// picks; the result is L2-normalised. Texts that share words get a high
// cosine, unrelated texts a low one. A text without words maps to the
// first unit vector.
func BagOfWords(text string, dims int) []float32 {
	v := make([]float32, dims)
	if dims == 0 {
		return v
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%uint32(dims)]++
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		v[0] = 1
		return v
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// counter counts embedded texts and calls.
type counter struct{ texts, calls atomic.Int64 }

// Texts is how many texts were embedded.
func (c *counter) Texts() int64 { return c.texts.Load() }

// Calls is how many Embed calls were made.
func (c *counter) Calls() int64 { return c.calls.Load() }

func (c *counter) embed(ctx context.Context, texts []string, vec func(string) []float32) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.calls.Add(1)
	c.texts.Add(int64(len(texts)))
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = vec(t)
	}
	return out, nil
}

// Hash embeds with BagOfWords. Safe for concurrent use.
type Hash struct {
	ID   string // default "hash"
	Dims int    // default 64
	counter
}

var _ embed.Embedder = (*Hash)(nil)

// Info describes the model: normalized vectors, 512 tokens.
func (h *Hash) Info() embed.Info {
	return embed.Info{ID: def(h.ID, "hash"), Dims: defDims(h.Dims), MaxTokens: 512, Normalized: true}
}

// Embed returns the texts' BagOfWords vectors, whatever the kind; a done
// ctx fails the call.
func (h *Hash) Embed(ctx context.Context, _ embed.Kind, texts []string) ([][]float32, error) {
	dims := defDims(h.Dims)
	return h.embed(ctx, texts, func(t string) []float32 { return BagOfWords(t, dims) })
}

// Unit embeds each text as its unitvec.ForText vector: every text its own
// direction. Safe for concurrent use.
type Unit struct {
	ID   string // default "unit"
	Dims int    // default 64
	counter
}

var _ embed.Embedder = (*Unit)(nil)

// Info describes the model: normalized vectors, 512 tokens.
func (u *Unit) Info() embed.Info {
	return embed.Info{ID: def(u.ID, "unit"), Dims: defDims(u.Dims), MaxTokens: 512, Normalized: true}
}

// Embed returns the texts' unit vectors, whatever the kind; a done ctx
// fails the call.
func (u *Unit) Embed(ctx context.Context, _ embed.Kind, texts []string) ([][]float32, error) {
	dims := defDims(u.Dims)
	return u.embed(ctx, texts, func(t string) []float32 { return unitvec.ForText(dims, t) })
}

func def(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func defDims(n int) int {
	if n <= 0 {
		return 64
	}
	return n
}
