package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ragd/ragd/embed/bert"
)

// RandomModelOptions describe a random-weight model directory.
type RandomModelOptions struct {
	// Config is the BERT shape; set NumLabels to 1 for a reranker.
	// Default bert.TinyConfig().
	Config bert.Config
	// Seed seeds the weights.
	Seed int64
	// TokenizerJSON is a tokenizer.json to copy into the directory
	// (required; its vocabulary must fit Config.VocabSize).
	TokenizerJSON string
	// Pooling, PoolCLS or PoolMean, is written as sentence-transformers
	// modules.json + 1_Pooling/config.json (with a Normalize module).
	// Empty writes no sentence-transformers files.
	Pooling string
	// MaxSeqLength, when positive, is written to sentence_bert_config.json.
	MaxSeqLength int
	// Outputs are the ONNX graph outputs (see bert.ONNXOptions).
	Outputs []string
}

// BuildRandomModel writes a Hugging Face style directory holding a
// random-weight BERT as ONNX (onnx/model.onnx) and safetensors, for tests
// and for benchmarks where no real model is installed. It returns the
// weights so callers can cross-check with bert.Weights.Forward.
func BuildRandomModel(dir string, opts RandomModelOptions) (*bert.Weights, error) {
	cfg := opts.Config
	if cfg.HiddenSize == 0 {
		cfg = bert.TinyConfig()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.TokenizerJSON == "" {
		return nil, fmt.Errorf("%w: RandomModelOptions.TokenizerJSON is required", ErrConfig)
	}
	tj, err := os.ReadFile(opts.TokenizerJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	w := bert.RandomWeights(cfg, opts.Seed)
	if err := bert.SaveDir(dir, w, bert.ONNXOptions{Outputs: opts.Outputs}); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		return nil, err
	}
	if opts.MaxSeqLength > 0 {
		if err := writeJSON(filepath.Join(dir, "sentence_bert_config.json"),
			map[string]any{"max_seq_length": opts.MaxSeqLength, "do_lower_case": false}); err != nil {
			return nil, err
		}
	}
	if opts.Pooling == "" {
		return w, nil
	}
	mods := []map[string]any{
		{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
		{"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
		{"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
	}
	if err := writeJSON(filepath.Join(dir, "modules.json"), mods); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "1_Pooling"), 0o755); err != nil {
		return nil, err
	}
	return w, writeJSON(filepath.Join(dir, "1_Pooling", "config.json"), map[string]any{
		"word_embedding_dimension":          cfg.HiddenSize,
		"pooling_mode_cls_token":            opts.Pooling == PoolCLS,
		"pooling_mode_mean_tokens":          opts.Pooling == PoolMean,
		"pooling_mode_max_tokens":           false,
		"pooling_mode_mean_sqrt_len_tokens": false,
	})
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
