package bert

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSafetensorsRoundTrip(t *testing.T) {
	cfg := TinyConfig()
	cfg.VocabSize = 200
	cfg.NumLabels = 1
	w := RandomWeights(cfg, 7)
	dir := t.TempDir()
	if err := WriteConfig(filepath.Join(dir, ConfigFile), cfg); err != nil {
		t.Fatal(err)
	}
	if err := WriteSafetensors(filepath.Join(dir, SafetensorsFile), w.Tensors()); err != nil {
		t.Fatal(err)
	}
	got, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config.NumLabels != 1 || got.Classifier == nil || got.Pooler == nil {
		t.Fatalf("classifier lost: %+v", got.Config)
	}
	for name, want := range w.Tensors() {
		g := got.Tensors()[name]
		if !slicesEqual(g.Shape, want.Shape) || !slicesEqual(g.Data, want.Data) {
			t.Fatalf("tensor %s differs after round trip", name)
		}
	}
	// The classification checkpoint uses Hugging Face's nested names.
	if _, ok := w.Tensors()["bert.encoder.layer.1.attention.self.query.weight"]; !ok {
		t.Fatal("missing bert. prefix")
	}
	if _, ok := w.Tensors()["classifier.bias"]; !ok {
		t.Fatal("missing classifier")
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// rawFile assembles a safetensors file from a header string and data.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestReadSafetensorsDTypes(t *testing.T) {
	// F16: 1.0, -2.0, 0.5, 2^-24 (smallest subnormal); BF16: 1.0, -3.0; I64 is skipped.
	data := []byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0x01, 0x00, 0x80, 0x3f, 0x40, 0xc0, 1, 0, 0, 0, 0, 0, 0, 0}
	hdr := `{"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},` +
		`"ids":{"dtype":"I64","shape":[1],"data_offsets":[12,20]},"__metadata__":{"format":"pt"}}`
	p := filepath.Join(t.TempDir(), "x.safetensors")
	if err := os.WriteFile(p, rawFile(hdr, data), 0o644); err != nil {
		t.Fatal(err)
	}
	ts, err := ReadSafetensors(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := ts["h"].Data; !slicesEqual(got, []float32{1, -2, 0.5, 1.0 / (1 << 24)}) {
		t.Errorf("F16 = %v", got)
	}
	if got := ts["b"].Data; !slicesEqual(got, []float32{1, -3}) {
		t.Errorf("BF16 = %v", got)
	}
	if _, ok := ts["ids"]; ok || len(ts) != 2 {
		t.Errorf("int tensor not skipped: %v", ts)
	}
}

func TestReadSafetensorsCorrupt(t *testing.T) {
	four := []byte{0, 0, 128, 63}
	tests := []struct {
		name string
		file []byte
		msg  string
	}{
		{"empty", nil, "short file"},
		{"huge header length", append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, four...), "header length"},
		{"bad json", rawFile(`{"a":`, four), "header JSON"},
		{"unknown dtype", rawFile(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}`, four), "unknown dtype"},
		{"offsets past end", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, four), "do not fit"},
		{"shape mismatch", rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}`, four), "do not fit"},
		{"negative dim", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, four), "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.safetensors")
			if err := os.WriteFile(p, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadSafetensors(p)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want ErrFormat containing %q", err, tc.msg)
			}
		})
	}
	if _, err := ReadSafetensors(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ErrFormat) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestWeightsFromTensors(t *testing.T) {
	cfg := TinyConfig()
	cfg.VocabSize = 50
	w := RandomWeights(cfg, 1)
	ts := w.Tensors()

	// Legacy gamma/beta LayerNorm names are accepted.
	legacy := map[string]Tensor{}
	for k, v := range ts {
		k = strings.Replace(k, "LayerNorm.weight", "LayerNorm.gamma", 1)
		k = strings.Replace(k, "LayerNorm.bias", "LayerNorm.beta", 1)
		legacy[k] = v
	}
	if _, err := WeightsFromTensors(cfg, legacy); err != nil {
		t.Fatalf("legacy names: %v", err)
	}

	delete(ts, "encoder.layer.1.output.dense.bias")
	ts["encoder.layer.0.attention.self.key.weight"] = NewTensor(3, 3)
	_, err := WeightsFromTensors(cfg, ts)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "encoder.layer.1.output.dense.bias") ||
		!strings.Contains(err.Error(), "shape [3 3]") {
		t.Fatalf("error %v", err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, body, msg string }{
		{"bad json", `{"hidden_size":`, "unexpected end"},
		{"heads", `{"vocab_size":10,"hidden_size":10,"num_hidden_layers":1,"num_attention_heads":3,"intermediate_size":4,"max_position_embeddings":8}`, "not divisible"},
		{"zero", `{"hidden_size":8}`, "positive"},
		{"act", `{"vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":4,"max_position_embeddings":8,"hidden_act":"relu"}`, "relu"},
	}
	for _, tc := range tests {
		p := filepath.Join(dir, tc.name+".json")
		if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(p)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want ErrConfig containing %q", tc.name, err, tc.msg)
		}
	}
}
