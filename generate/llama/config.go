package llama

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/ragd/ragd/generate"
)

// Config tunes a loaded model. The zero value is usable: every zero field
// takes the default documented beside it.
type Config struct {
	// LibDir is the directory holding libllama*.so, libggml*.so and the
	// ggml backend plugins. Default: the first directory from
	// LibDirCandidates (the npm package under node/node_modules, relative
	// to the working directory and to the executable) that exists; with
	// GPULayers set, the CUDA package directories come first.
	LibDir string
	// Slots is how many requests run at once; each slot owns a llama.cpp
	// context (KV cache of ContextSize tokens). Default 1.
	Slots int
	// QueueSize bounds how many requests wait for a free slot; when it is
	// full Generate fails with generate.ErrOverloaded. Default 16; negative
	// means no waiting at all.
	QueueSize int
	// Threads is n_threads for decoding. Default runtime.NumCPU().
	Threads int
	// ContextSize is the context (prompt + completion) in tokens. Default
	// 2048, or the model's trained context when that is smaller.
	ContextSize int
	// BatchSize is n_batch, the most prompt tokens decoded per call.
	// Default 512, capped at ContextSize.
	BatchSize int
	// GPULayers is how many layers to offload (-1 = all). Default 0 (CPU).
	// Non-zero needs a GPU build of the libraries (for example npm
	// @node-llama-cpp/linux-x64-cuda with a CUDA 13 runtime); Load fails
	// with generate.ErrUnavailable when the libraries cannot offload.
	GPULayers int
	// MaxTokens is the completion limit when a request sets none.
	// Default 512.
	MaxTokens int
	// VocabOnly loads only the vocabulary: Tokenize, Detokenize and
	// CountTokens work, Generate fails with generate.ErrUnavailable.
	VocabOnly bool
	// ID names the model in Info. Default: the GGUF general.name, else the
	// file name.
	ID string
	// Render, if set, turns chat messages into a prompt (for example a
	// Jinja renderer of the model's chat template). Default: llama.cpp's
	// built-in template matching the GGUF tokenizer.chat_template, or
	// ChatML when it matches none.
	Render func(msgs []generate.Message) (string, error)
}

func (c Config) withDefaults() Config {
	if c.Slots <= 0 {
		c.Slots = 1
	}
	if c.QueueSize == 0 {
		c.QueueSize = 16
	}
	if c.QueueSize < 0 {
		c.QueueSize = 0
	}
	if c.Threads <= 0 {
		c.Threads = runtime.NumCPU()
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 512
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = 512
	}
	return c
}

// npmLibPath is where npm installs the CPU build of the llama.cpp
// libraries, relative to the repository (or installation) root.
var npmLibPath = filepath.Join("node", "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64")

// npmCUDALibPath is where npm installs the CUDA build
// (@node-llama-cpp/linux-x64-cuda@3.22.1, files libllama.cuda.v0.5.0.so
// and so on).
var npmCUDALibPath = filepath.Join("node", "node_modules", "@node-llama-cpp", "linux-x64-cuda", "bins", "linux-x64-cuda")

// CUDALibDir returns where npm puts the CUDA build of the libraries,
// relative to root. It is searched first when Config.GPULayers is
// non-zero and Config.LibDir is empty.
func CUDALibDir(root string) string {
	return filepath.Join(root, npmCUDALibPath)
}

// DefaultLibDir returns where `npm install` in node/ (scripts/setup.sh)
// puts the llama.cpp libraries, relative to root.
func DefaultLibDir(root string) string {
	return filepath.Join(root, npmLibPath)
}

// LibDirCandidates lists the directories searched when Config.LibDir is
// empty, in order: DefaultLibDir of the working directory and of its
// parents, then of the executable's directory and its parent. With gpu
// set, the CUDALibDir of each of those roots comes before its
// DefaultLibDir.
func LibDirCandidates(gpu bool) []string {
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			roots = append(roots, dir)
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		roots = append(roots, dir, filepath.Dir(dir))
	}
	var out []string
	for _, r := range roots {
		if gpu {
			out = append(out, CUDALibDir(r))
		}
		out = append(out, DefaultLibDir(r))
	}
	return out
}

func findLibDir(gpu bool) string {
	for _, d := range LibDirCandidates(gpu) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}

func discard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
