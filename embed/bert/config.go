package bert

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Sentinel errors.
var (
	// ErrConfig: a configuration is missing or inconsistent.
	ErrConfig = errors.New("bert: bad config")
	// ErrFormat: a weights file is not valid safetensors or lacks tensors.
	ErrFormat = errors.New("bert: bad weights file")
	// ErrInput: token ids, type ids or mask are unusable.
	ErrInput = errors.New("bert: bad input")
)

// Config is the shape of a BERT encoder. JSON names follow the Hugging Face
// config.json of BertModel, so a Config can be read from and written to a
// model directory.
type Config struct {
	// VocabSize is the number of word-piece embeddings (30,522 for bert-base-uncased).
	VocabSize int `json:"vocab_size"`
	// HiddenSize is the model width and the output vector length.
	HiddenSize int `json:"hidden_size"`
	// NumLayers is the number of transformer blocks.
	NumLayers int `json:"num_hidden_layers"`
	// NumHeads is the number of attention heads; it must divide HiddenSize.
	NumHeads int `json:"num_attention_heads"`
	// IntermediateSize is the feed-forward width (usually 4×HiddenSize).
	IntermediateSize int `json:"intermediate_size"`
	// MaxPositions is the number of position embeddings (longest input).
	MaxPositions int `json:"max_position_embeddings"`
	// TypeVocabSize is the number of token-type (segment) embeddings; default 2.
	TypeVocabSize int `json:"type_vocab_size"`
	// LayerNormEps is LayerNorm's epsilon; default 1e-12.
	LayerNormEps float64 `json:"layer_norm_eps"`
	// HiddenAct must be "gelu" (the erf form); empty means gelu.
	HiddenAct string `json:"hidden_act,omitempty"`
	// ModelType is "bert" when written.
	ModelType string `json:"model_type,omitempty"`
	// Architectures is written for tools that read config.json
	// ("BertModel" or "BertForSequenceClassification").
	Architectures []string `json:"architectures,omitempty"`
	// NumLabels is the width of the classification head; 0 means none.
	// Hugging Face stores it implicitly as id2label; ragd writes and reads
	// both.
	NumLabels int `json:"num_labels,omitempty"`
	// ID2Label mirrors NumLabels the way Hugging Face stores it.
	ID2Label map[string]string `json:"id2label,omitempty"`
}

// MiniLMConfig is the shape of all-MiniLM-L6-v2 (6 layers × 384, 12 heads),
// the reference size for throughput measurements.
func MiniLMConfig() Config {
	return Config{VocabSize: 30522, HiddenSize: 384, NumLayers: 6, NumHeads: 12,
		IntermediateSize: 1536, MaxPositions: 512, TypeVocabSize: 2, LayerNormEps: 1e-12}
}

// TinyConfig is a 2-layer × 64 BERT with the full 30,522-token vocabulary,
// small enough for unit tests yet exercising real tokenization.
func TinyConfig() Config {
	return Config{VocabSize: 30522, HiddenSize: 64, NumLayers: 2, NumHeads: 4,
		IntermediateSize: 128, MaxPositions: 128, TypeVocabSize: 2, LayerNormEps: 1e-12}
}

// withDefaults fills optional fields.
func (c Config) withDefaults() Config {
	if c.TypeVocabSize == 0 {
		c.TypeVocabSize = 2
	}
	if c.LayerNormEps == 0 {
		c.LayerNormEps = 1e-12
	}
	if c.NumLabels == 0 && len(c.ID2Label) > 0 {
		c.NumLabels = len(c.ID2Label)
	}
	return c
}

// Validate reports whether the shape is usable.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0, c.HiddenSize <= 0, c.NumLayers <= 0, c.NumHeads <= 0,
		c.IntermediateSize <= 0, c.MaxPositions <= 0, c.TypeVocabSize <= 0:
		return fmt.Errorf("%w: sizes must be positive (%+v)", ErrConfig, c)
	case c.HiddenSize%c.NumHeads != 0:
		return fmt.Errorf("%w: hidden_size %d not divisible by %d heads", ErrConfig, c.HiddenSize, c.NumHeads)
	case c.HiddenAct != "" && c.HiddenAct != "gelu":
		return fmt.Errorf("%w: hidden_act %q unsupported (only gelu)", ErrConfig, c.HiddenAct)
	case c.NumLabels < 0:
		return fmt.Errorf("%w: num_labels %d", ErrConfig, c.NumLabels)
	}
	return nil
}

// LoadConfig reads a Hugging Face config.json.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// WriteConfig writes c as a Hugging Face config.json.
func WriteConfig(path string, c Config) error {
	c = c.withDefaults()
	if c.ModelType == "" {
		c.ModelType = "bert"
	}
	if c.HiddenAct == "" {
		c.HiddenAct = "gelu"
	}
	if len(c.Architectures) == 0 {
		c.Architectures = []string{"BertModel"}
		if c.NumLabels > 0 {
			c.Architectures = []string{"BertForSequenceClassification"}
		}
	}
	if c.NumLabels > 0 && len(c.ID2Label) == 0 {
		c.ID2Label = make(map[string]string, c.NumLabels)
		for i := range c.NumLabels {
			c.ID2Label[fmt.Sprint(i)] = fmt.Sprintf("LABEL_%d", i)
		}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
