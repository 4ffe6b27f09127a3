package embed

import (
	"context"
	"errors"
	"fmt"

	"github.com/ragd/ragd/data"
)

// Kind says whether a text is a search query or a passage to be indexed.
// Some models (BGE, E5) prefix them differently.
type Kind int

const (
	// Passage is text that is indexed.
	Passage Kind = iota
	// Query is a search query.
	Query
)

func (k Kind) String() string {
	if k == Query {
		return "query"
	}
	return "passage"
}

// Info describes an embedding model.
type Info struct {
	// ID names the model (e.g. "use-lite", "bge-small-en-v1.5").
	ID string `json:"id"`
	// Dims is the output vector length.
	Dims int `json:"dims"`
	// MaxTokens is the longest input the model sees; longer input is truncated.
	MaxTokens int `json:"max_tokens"`
	// Normalized reports whether vectors come out L2-normalised.
	Normalized bool `json:"normalized"`
	// QueryPrefix and PassagePrefix are prepended to inputs of each kind.
	QueryPrefix   string `json:"query_prefix,omitempty"`
	PassagePrefix string `json:"passage_prefix,omitempty"`
}

// Embedder embeds batches of texts. Implementations are safe for concurrent
// use; Embed returns one vector per input, in order, each Info().Dims long.
type Embedder interface {
	Info() Info
	Embed(ctx context.Context, kind Kind, texts []string) ([][]float32, error)
}

// Sentinel errors.
var (
	// ErrModelNotFound: no installed or configured model has that name.
	// It is a kind of data.ErrNotFound (404 on every route).
	ErrModelNotFound = data.Kinded(data.ErrNotFound, "embed: model not found")
	// ErrBadModel: model files are missing, corrupt or inconsistent.
	ErrBadModel = errors.New("embed: bad model files")
)

// Memory is what a loaded model keeps resident: its weights and the
// buffers it holds between calls.
type Memory struct {
	// Bytes is the size in bytes.
	Bytes int64 `json:"bytes"`
	// Estimated is set when Bytes is not counted from the model's own
	// buffers but estimated, e.g. from the size of its model file.
	Estimated bool `json:"estimated,omitempty"`
}

// MemoryReporter is an optional capability of an Embedder: a model loaded
// in this process reports its resident memory. Remote embedders hold no
// model and do not implement it.
type MemoryReporter interface {
	Memory() Memory
}

// MemoryOf returns e's resident memory, looking through wrappers that
// expose Unwrap() Embedder (such as a micro-batcher). ok is false when no
// layer reports memory.
func MemoryOf(e Embedder) (m Memory, ok bool) {
	for e != nil {
		if r, yes := e.(MemoryReporter); yes {
			return r.Memory(), true
		}
		u, yes := e.(interface{ Unwrap() Embedder })
		if !yes {
			break
		}
		e = u.Unwrap()
	}
	return Memory{}, false
}

// One embeds a single text of the given kind: the one place that checks an
// embedder returned exactly one vector for it.
func One(ctx context.Context, e Embedder, kind Kind, text string) ([]float32, error) {
	vs, err := e.Embed(ctx, kind, []string{text})
	if err != nil {
		return nil, err
	}
	if len(vs) != 1 {
		return nil, fmt.Errorf("embedder returned %d vectors for 1 text", len(vs))
	}
	return vs[0], nil
}
