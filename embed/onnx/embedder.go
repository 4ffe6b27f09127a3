package onnx

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/ragd/ragd/embed"
	"github.com/ragd/ragd/embed/wordpiece"
)

// Embedder embeds texts with a BERT-family ONNX model. It implements
// embed.Embedder and is safe for concurrent use.
type Embedder struct {
	info    embed.Info
	pooling string
	enc     encoder
	sess    *session
	batch   batcher
	cfg     Config
	// fileBytes is the model file's size with its external data, for Memory.
	fileBytes int64
}

var _ embed.Embedder = (*Embedder)(nil)

// NewEmbedder loads the model directory dir (see the package doc).
func NewEmbedder(dir string, cfg Config) (*Embedder, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := loadModelDir(dir)
	if err != nil {
		return nil, err
	}
	if err := initRuntime(cfg.LibraryPath, cfg.Logger); err != nil {
		return nil, err
	}
	sess, err := openSession(m.onnxPath, cfg, []string{"last_hidden_state", "token_embeddings"}, 3)
	if err != nil {
		return nil, err
	}
	if d := sess.outDims[2]; d > 0 && int(d) != m.hidden {
		sess.close()
		return nil, badModel("%s: output %s has width %d but config.json hidden_size is %d",
			dir, sess.output, d, m.hidden)
	}
	pooling := cfg.Pooling
	if pooling == "" {
		pooling = m.pooling
	}
	if pooling == "" {
		pooling = PoolMean
	}
	id := cfg.ID
	if id == "" {
		id = filepath.Base(filepath.Clean(dir))
	}
	q, p := cfg.prefixes(id)
	e := &Embedder{
		info: embed.Info{
			ID: id, Dims: m.hidden, MaxTokens: m.maxTokens(cfg.MaxTokens),
			Normalized: !cfg.SkipNormalize, QueryPrefix: q, PassagePrefix: p,
		},
		pooling:   pooling,
		enc:       newEncoder(m.tok),
		sess:      sess,
		batch:     batcher{sess: sess, batchSize: cfg.BatchSize, padID: m.tok.PadID()},
		cfg:       cfg,
		fileBytes: modelFileBytes(m.onnxPath),
	}
	cfg.Logger.Info("onnx: embedder loaded", "id", id, "dims", m.hidden, "max_tokens", e.info.MaxTokens,
		"pooling", pooling, "device", cfg.Device, "model", m.onnxPath)
	return e, nil
}

// Info describes the model.
func (e *Embedder) Info() embed.Info { return e.info }

// Pooling returns PoolCLS or PoolMean.
func (e *Embedder) Pooling() string { return e.pooling }

// Close releases the ONNX Runtime session.
func (e *Embedder) Close() error { return e.sess.close() }

// Encode tokenizes texts as Embed would (prefix added, truncated).
func (e *Embedder) Encode(kind embed.Kind, texts []string) []wordpiece.Encoding {
	prefix := e.info.PassagePrefix
	if kind == embed.Query {
		prefix = e.info.QueryPrefix
	}
	encs := make([]wordpiece.Encoding, len(texts))
	for i, t := range texts {
		encs[i] = e.enc.encode(prefix+t, e.info.MaxTokens)
	}
	return encs
}

// Embed returns one vector per text, in order. An empty list gives an
// empty result; an empty string embeds the special tokens alone; texts
// longer than MaxTokens are truncated.
func (e *Embedder) Embed(ctx context.Context, kind embed.Kind, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	encs := e.Encode(kind, texts)
	h := e.info.Dims
	err := e.batch.each(ctx, encs, func(idx []int, hidden []float32, shape []int64, masks [][]int64) error {
		seq := len(masks[0])
		if len(shape) != 3 || shape[0] != int64(len(idx)) || shape[1] != int64(seq) || shape[2] != int64(h) {
			return badModel("output %s has shape %v, want [%d %d %d]", e.sess.output, shape, len(idx), seq, h)
		}
		for r, i := range idx {
			v := pool(hidden[r*seq*h:(r+1)*seq*h], masks[r], h, e.pooling)
			if !e.info.Normalized {
				out[i] = v
				continue
			}
			out[i] = normalize(v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("onnx embed %s: %w", e.info.ID, err)
	}
	return out, nil
}

// pool reduces one sequence's hidden states [seq, h].
func pool(hidden []float32, mask []int64, h int, mode string) []float32 {
	v := make([]float32, h)
	if mode == PoolCLS {
		copy(v, hidden[:h])
		return v
	}
	acc := make([]float64, h)
	var n float64
	for s, m := range mask {
		if m == 0 {
			continue
		}
		n++
		for j, x := range hidden[s*h : (s+1)*h] {
			acc[j] += float64(x)
		}
	}
	n = max(n, 1e-9) // sentence-transformers clamps the token count the same way
	for j := range v {
		v[j] = float32(acc[j] / n)
	}
	return v
}

// normalize scales v to unit length in place (a zero vector stays zero).
func normalize(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return v
	}
	inv := 1 / math.Sqrt(ss)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return v
}
