package onnx

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/ragd/ragd/embed"
)

// Memory reports an estimate of what the loaded model keeps resident: the
// size of its ONNX file plus any external-data files beside it (ONNX
// Runtime holds the initializers in memory). ONNX Runtime does not report
// its session's memory through the C API used here, so its arenas and
// per-run buffers are not included; the value is marked Estimated. It
// makes Embedder an embed.MemoryReporter.
func (e *Embedder) Memory() embed.Memory {
	return embed.Memory{Bytes: e.fileBytes, Estimated: true}
}

// modelFileBytes is the size of the ONNX file at path plus its external
// data: files in the same directory named after it (model.onnx_data,
// model.onnx.data, model.onnx.data_0 ...).
func modelFileBytes(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	n := fi.Size()
	base := filepath.Base(path)
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, ent := range entries {
		name := ent.Name()
		if name == base || ent.IsDir() || !strings.HasPrefix(name, base) {
			continue
		}
		if rest := name[len(base):]; strings.HasPrefix(rest, "_data") || strings.HasPrefix(rest, ".data") {
			if info, err := ent.Info(); err == nil {
				n += info.Size()
			}
		}
	}
	return n
}
