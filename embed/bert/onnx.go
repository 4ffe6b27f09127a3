package bert

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protowire"
)

// Output names of exported ONNX models (the Hugging Face export names).
const (
	OutputHidden = "last_hidden_state"
	OutputPooled = "pooler_output"
	OutputLogits = "logits"
)

// Input names of exported ONNX models, all int64 [batch, sequence].
const (
	InputIDs      = "input_ids"
	InputMask     = "attention_mask"
	InputTypeIDs  = "token_type_ids"
	onnxIRVersion = 8  // IR version 8 (ONNX 1.10+) covers opset 17.
	onnxOpset     = 17 // LayerNormalization entered the default domain in opset 17.
	onnxFloat     = 1  // TensorProto.DataType FLOAT
	onnxInt64     = 7  // TensorProto.DataType INT64
	attrTypeFloat = 1  // AttributeProto.AttributeType FLOAT
	attrTypeInt   = 2  // AttributeProto.AttributeType INT
	attrTypeInts  = 7  // AttributeProto.AttributeType INTS
)

// ONNXOptions selects what an exported model computes.
type ONNXOptions struct {
	// Outputs lists graph outputs among OutputHidden, OutputPooled and
	// OutputLogits. Default: OutputLogits when the weights have a
	// classifier, else OutputHidden.
	Outputs []string
}

// SaveONNX writes the model as an ONNX file, creating parent directories.
func SaveONNX(path string, w *Weights, opts ONNXOptions) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteONNX(f, w, opts); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteONNX encodes the encoder (and pooler/classifier as requested) as an
// ONNX ModelProto (IR 8, opset 17) with inputs input_ids, attention_mask and
// token_type_ids (int64 [batch, sequence], both dynamic). It computes what
// Forward computes, batched.
func WriteONNX(out io.Writer, w *Weights, opts ONNXOptions) error {
	outputs := opts.Outputs
	if len(outputs) == 0 {
		outputs = []string{OutputHidden}
		if w.Classifier != nil {
			outputs = []string{OutputLogits}
		}
	}
	for _, o := range outputs {
		switch {
		case o == OutputHidden:
		case o == OutputPooled && w.Pooler != nil:
		case o == OutputLogits && w.Classifier != nil:
		default:
			return fmt.Errorf("%w: cannot export output %q from these weights", ErrConfig, o)
		}
	}
	cfg := w.Config
	h, nh := cfg.HiddenSize, cfg.NumHeads
	g := &graph{}

	// Embeddings.
	word := g.node("Gather", []string{g.weight("word_embeddings", w.Word, false), InputIDs})
	typ := g.node("Gather", []string{g.weight("token_type_embeddings", w.TokenType, false), InputTypeIDs})
	seqLen := g.node("Shape", []string{InputIDs}, attrInt("start", 1), attrInt("end", 2))
	pos := g.node("Slice", []string{g.weight("position_embeddings", w.Position, false),
		g.ints("zero_1d", 0), seqLen, g.ints("zero_axis", 0)})
	x := g.node("Add", []string{g.node("Add", []string{word, typ}), pos})
	x = g.layerNorm(x, "embeddings.LayerNorm", w.EmbNorm, cfg.LayerNormEps)

	// Additive attention mask [batch, 1, 1, sequence].
	m := g.node("Cast", []string{InputMask}, attrInt("to", onnxFloat))
	inv := g.node("Sub", []string{g.scalar("one", 1), m})
	madd := g.node("Mul", []string{inv, g.scalar("mask_value", MaskValue)})
	mask := g.node("Unsqueeze", []string{madd, g.ints("mask_axes", 1, 2)})

	headShape := g.ints("head_shape", 0, 0, int64(nh), int64(h/nh))
	hiddenShape := g.ints("hidden_shape", 0, 0, int64(h))
	scale := g.scalar("attn_scale", float32(1/math.Sqrt(float64(h/nh))))
	sqrt2 := g.scalar("sqrt2", math.Sqrt2)
	half := g.scalar("half", 0.5)
	for i, l := range w.Layers {
		p := fmt.Sprintf("layer%d.", i)
		heads := func(name string, lin Linear, perm ...int64) string {
			y := g.dense(x, p+name, lin)
			y = g.node("Reshape", []string{y, headShape})
			return g.node("Transpose", []string{y}, attrInts("perm", perm...))
		}
		q := heads("query", l.Query, 0, 2, 1, 3)
		k := heads("key", l.Key, 0, 2, 3, 1)
		v := heads("value", l.Value, 0, 2, 1, 3)
		sc := g.node("Mul", []string{g.node("MatMul", []string{q, k}), scale})
		sc = g.node("Add", []string{sc, mask})
		probs := g.node("Softmax", []string{sc}, attrInt("axis", -1))
		ctx := g.node("MatMul", []string{probs, v})
		ctx = g.node("Transpose", []string{ctx}, attrInts("perm", 0, 2, 1, 3))
		ctx = g.node("Reshape", []string{ctx, hiddenShape})
		a := g.node("Add", []string{g.dense(ctx, p+"attention.output", l.AttnOut), x})
		a = g.layerNorm(a, p+"attention.LayerNorm", l.AttnNorm, cfg.LayerNormEps)
		u := g.dense(a, p+"intermediate", l.Inter)
		erf := g.node("Erf", []string{g.node("Div", []string{u, sqrt2})})
		gelu := g.node("Mul", []string{g.node("Mul", []string{u, g.node("Add", []string{erf, g.scalar("one", 1)})}), half})
		o := g.node("Add", []string{g.dense(gelu, p+"output", l.Out), a})
		x = g.layerNorm(o, p+"output.LayerNorm", l.OutNorm, cfg.LayerNormEps)
	}
	names := map[string]string{OutputHidden: x}
	if w.Pooler != nil {
		first := g.node("Gather", []string{x, g.ints("first_token")}, attrInt("axis", 1))
		pooled := g.node("Tanh", []string{g.dense(first, "pooler", *w.Pooler)})
		names[OutputPooled] = pooled
		if w.Classifier != nil {
			names[OutputLogits] = g.dense(pooled, "classifier", *w.Classifier)
		}
	}
	var outInfos [][]byte
	for _, o := range outputs {
		g.nodes = append(g.nodes, nodeProto("Identity", o, []string{names[o]}, []string{o}))
		switch o {
		case OutputHidden:
			outInfos = append(outInfos, valueInfo(o, onnxFloat, "batch", "sequence", int64(h)))
		case OutputPooled:
			outInfos = append(outInfos, valueInfo(o, onnxFloat, "batch", int64(h)))
		case OutputLogits:
			outInfos = append(outInfos, valueInfo(o, onnxFloat, "batch", int64(cfg.NumLabels)))
		}
	}

	// The initializers (nearly all of the bytes) are streamed rather than
	// copied into the graph message: small prefix, initializers, suffix.
	var prefix, suffix []byte
	for _, n := range g.nodes {
		prefix = appendMsg(prefix, 1, n) // GraphProto.node
	}
	prefix = protowire.AppendTag(prefix, 2, protowire.BytesType) // GraphProto.name
	prefix = protowire.AppendString(prefix, "bert")
	for _, in := range []string{InputIDs, InputMask, InputTypeIDs} {
		suffix = appendMsg(suffix, 11, valueInfo(in, onnxInt64, "batch", "sequence")) // GraphProto.input
	}
	for _, o := range outInfos {
		suffix = appendMsg(suffix, 12, o) // GraphProto.output
	}
	graphLen := len(prefix) + len(suffix)
	for _, t := range g.inits {
		n := len(t.head) + len(t.raw)
		graphLen += protowire.SizeTag(5) + protowire.SizeBytes(n)
	}

	var mb []byte
	mb = protowire.AppendTag(mb, 1, protowire.VarintType) // ModelProto.ir_version
	mb = protowire.AppendVarint(mb, onnxIRVersion)
	mb = protowire.AppendTag(mb, 2, protowire.BytesType) // ModelProto.producer_name
	mb = protowire.AppendString(mb, "ragd-bert")
	var opset []byte
	opset = protowire.AppendTag(opset, 1, protowire.BytesType) // OperatorSetIdProto.domain
	opset = protowire.AppendString(opset, "")
	opset = protowire.AppendTag(opset, 2, protowire.VarintType) // OperatorSetIdProto.version
	opset = protowire.AppendVarint(opset, onnxOpset)
	mb = appendMsg(mb, 8, opset)                         // ModelProto.opset_import
	mb = protowire.AppendTag(mb, 7, protowire.BytesType) // ModelProto.graph
	mb = protowire.AppendVarint(mb, uint64(graphLen))
	// A bufio.Writer's write error is sticky: once a Write fails every
	// later call fails too and Flush returns that first error, so the
	// individual Write results can be dropped.
	bw := bufio.NewWriterSize(out, 1<<20)
	_, _ = bw.Write(mb)
	_, _ = bw.Write(prefix)
	for _, t := range g.inits {
		var tag []byte
		tag = protowire.AppendTag(tag, 5, protowire.BytesType) // GraphProto.initializer
		tag = protowire.AppendVarint(tag, uint64(len(t.head)+len(t.raw)))
		_, _ = bw.Write(tag)
		_, _ = bw.Write(t.head)
		_, _ = bw.Write(t.raw)
	}
	_, _ = bw.Write(suffix)
	return bw.Flush()
}

// initializer is an encoded TensorProto split before its raw data.
type initializer struct {
	head []byte // fields up to and including raw_data's tag and length
	raw  []byte
}

// graph accumulates encoded nodes and initializers.
type graph struct {
	nodes  [][]byte
	inits  []initializer
	consts map[string]bool
	n      int
}

// node appends a single-output node and returns its output name.
func (g *graph) node(op string, inputs []string, attrs ...[]byte) string {
	g.n++
	name := fmt.Sprintf("%s_%d", op, g.n)
	g.nodes = append(g.nodes, nodeProto(op, name, inputs, []string{name}, attrs...))
	return name
}

// weight adds a float initializer; transpose stores a [out, in] matrix as
// [in, out] for MatMul.
func (g *graph) weight(name string, t Tensor, transpose bool) string {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	data := t.Data
	if transpose {
		r, c := t.Shape[0], t.Shape[1]
		data = make([]float32, len(t.Data))
		for i := range r {
			for j := range c {
				data[j*r+i] = t.Data[i*c+j]
			}
		}
		dims[0], dims[1] = dims[1], dims[0]
	}
	g.inits = append(g.inits, tensorProto(name, onnxFloat, dims, float32Bytes(data)))
	return name
}

// scalar adds (once) a float32 scalar initializer.
func (g *graph) scalar(name string, v float32) string {
	if !g.once(name) {
		g.inits = append(g.inits, tensorProto(name, onnxFloat, nil, float32Bytes([]float32{v})))
	}
	return name
}

// ints adds (once) an int64 initializer: 1-D, or a scalar when vs is empty
// (then its value is 0).
func (g *graph) ints(name string, vs ...int64) string {
	if g.once(name) {
		return name
	}
	dims := []int64{int64(len(vs))}
	if len(vs) == 0 {
		dims, vs = nil, []int64{0}
	}
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	g.inits = append(g.inits, tensorProto(name, onnxInt64, dims, b))
	return name
}

func (g *graph) once(name string) bool {
	if g.consts == nil {
		g.consts = map[string]bool{}
	}
	seen := g.consts[name]
	g.consts[name] = true
	return seen
}

// dense is MatMul with the transposed weight followed by the bias Add.
func (g *graph) dense(x, name string, l Linear) string {
	y := g.node("MatMul", []string{x, g.weight(name+".weight", l.W, true)})
	return g.node("Add", []string{y, g.weight(name+".bias", l.B, false)})
}

func (g *graph) layerNorm(x, name string, n Norm, eps float64) string {
	return g.node("LayerNormalization",
		[]string{x, g.weight(name+".weight", n.Gamma, false), g.weight(name+".bias", n.Beta, false)},
		attrInt("axis", -1), attrFloat("epsilon", float32(eps)))
}

func appendMsg(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

// nodeProto encodes a NodeProto.
func nodeProto(op, name string, inputs, outputs []string, attrs ...[]byte) []byte {
	var b []byte
	for _, in := range inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType) // input
		b = protowire.AppendString(b, in)
	}
	for _, o := range outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType) // output
		b = protowire.AppendString(b, o)
	}
	b = protowire.AppendTag(b, 3, protowire.BytesType) // name
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 4, protowire.BytesType) // op_type
	b = protowire.AppendString(b, op)
	for _, a := range attrs {
		b = appendMsg(b, 5, a) // attribute
	}
	return b
}

// tensorProto encodes a TensorProto with raw little-endian data.
func tensorProto(name string, dtype int, dims []int64, raw []byte) initializer {
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType) // dims
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType) // data_type
	b = protowire.AppendVarint(b, uint64(dtype))
	b = protowire.AppendTag(b, 8, protowire.BytesType) // name
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 9, protowire.BytesType) // raw_data
	b = protowire.AppendVarint(b, uint64(len(raw)))
	return initializer{head: b, raw: raw}
}

// valueInfo encodes a ValueInfoProto of a tensor; each dim is an int64
// (dim_value) or a string (dim_param).
func valueInfo(name string, elem int, dims ...any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch d := d.(type) {
		case int64:
			dim = protowire.AppendTag(dim, 1, protowire.VarintType) // dim_value
			dim = protowire.AppendVarint(dim, uint64(d))
		case string:
			dim = protowire.AppendTag(dim, 2, protowire.BytesType) // dim_param
			dim = protowire.AppendString(dim, d)
		}
		shape = appendMsg(shape, 1, dim) // TensorShapeProto.dim
	}
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType) // TypeProto.Tensor.elem_type
	tt = protowire.AppendVarint(tt, uint64(elem))
	tt = appendMsg(tt, 2, shape) // TypeProto.Tensor.shape
	typ := appendMsg(nil, 1, tt) // TypeProto.tensor_type
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType) // ValueInfoProto.name
	b = protowire.AppendString(b, name)
	return appendMsg(b, 2, typ) // ValueInfoProto.type
}

func attrHeader(name string, typ int) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType) // AttributeProto.name
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 20, protowire.VarintType) // AttributeProto.type
	return protowire.AppendVarint(b, uint64(typ))
}

func attrInt(name string, v int64) []byte {
	b := attrHeader(name, attrTypeInt)
	b = protowire.AppendTag(b, 3, protowire.VarintType) // AttributeProto.i
	return protowire.AppendVarint(b, uint64(v))
}

func attrInts(name string, vs ...int64) []byte {
	b := attrHeader(name, attrTypeInts)
	for _, v := range vs {
		b = protowire.AppendTag(b, 8, protowire.VarintType) // AttributeProto.ints
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}

func attrFloat(name string, v float32) []byte {
	b := attrHeader(name, attrTypeFloat)
	b = protowire.AppendTag(b, 2, protowire.Fixed32Type) // AttributeProto.f
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

// SaveDir writes a Hugging Face style model directory: config.json,
// model.safetensors and onnx/model.onnx.
func SaveDir(dir string, w *Weights, opts ONNXOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := WriteConfig(filepath.Join(dir, ConfigFile), w.Config); err != nil {
		return err
	}
	if err := WriteSafetensors(filepath.Join(dir, SafetensorsFile), w.Tensors()); err != nil {
		return err
	}
	return SaveONNX(filepath.Join(dir, ONNXFile), w, opts)
}
