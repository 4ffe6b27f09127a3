package bert

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
)

// Linear is a dense layer y = x·Wᵀ + b with W stored [out, in] as in PyTorch.
type Linear struct {
	W Tensor // [out, in]
	B Tensor // [out]
}

// Norm holds LayerNorm's scale and shift.
type Norm struct {
	Gamma Tensor // [hidden]
	Beta  Tensor // [hidden]
}

// Layer is one transformer block.
type Layer struct {
	Query, Key, Value Linear
	AttnOut           Linear
	AttnNorm          Norm
	Inter             Linear
	Out               Linear
	OutNorm           Norm
}

// Weights are the parameters of a BERT encoder with optional pooler and
// sequence-classification head.
type Weights struct {
	Config    Config
	Word      Tensor // [vocab, hidden]
	Position  Tensor // [max_positions, hidden]
	TokenType Tensor // [type_vocab, hidden]
	EmbNorm   Norm
	Layers    []Layer
	// Pooler (dense + tanh on the first token) may be nil.
	Pooler *Linear
	// Classifier maps the pooled vector to Config.NumLabels logits; nil when
	// NumLabels is 0. A classifier requires a pooler.
	Classifier *Linear
}

// RandomWeights returns deterministic random weights for cfg. Linear layers
// are drawn with standard deviation 1/√fan_in so that attention is neither
// uniform nor saturated; LayerNorm scales are near 1 and shifts near 0 but
// not exactly, so that every parameter affects the output. A pooler is always
// present; a classifier when cfg.NumLabels > 0. It panics only on an invalid
// cfg, which is a programming error (call cfg.Validate first for user input).
func RandomWeights(cfg Config, seed int64) *Weights {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	normal := func(std float64, shape ...int) Tensor {
		t := NewTensor(shape...)
		for i := range t.Data {
			t.Data[i] = float32(rng.NormFloat64() * std)
		}
		return t
	}
	linear := func(out, in int) Linear {
		return Linear{W: normal(1/math.Sqrt(float64(in)), out, in), B: normal(0.1, out)}
	}
	norm := func(n int) Norm {
		g := normal(0.1, n)
		for i := range g.Data {
			g.Data[i]++
		}
		return Norm{Gamma: g, Beta: normal(0.1, n)}
	}
	h := cfg.HiddenSize
	w := &Weights{
		Config:    cfg,
		Word:      normal(1, cfg.VocabSize, h),
		Position:  normal(0.5, cfg.MaxPositions, h),
		TokenType: normal(0.5, cfg.TypeVocabSize, h),
		EmbNorm:   norm(h),
	}
	for range cfg.NumLayers {
		w.Layers = append(w.Layers, Layer{
			Query: linear(h, h), Key: linear(h, h), Value: linear(h, h),
			AttnOut: linear(h, h), AttnNorm: norm(h),
			Inter: linear(cfg.IntermediateSize, h), Out: linear(h, cfg.IntermediateSize),
			OutNorm: norm(h),
		})
	}
	p := linear(h, h)
	w.Pooler = &p
	if cfg.NumLabels > 0 {
		c := linear(cfg.NumLabels, h)
		w.Classifier = &c
	}
	return w
}

// prefix returns the tensor-name prefix of the encoder: sequence
// classification checkpoints nest it under "bert.".
func (w *Weights) prefix() string {
	if w.Classifier != nil {
		return "bert."
	}
	return ""
}

// Tensors returns the weights under Hugging Face names: BertModel names, or
// BertForSequenceClassification names ("bert." prefix plus "classifier.")
// when a classifier is present.
func (w *Weights) Tensors() map[string]Tensor {
	p := w.prefix()
	m := map[string]Tensor{
		p + "embeddings.word_embeddings.weight":       w.Word,
		p + "embeddings.position_embeddings.weight":   w.Position,
		p + "embeddings.token_type_embeddings.weight": w.TokenType,
		p + "embeddings.LayerNorm.weight":             w.EmbNorm.Gamma,
		p + "embeddings.LayerNorm.bias":               w.EmbNorm.Beta,
	}
	lin := func(name string, l Linear) {
		m[name+".weight"] = l.W
		m[name+".bias"] = l.B
	}
	for i, l := range w.Layers {
		b := fmt.Sprintf("%sencoder.layer.%d.", p, i)
		lin(b+"attention.self.query", l.Query)
		lin(b+"attention.self.key", l.Key)
		lin(b+"attention.self.value", l.Value)
		lin(b+"attention.output.dense", l.AttnOut)
		m[b+"attention.output.LayerNorm.weight"] = l.AttnNorm.Gamma
		m[b+"attention.output.LayerNorm.bias"] = l.AttnNorm.Beta
		lin(b+"intermediate.dense", l.Inter)
		lin(b+"output.dense", l.Out)
		m[b+"output.LayerNorm.weight"] = l.OutNorm.Gamma
		m[b+"output.LayerNorm.bias"] = l.OutNorm.Beta
	}
	if w.Pooler != nil {
		lin(p+"pooler.dense", *w.Pooler)
	}
	if w.Classifier != nil {
		lin("classifier", *w.Classifier)
	}
	return m
}

// WeightsFromTensors assembles and shape-checks weights from Hugging Face
// tensor names (with or without the "bert." prefix; the legacy LayerNorm
// names gamma/beta are accepted). cfg.NumLabels is taken from the classifier
// when one is present.
func WeightsFromTensors(cfg Config, ts map[string]Tensor) (*Weights, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := ""
	if _, ok := ts["bert.embeddings.word_embeddings.weight"]; ok {
		p = "bert."
	}
	var missing []string
	get := func(name string, shape ...int) Tensor {
		t, ok := ts[name]
		if !ok {
			alt := name
			if n := len(name); n > 7 && name[n-7:] == ".weight" {
				alt = name[:n-7] + ".gamma"
			} else if n > 5 && name[n-5:] == ".bias" {
				alt = name[:n-5] + ".beta"
			}
			t, ok = ts[alt]
		}
		if !ok {
			missing = append(missing, name)
			return NewTensor(shape...)
		}
		if !slices.Equal(t.Shape, shape) {
			missing = append(missing, fmt.Sprintf("%s (shape %v, want %v)", name, t.Shape, shape))
			return NewTensor(shape...)
		}
		return t
	}
	lin := func(name string, out, in int) Linear {
		return Linear{W: get(name+".weight", out, in), B: get(name+".bias", out)}
	}
	norm := func(name string, n int) Norm {
		return Norm{Gamma: get(name+".weight", n), Beta: get(name+".bias", n)}
	}
	h := cfg.HiddenSize
	w := &Weights{
		Word:      get(p+"embeddings.word_embeddings.weight", cfg.VocabSize, h),
		Position:  get(p+"embeddings.position_embeddings.weight", cfg.MaxPositions, h),
		TokenType: get(p+"embeddings.token_type_embeddings.weight", cfg.TypeVocabSize, h),
		EmbNorm:   norm(p+"embeddings.LayerNorm", h),
	}
	for i := range cfg.NumLayers {
		b := fmt.Sprintf("%sencoder.layer.%d.", p, i)
		w.Layers = append(w.Layers, Layer{
			Query:    lin(b+"attention.self.query", h, h),
			Key:      lin(b+"attention.self.key", h, h),
			Value:    lin(b+"attention.self.value", h, h),
			AttnOut:  lin(b+"attention.output.dense", h, h),
			AttnNorm: norm(b+"attention.output.LayerNorm", h),
			Inter:    lin(b+"intermediate.dense", cfg.IntermediateSize, h),
			Out:      lin(b+"output.dense", h, cfg.IntermediateSize),
			OutNorm:  norm(b+"output.LayerNorm", h),
		})
	}
	if _, ok := ts[p+"pooler.dense.weight"]; ok {
		l := lin(p+"pooler.dense", h, h)
		w.Pooler = &l
	}
	if c, ok := ts["classifier.weight"]; ok && len(c.Shape) == 2 {
		cfg.NumLabels = c.Shape[0]
		l := lin("classifier", cfg.NumLabels, h)
		w.Classifier = &l
		if w.Pooler == nil {
			missing = append(missing, p+"pooler.dense.weight (needed by the classifier)")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: missing or misshapen tensors: %v", ErrFormat, missing)
	}
	w.Config = cfg
	return w, nil
}

// File names inside a model directory.
const (
	ConfigFile      = "config.json"
	SafetensorsFile = "model.safetensors"
	ONNXFile        = "onnx/model.onnx"
)

// LoadDir reads config.json and model.safetensors from a Hugging Face model
// directory.
func LoadDir(dir string) (*Weights, error) {
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	ts, err := ReadSafetensors(filepath.Join(dir, SafetensorsFile))
	if err != nil {
		return nil, err
	}
	w, err := WeightsFromTensors(cfg, ts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return w, nil
}
