package bert

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// fields splits one protobuf message into (field number, raw value) pairs;
// varints and fixed32 are returned as their decoded numbers in num.
type field struct {
	n     protowire.Number
	bytes []byte
	num   uint64
}

func parse(t *testing.T, b []byte) []field {
	t.Helper()
	var fs []field
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(l))
		}
		b = b[l:]
		f := field{n: n}
		switch typ {
		case protowire.VarintType:
			f.num, l = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.bytes, l = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			var v uint32
			v, l = protowire.ConsumeFixed32(b)
			f.num = uint64(v)
		default:
			t.Fatalf("unexpected wire type %v", typ)
		}
		if l < 0 {
			t.Fatalf("bad field %d: %v", n, protowire.ParseError(l))
		}
		b = b[l:]
		fs = append(fs, f)
	}
	return fs
}

func pick(fs []field, n protowire.Number) []field {
	var out []field
	for _, f := range fs {
		if f.n == n {
			out = append(out, f)
		}
	}
	return out
}

// TestWriteONNXStructure decodes the model with onnx.proto's field numbers
// and checks the header, graph interface and that every weight is stored
// (transposed for MatMul) as an initializer.
func TestWriteONNXStructure(t *testing.T) {
	cfg := TinyConfig()
	cfg.VocabSize = 40
	cfg.NumLabels = 1
	w := RandomWeights(cfg, 5)
	var buf bytes.Buffer
	if err := WriteONNX(&buf, w, ONNXOptions{Outputs: []string{OutputHidden, OutputLogits}}); err != nil {
		t.Fatal(err)
	}
	model := parse(t, buf.Bytes())
	if ir := pick(model, 1); len(ir) != 1 || ir[0].num != 8 {
		t.Fatalf("ir_version %+v", ir)
	}
	opset := parse(t, pick(model, 8)[0].bytes)
	if v := pick(opset, 2); len(v) != 1 || v[0].num != 17 {
		t.Fatalf("opset %+v", opset)
	}
	graph := parse(t, pick(model, 7)[0].bytes)
	names := func(n protowire.Number) []string {
		var s []string
		for _, f := range pick(graph, n) {
			s = append(s, string(pick(parse(t, f.bytes), 1)[0].bytes))
		}
		return s
	}
	if got := names(11); !slices.Equal(got, []string{InputIDs, InputMask, InputTypeIDs}) {
		t.Fatalf("inputs %v", got)
	}
	if got := names(12); !slices.Equal(got, []string{OutputHidden, OutputLogits}) {
		t.Fatalf("outputs %v", got)
	}
	inits := map[string][]field{}
	for _, f := range pick(graph, 5) {
		tf := parse(t, f.bytes)
		inits[string(pick(tf, 8)[0].bytes)] = tf
	}
	q := inits["layer1.query.weight"]
	if q == nil {
		t.Fatalf("no layer1.query.weight among %d initializers", len(inits))
	}
	if dt := pick(q, 2)[0].num; dt != 1 {
		t.Fatalf("data_type %d", dt)
	}
	raw := pick(q, 9)[0].bytes
	h := cfg.HiddenSize
	// Stored [in, out]: element (i, o) is W[o, i].
	for _, io := range [][2]int{{0, 1}, {3, 17}, {h - 1, 0}} {
		i, o := io[0], io[1]
		got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(i*h+o):]))
		if got != w.Layers[1].Query.W.Data[o*h+i] {
			t.Fatalf("transposed weight (%d,%d) = %g, want %g", i, o, got, w.Layers[1].Query.W.Data[o*h+i])
		}
	}
	var ops []string
	for _, f := range pick(graph, 1) {
		ops = append(ops, string(pick(parse(t, f.bytes), 4)[0].bytes))
	}
	for _, op := range []string{"Gather", "LayerNormalization", "Softmax", "Erf", "Tanh", "Unsqueeze", "Slice"} {
		if !slices.Contains(ops, op) {
			t.Errorf("no %s node", op)
		}
	}
}

func TestWriteONNXRejectsMissingHead(t *testing.T) {
	w := RandomWeights(TinyConfig(), 1) // no classifier
	if err := WriteONNX(&bytes.Buffer{}, w, ONNXOptions{Outputs: []string{OutputLogits}}); err == nil {
		t.Fatal("exported logits without a classifier")
	}
}
