package gguf

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte("GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error does not wrap ErrFormat: %v", err)
			}
			return
		}
		if len(file.KV) != len(file.index) || uint64(len(file.Tensors)) != file.TensorCount {
			t.Fatalf("inconsistent file: %d kv, %d index, %d/%d tensors",
				len(file.KV), len(file.index), len(file.Tensors), file.TensorCount)
		}
		if file.DataOffset > int64(len(data))+file.Alignment {
			t.Fatalf("data offset %d beyond input of %d", file.DataOffset, len(data))
		}
	})
}
