package onnx

import (
	"fmt"
	"log/slog"
	"strings"
)

// Devices.
const (
	DeviceCPU  = "cpu"
	DeviceCUDA = "cuda"
)

// Pooling modes.
const (
	PoolCLS  = "cls"
	PoolMean = "mean"
)

// Prefix presets.
const (
	// BGEQueryPrefix is the instruction BGE English v1.5 models expect on
	// retrieval queries (passages get none).
	BGEQueryPrefix = "Represent this sentence for searching relevant passages: "
	// E5QueryPrefix and E5PassagePrefix are the E5 family's markers.
	E5QueryPrefix   = "query: "
	E5PassagePrefix = "passage: "
)

// Config configures an Embedder or Reranker. The zero value is usable.
type Config struct {
	// LibraryPath is the ONNX Runtime shared library. Default
	// DefaultLibraryPath (relative to the working directory).
	LibraryPath string
	// Device is DeviceCPU (default) or DeviceCUDA.
	Device string
	// CUDADevice is the GPU ordinal for DeviceCUDA. Default 0.
	CUDADevice int
	// Threads is ONNX Runtime's intra-op thread count. Default: all cores.
	Threads int
	// BatchSize is the number of texts per inference call. Default 32.
	BatchSize int
	// MaxTokens truncates inputs (special tokens included). Default: the
	// model's sentence_bert_config.json max_seq_length, else the
	// tokenizer's model_max_length/truncation, capped at
	// max_position_embeddings.
	MaxTokens int
	// Pooling is PoolCLS or PoolMean (mask-weighted). Default: from
	// 1_Pooling/config.json, else PoolMean. Embedder only.
	Pooling string
	// SkipNormalize leaves vectors un-normalised; by default they are
	// scaled to unit L2 length. Embedder only.
	SkipNormalize bool
	// Prefixes selects a preset: "bge" (BGEQueryPrefix on queries), "e5"
	// (E5QueryPrefix / E5PassagePrefix), "none", or "" to detect it from
	// the model ID ("bge-…-en…" → bge, "e5-…" → e5, otherwise none).
	// Embedder only.
	Prefixes string
	// QueryPrefix and PassagePrefix, when set, override the preset.
	QueryPrefix, PassagePrefix string
	// ID names the model. Default: the model directory's base name.
	ID string
	// Logger receives load and fallback messages. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Device == "" {
		c.Device = DeviceCPU
	}
	if c.Device != DeviceCPU && c.Device != DeviceCUDA {
		return c, fmt.Errorf("%w: device %q (want cpu or cuda)", ErrConfig, c.Device)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 32
	}
	if c.MaxTokens < 0 || c.Threads < 0 || c.CUDADevice < 0 {
		return c, fmt.Errorf("%w: negative MaxTokens, Threads or CUDADevice", ErrConfig)
	}
	switch c.Pooling {
	case "", PoolCLS, PoolMean:
	default:
		return c, fmt.Errorf("%w: pooling %q (want cls or mean)", ErrConfig, c.Pooling)
	}
	switch c.Prefixes {
	case "", "none", "bge", "e5":
	default:
		return c, fmt.Errorf("%w: prefixes %q (want bge, e5, none or empty)", ErrConfig, c.Prefixes)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// prefixes resolves the query and passage prefixes for model id.
func (c Config) prefixes(id string) (query, passage string) {
	preset := c.Prefixes
	if preset == "" {
		lower := strings.ToLower(id)
		switch {
		case strings.Contains(lower, "bge") && strings.Contains(lower, "en"):
			preset = "bge"
		case strings.HasPrefix(lower, "e5-") || strings.Contains(lower, "-e5-") ||
			strings.Contains(lower, "/e5-") || strings.HasPrefix(lower, "multilingual-e5"):
			preset = "e5"
		}
	}
	switch preset {
	case "bge":
		query = BGEQueryPrefix
	case "e5":
		query, passage = E5QueryPrefix, E5PassagePrefix
	}
	if c.QueryPrefix != "" {
		query = c.QueryPrefix
	}
	if c.PassagePrefix != "" {
		passage = c.PassagePrefix
	}
	return query, passage
}
