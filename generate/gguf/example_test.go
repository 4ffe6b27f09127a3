package gguf_test

import (
	"fmt"

	"github.com/ragd/ragd/generate/gguf"
)

func ExampleParse() {
	// A minimal GGUF v3 file: no tensors, one string metadata pair.
	data := []byte("GGUF" +
		"\x03\x00\x00\x00" + // version 3
		"\x00\x00\x00\x00\x00\x00\x00\x00" + // 0 tensors
		"\x01\x00\x00\x00\x00\x00\x00\x00" + // 1 metadata pair
		"\x14\x00\x00\x00\x00\x00\x00\x00general.architecture" +
		"\x08\x00\x00\x00" + // type string
		"\x05\x00\x00\x00\x00\x00\x00\x00llama")
	f, err := gguf.Parse(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Version, f.Architecture(), len(f.KV))
	// Output: 3 llama 1
}
