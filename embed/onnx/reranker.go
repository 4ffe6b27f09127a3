package onnx

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ragd/ragd/embed/wordpiece"
)

// Reranker scores (query, passage) pairs with a cross-encoder: a BERT
// sequence-classification model with a single logit. It is safe for
// concurrent use.
type Reranker struct {
	id        string
	maxTokens int
	enc       encoder
	sess      *session
	batch     batcher
}

// NewReranker loads a cross-encoder model directory (config.json with one
// label, tokenizer, ONNX model with a "logits" output).
func NewReranker(dir string, cfg Config) (*Reranker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := loadModelDir(dir)
	if err != nil {
		return nil, err
	}
	if m.numLabels > 1 {
		return nil, badModel("%s: config.json has %d labels; a reranker needs exactly 1", dir, m.numLabels)
	}
	if err := initRuntime(cfg.LibraryPath, cfg.Logger); err != nil {
		return nil, err
	}
	sess, err := openSession(m.onnxPath, cfg, []string{"logits"}, 2)
	if err != nil {
		return nil, err
	}
	if d := sess.outDims[1]; d > 0 && d != 1 {
		sess.close()
		return nil, badModel("%s: output %s has %d logits per pair; a reranker needs 1", dir, sess.output, d)
	}
	id := cfg.ID
	if id == "" {
		id = filepath.Base(filepath.Clean(dir))
	}
	r := &Reranker{
		id: id, maxTokens: m.maxTokens(cfg.MaxTokens), enc: newEncoder(m.tok), sess: sess,
		batch: batcher{sess: sess, batchSize: cfg.BatchSize, padID: m.tok.PadID()},
	}
	cfg.Logger.Info("onnx: reranker loaded", "id", id, "max_tokens", r.maxTokens, "device", cfg.Device)
	return r, nil
}

// ID names the model.
func (r *Reranker) ID() string { return r.id }

// Close releases the ONNX Runtime session.
func (r *Reranker) Close() error { return r.sess.close() }

// Rerank returns one relevance logit per passage, in passage order (higher
// is more relevant; apply a sigmoid for a 0–1 score). Each pair is encoded
// "[CLS] query [SEP] passage [SEP]" and truncated longest-first to the
// model's maximum length. No passages give an empty result.
func (r *Reranker) Rerank(ctx context.Context, query string, passages []string) ([]float32, error) {
	scores := make([]float32, len(passages))
	if len(passages) == 0 {
		return scores, nil
	}
	encs := make([]wordpiece.Encoding, len(passages))
	for i, p := range passages {
		encs[i] = r.enc.encodePair(query, p, r.maxTokens)
	}
	err := r.batch.each(ctx, encs, func(idx []int, logits []float32, shape []int64, _ [][]int64) error {
		if len(shape) != 2 || shape[0] != int64(len(idx)) || shape[1] != 1 {
			return badModel("output %s has shape %v, want [%d 1]", r.sess.output, shape, len(idx))
		}
		for k, i := range idx {
			scores[i] = logits[k]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("onnx rerank %s: %w", r.id, err)
	}
	return scores, nil
}
