// Package gguf reads the header and metadata of GGUF model files (the
// container format of llama.cpp and ggml) without loading tensor data.
//
// A GGUF file starts with the magic "GGUF", a version (2 and 3 are
// supported), a tensor count and a metadata count, followed by typed
// key/value pairs (integers, floats, booleans, strings and arrays of them)
// and one descriptor per tensor. This package decodes all of that and
// stops where the tensor data begins.
//
// The reader is defensive: every count and length is checked against
// configurable limits and against the bytes that remain in the file before
// anything is allocated, so a truncated or hostile file yields an error
// wrapping [ErrFormat] instead of a panic or a huge allocation. ragd uses
// it to validate a model before handing the path to llama.cpp, which may
// abort the process on malformed input.
//
// Typical use:
//
//	f, err := gguf.Open("model.gguf")
//	if err != nil { ... }
//	arch := f.Architecture()          // "llama"
//	n, _ := f.ContextLength()         // llama.context_length
//	tmpl := f.ChatTemplate()          // tokenizer.chat_template
//	toks, _ := f.Strings("tokenizer.ggml.tokens")
package gguf
