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

// Embedder is a fake embed.Embedder: Vector gives each text its vector,
// whatever the kind; it counts the texts and calls, and a done ctx fails a
// call. Safe for concurrent use. Make one with NewHash or NewUnit.
type Embedder struct {
	id     string
	dims   int
	vector func(text string, dims int) []float32
	texts  atomic.Int64
	calls  atomic.Int64
}

var _ embed.Embedder = (*Embedder)(nil)

// NewHash returns an embedder of BagOfWords vectors (texts that share words
// are similar).
func NewHash(id string, dims int) *Embedder {
	return &Embedder{id: id, dims: dims, vector: BagOfWords}
}

// NewUnit returns an embedder of unitvec.ForText vectors (every text its
// own direction).
func NewUnit(id string, dims int) *Embedder {
	return &Embedder{id: id, dims: dims, vector: func(t string, dims int) []float32 { return unitvec.ForText(dims, t) }}
}

// Info describes the model: normalized vectors, 512 tokens.
func (e *Embedder) Info() embed.Info {
	return embed.Info{ID: e.id, Dims: e.dims, MaxTokens: 512, Normalized: true}
}

// Embed returns one vector per text.
func (e *Embedder) Embed(ctx context.Context, _ embed.Kind, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.calls.Add(1)
	e.texts.Add(int64(len(texts)))
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = e.vector(t, e.dims)
	}
	return out, nil
}

// Texts is how many texts were embedded.
func (e *Embedder) Texts() int64 { return e.texts.Load() }

// Calls is how many Embed calls succeeded.
func (e *Embedder) Calls() int64 { return e.calls.Load() }
