package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ragd/ragd/embed"
)

func TestMemoryIsFileSizeEstimate(t *testing.T) {
	dir := tinyDir(t, RandomModelOptions{})
	e, err := NewEmbedder(dir, testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m, err := loadModelDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(m.onnxPath)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := embed.MemoryOf(e)
	if !ok || !got.Estimated || got.Bytes != fi.Size() {
		t.Fatalf("MemoryOf = %+v, %v; want an estimate of %d bytes (the model file)", got, ok, fi.Size())
	}
}

func TestModelFileBytesCountsExternalData(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("model.onnx", 100)
	write("model.onnx_data", 1000)
	write("model.onnx.data_1", 10)
	write("model_quantized.onnx", 7) // another model: not counted
	write("tokenizer.json", 5)
	if got := modelFileBytes(filepath.Join(dir, "model.onnx")); got != 1110 {
		t.Fatalf("modelFileBytes = %d, want 1110", got)
	}
	if got := modelFileBytes(filepath.Join(dir, "missing.onnx")); got != 0 {
		t.Fatalf("missing file: %d", got)
	}
}
