package onnx

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// Sentinel errors.
var (
	// ErrRuntime: the ONNX Runtime shared library is missing or fails to load.
	ErrRuntime = errors.New("onnx: ONNX Runtime unavailable")
	// ErrCUDA: Device "cuda" was asked for but cannot be used.
	ErrCUDA = errors.New("onnx: CUDA execution provider unavailable")
	// ErrClosed: the Embedder or Reranker was closed.
	ErrClosed = errors.New("onnx: closed")
	// ErrConfig: a Config field is invalid.
	ErrConfig = errors.New("onnx: bad config")
)

// DefaultLibraryPath is where scripts/setup.sh puts ONNX Runtime 1.30.0,
// relative to the repository root.
const DefaultLibraryPath = "node/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

// cudaProviderLib is ONNX Runtime's CUDA execution provider, loaded by the
// runtime from its own directory.
const cudaProviderLib = "libonnxruntime_providers_cuda.so"

// env is the process-wide ONNX Runtime environment. It is initialised on
// first success and never torn down; a failed attempt (for example a wrong
// path) may be retried with another path.
var env struct {
	mu    sync.Mutex
	ready bool
	path  string
}

// initRuntime loads the library and creates the environment once.
func initRuntime(path string, log *slog.Logger) error {
	if path == "" {
		path = DefaultLibraryPath
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%w: library %s not found (run scripts/setup.sh, or npm install --ignore-scripts in node/, or set the library path): %w",
			ErrRuntime, path, err)
	}
	env.mu.Lock()
	defer env.mu.Unlock()
	if env.ready || ort.IsInitialized() {
		if env.path != "" && !sameFile(env.path, path) {
			log.Warn("onnx: runtime already loaded from another path; reusing it",
				"loaded", env.path, "requested", path)
		}
		env.ready = true
		return nil
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("%w: loading %s: %w", ErrRuntime, path, err)
	}
	env.ready, env.path = true, path
	log.Info("onnx: runtime loaded", "path", path, "version", ort.GetVersion())
	return nil
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// sessionOptions builds ONNX Runtime session options for cfg.
func sessionOptions(cfg Config) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("%w: session options: %w", ErrRuntime, err)
	}
	threads := cfg.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		_ = opts.Destroy() // cleanup on the error path; the error below is the one to report
		return nil, fmt.Errorf("%w: intra-op threads: %w", ErrRuntime, err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		_ = opts.Destroy() // cleanup on the error path; the error below is the one to report
		return nil, fmt.Errorf("%w: inter-op threads: %w", ErrRuntime, err)
	}
	if cfg.Device == DeviceCUDA {
		if err := appendCUDA(opts, cfg); err != nil {
			_ = opts.Destroy() // cleanup on the error path; the error below is the one to report
			return nil, err
		}
	}
	return opts, nil
}

// appendCUDA adds the CUDA execution provider, failing clearly when the
// provider library (shipped separately from the CPU runtime) is absent or
// cannot start (no driver, no GPU, wrong CUDA/cuDNN).
func appendCUDA(opts *ort.SessionOptions, cfg Config) error {
	lib := cfg.LibraryPath
	if lib == "" {
		lib = DefaultLibraryPath
	}
	provider := filepath.Join(filepath.Dir(lib), cudaProviderLib)
	if _, err := os.Stat(provider); err != nil {
		return fmt.Errorf("%w: %s not found next to %s; install a GPU build of ONNX Runtime 1.30 (CUDA 12, cuDNN 9) and point the library path at it",
			ErrCUDA, cudaProviderLib, lib)
	}
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCUDA, err)
	}
	defer func() { _ = cuda.Destroy() }() // releasing the options cannot fail usefully
	if err := cuda.Update(map[string]string{"device_id": fmt.Sprint(cfg.CUDADevice)}); err != nil {
		return fmt.Errorf("%w: device %d: %w", ErrCUDA, cfg.CUDADevice, err)
	}
	if err := opts.AppendExecutionProviderCUDA(cuda); err != nil {
		return fmt.Errorf("%w: %w", ErrCUDA, err)
	}
	return nil
}
