package use

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ragd/ragd/embed"
)

// modelCopy links the model files into a temporary directory and lets the
// test replace some of them: edit maps a file name to new contents.
func modelCopy(t *testing.T, edit map[string][]byte) string {
	t.Helper()
	testModel(t) // skips when the weights are not installed
	src := filepath.Join(loadedDir, "dist")
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if data, ok := edit[name]; ok {
			if data != nil {
				if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			continue
		}
		if err := os.Symlink(filepath.Join(src, name), filepath.Join(dst, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func readModelFile(t *testing.T, name string) []byte {
	t.Helper()
	testModel(t)
	b, err := os.ReadFile(filepath.Join(loadedDir, "dist", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editManifest rewrites model.json through f.
func editManifest(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readModelFile(t, "model.json"), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firstWeight(m map[string]any) map[string]any {
	g := m["weightsManifest"].([]any)[0].(map[string]any)
	return g["weights"].([]any)[0].(map[string]any)
}

func TestLoadLayouts(t *testing.T) {
	testModel(t)
	copyDir := modelCopy(t, nil)
	for _, dir := range []string{loadedDir, filepath.Join(loadedDir, "dist"), copyDir} {
		m, err := Load(dir, Options{Threads: 1})
		if err != nil {
			t.Fatalf("Load(%s): %v", dir, err)
		}
		info := m.Info()
		if info.ID != "use-lite" || info.Dims != 512 || info.MaxTokens != 128 || !info.Normalized ||
			info.QueryPrefix != "" || info.PassagePrefix != "" {
			t.Errorf("Load(%s).Info() = %+v", dir, info)
		}
	}
}

func TestLocate(t *testing.T) {
	testModel(t)
	got, err := Locate(".")
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs(loadedDir); got != want {
		t.Errorf("Locate = %s, want %s", got, want)
	}
	if _, err := Locate(t.TempDir()); !errors.Is(err, embed.ErrModelNotFound) {
		t.Errorf("Locate(empty dir) error = %v, want ErrModelNotFound", err)
	}
}

func TestLoadErrors(t *testing.T) {
	lastShard := readModelFile(t, "group1-shard7of7")
	tests := []struct {
		name string
		edit map[string][]byte
	}{
		{"no vocab.json", map[string][]byte{"vocab.json": nil}},
		{"no model.json", map[string][]byte{"model.json": nil}},
		{"corrupt model.json", map[string][]byte{"model.json": []byte(`{"modelTopology": [`)}},
		{"corrupt vocab.json", map[string][]byte{"vocab.json": []byte(`[["a", 0], `)}},
		{"missing shard", map[string][]byte{"group1-shard3of7": nil}},
		{"truncated shard", map[string][]byte{"group1-shard7of7": lastShard[:len(lastShard)-4]}},
		{"extra bytes", map[string][]byte{"group1-shard7of7": append(append([]byte(nil), lastShard...), 0, 0, 0, 0)}},
		{"wrong shape", map[string][]byte{"model.json": editManifest(t, func(m map[string]any) {
			firstWeight(m)["shape"] = []any{512, 1536} // was [1536, 512]: same size
		})}},
		{"renamed weight", map[string][]byte{"model.json": editManifest(t, func(m map[string]any) {
			firstWeight(m)["name"] = "something/else"
		})}},
		{"unknown dtype", map[string][]byte{"model.json": editManifest(t, func(m map[string]any) {
			firstWeight(m)["dtype"] = "complex64"
		})}},
		{"shard outside the directory", map[string][]byte{"model.json": editManifest(t, func(m map[string]any) {
			g := m["weightsManifest"].([]any)[0].(map[string]any)
			g["paths"].([]any)[0] = "../group1-shard1of7"
		})}},
		{"not the USE graph", map[string][]byte{"model.json": editManifest(t, func(m map[string]any) {
			top := m["modelTopology"].(map[string]any)
			top["node"] = top["node"].([]any)[:10]
		})}},
		{"NaN weights", map[string][]byte{"group1-shard1of7": func() []byte {
			b := append([]byte(nil), readModelFile(t, "group1-shard1of7")...)
			binary.LittleEndian.PutUint32(b[400:], math.Float32bits(float32(math.NaN())))
			return b
		}()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := modelCopy(t, tc.edit)
			m, err := Load(dir, Options{})
			if !errors.Is(err, embed.ErrBadModel) {
				t.Fatalf("Load = %v, %v; want an error wrapping ErrBadModel", m, err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "nowhere"), Options{}); !errors.Is(err, embed.ErrBadModel) {
		t.Errorf("Load(missing dir) = %v, want ErrBadModel", err)
	}
}

func TestDecodeWeight(t *testing.T) {
	f64 := func(v float64) *float64 { return &v }
	tests := []struct {
		name string
		w    manifestWeight
		data []byte
		want []float32
	}{
		{"float32", manifestWeight{Shape: []int{2}, Dtype: "float32"},
			[]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, []float32{1, -2}},
		{"int32", manifestWeight{Shape: []int{2}, Dtype: "int32"},
			[]byte{0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0}, []float32{-1, 7}},
		{"scalar", manifestWeight{Shape: []int{}, Dtype: "int32"},
			[]byte{128, 0, 0, 0}, []float32{128}},
		{"bool", manifestWeight{Shape: []int{3}, Dtype: "bool"}, []byte{1, 0, 5}, []float32{1, 0, 1}},
		{"uint8 affine", manifestWeight{Shape: []int{3}, Dtype: "float32",
			Quantization: &quantization{Dtype: "uint8", Scale: f64(0.5), Min: f64(-1)}},
			[]byte{0, 2, 255}, []float32{-1, 0, 126.5}},
		{"uint16 affine", manifestWeight{Shape: []int{2}, Dtype: "float32",
			Quantization: &quantization{Dtype: "uint16", Scale: f64(0.25), Min: f64(1)}},
			[]byte{4, 0, 0, 1}, []float32{2, 65}},
		{"float16", manifestWeight{Shape: []int{5}, Dtype: "float32",
			Quantization: &quantization{Dtype: "float16"}},
			[]byte{0x00, 0x3c, 0x00, 0xc0, 0x00, 0x00, 0x01, 0x00, 0xff, 0x7b},
			[]float32{1, -2, 0, 1.0 / (1 << 24), 65504}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := decodeWeight(tc.w, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tc.data) {
				t.Errorf("used %d bytes, want %d", n, len(tc.data))
			}
			if len(got.data) != len(tc.want) {
				t.Fatalf("got %v, want %v", got.data, tc.want)
			}
			for i := range tc.want {
				if got.data[i] != tc.want[i] {
					t.Errorf("got %v, want %v", got.data, tc.want)
					break
				}
			}
		})
	}
	bad := []manifestWeight{
		{Shape: []int{4}, Dtype: "float32"},  // data too short
		{Shape: []int{-1}, Dtype: "float32"}, // negative dimension
		{Shape: []int{1 << 20, 1 << 20}, Dtype: "float32"},
		{Shape: []int{1}, Dtype: "float32", Quantization: &quantization{Dtype: "uint8"}},
		{Shape: []int{1}, Dtype: "float32", Quantization: &quantization{Dtype: "int4"}},
	}
	for _, w := range bad {
		if _, _, err := decodeWeight(w, make([]byte, 8)); err == nil {
			t.Errorf("decodeWeight(%+v) succeeded", w)
		}
	}
}

func TestHalfToFloatSpecials(t *testing.T) {
	if v := halfToFloat(0x7c00); !math.IsInf(float64(v), 1) {
		t.Errorf("0x7c00 = %v, want +Inf", v)
	}
	if v := halfToFloat(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("0x7e00 = %v, want NaN", v)
	}
	if v := halfToFloat(0x8000); v != 0 || !math.Signbit(float64(v)) {
		t.Errorf("0x8000 = %v, want -0", v)
	}
	if v := halfToFloat(0x3555); math.Abs(float64(v)-1.0/3) > 1e-3 {
		t.Errorf("0x3555 = %v, want about 1/3", v)
	}
}
