package gguf

// File is the decoded header of a GGUF file: its metadata in file order and
// its tensor descriptors.
type File struct {
	Version     uint32
	TensorCount uint64
	KV          []KV
	Tensors     []TensorInfo
	// Alignment of tensor data (general.alignment, default 32).
	Alignment int64
	// DataOffset is where tensor data begins in the file.
	DataOffset int64

	index map[string]int
}

// KV is one metadata key/value pair.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor; its data is not read.
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   uint32 // ggml_type
	Offset uint64 // relative to File.DataOffset
}

// Get returns the value stored under key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.index[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// String returns the string stored under key.
func (f *File) String(key string) (string, bool) {
	v, ok := f.Get(key)
	if !ok {
		return "", false
	}
	s, ok := v.V.(string)
	return s, ok
}

// Int returns the integer stored under key, whatever its integer type.
func (f *File) Int(key string) (int64, bool) {
	v, ok := f.Get(key)
	if !ok {
		return 0, false
	}
	return v.Int()
}

// Array returns the array stored under key.
func (f *File) Array(key string) (*Array, bool) {
	v, ok := f.Get(key)
	if !ok {
		return nil, false
	}
	a, ok := v.V.(*Array)
	return a, ok
}

// Strings returns the string array stored under key.
func (f *File) Strings(key string) ([]string, bool) {
	a, ok := f.Array(key)
	if !ok {
		return nil, false
	}
	s, ok := a.Values.([]string)
	return s, ok
}

// Architecture returns general.architecture, e.g. "llama" or "bert".
func (f *File) Architecture() string {
	s, _ := f.String("general.architecture")
	return s
}

// Name returns general.name, or "" when absent.
func (f *File) Name() string {
	s, _ := f.String("general.name")
	return s
}

// ContextLength returns <architecture>.context_length, the context size the
// model was trained with.
func (f *File) ContextLength() (int, bool) {
	n, ok := f.Int(f.Architecture() + ".context_length")
	if !ok || n <= 0 || n > 1<<31-1 {
		return 0, false
	}
	return int(n), true
}

// ChatTemplate returns tokenizer.chat_template (usually Jinja), or "".
func (f *File) ChatTemplate() string {
	s, _ := f.String("tokenizer.chat_template")
	return s
}

// TokenizerModel returns tokenizer.ggml.model, e.g. "llama" or "bert".
func (f *File) TokenizerModel() string {
	s, _ := f.String("tokenizer.ggml.model")
	return s
}

// Tokens returns the vocabulary in tokenizer.ggml.tokens.
func (f *File) Tokens() ([]string, bool) {
	return f.Strings("tokenizer.ggml.tokens")
}
