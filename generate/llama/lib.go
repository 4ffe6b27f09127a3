package llama

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/ragd/ragd/generate"
)

// installHint tells users how to get the libraries.
const installHint = "run scripts/setup.sh (npm install in node/) or set the llama library directory"

// lib holds the process-wide llama.cpp bindings. The libraries and their
// backends can be loaded once per process, so every Model shares one lib.
type lib struct {
	dir     string
	version string

	llamaVersion       func() string
	logSet             func(cb, userData uintptr)
	backendLoadAllFrom func(dir string)
	backendInit        func()
	supportsGPUOffload func() bool
	modelDefaultParams func() modelParams
	ctxDefaultParams   func() contextParams
	modelLoadFromFile  func(path string, p modelParams) uintptr
	modelFree          func(model uintptr)
	modelGetVocab      func(model uintptr) uintptr
	modelNCtxTrain     func(model uintptr) int32
	vocabNTokens       func(vocab uintptr) int32
	vocabIsEOG         func(vocab uintptr, tok int32) bool
	vocabBOS           func(vocab uintptr) int32
	tokenize           func(vocab uintptr, text *byte, textLen int32, toks *int32, nMax int32, addSpecial, parseSpecial bool) int32
	tokenToPiece       func(vocab uintptr, tok int32, buf *byte, length int32, lstrip int32, special bool) int32
	detokenize         func(vocab uintptr, toks *int32, n int32, text *byte, max int32, removeSpecial, unparseSpecial bool) int32
	initFromModel      func(model uintptr, p contextParams) uintptr
	free               func(ctx uintptr)
	nCtx               func(ctx uintptr) uint32
	decode             func(ctx uintptr, b batch) int32
	getMemory          func(ctx uintptr) uintptr
	memoryClear        func(mem uintptr, data bool)
	chatApplyTemplate  func(tmpl *byte, chat *chatMessage, n uintptr, addAss bool, buf *byte, length int32) int32
	samplerChainInit   func(noPerf bool) uintptr // struct llama_sampler_chain_params is one bool
	samplerChainAdd    func(chain, s uintptr)
	samplerInitGreedy  func() uintptr
	samplerInitTopK    func(k int32) uintptr
	samplerInitTopP    func(p float32, minKeep uintptr) uintptr
	samplerInitTemp    func(t float32) uintptr
	samplerInitDist    func(seed uint32) uintptr
	samplerSample      func(s, ctx uintptr, idx int32) int32
	samplerInitBias    func(nVocab, nBias int32, bias *logitBias) uintptr
	samplerFree        func(s uintptr)
	samplerInitGrammar func(vocab uintptr, grammar, root string) uintptr
	samplerApply       func(s uintptr, cur *tokenDataArray)
	samplerAccept      func(s uintptr, tok int32)
	abortCallbackPtr   uintptr
}

var (
	libMu     sync.Mutex
	libLoaded *lib

	// logger receives llama.cpp's log lines; the latest Load's logger wins.
	logger atomic.Pointer[slog.Logger]
	// logCallbackPtr is created once: purego callbacks are never freed.
	logCallbackOnce sync.Once
	logCallbackPtr  uintptr
)

// libNames finds libllama and libggml in dir. A CUDA build names them
// libllama.cuda.v0.5.0.so; preferGPU picks such a variant when present.
func libNames(dir string, preferGPU bool) (llamaName, ggmlName string, err error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "libllama*.v"+headerVersion+".so"))
	sort.Strings(matches)
	var pick string
	for _, m := range matches {
		base := filepath.Base(m)
		infix := strings.TrimSuffix(strings.TrimPrefix(base, "libllama"), ".v"+headerVersion+".so")
		if pick == "" || (preferGPU && infix != "") || (!preferGPU && infix == "") {
			pick = base
		}
	}
	if pick == "" {
		return "", "", fmt.Errorf("%w: no libllama*.v%s.so in %q; %s", generate.ErrUnavailable, headerVersion, dir, installHint)
	}
	infix := strings.TrimSuffix(strings.TrimPrefix(pick, "libllama"), ".v"+headerVersion+".so")
	ggml := "libggml" + infix + ".v" + headerVersion + ".so"
	if _, err := os.Stat(filepath.Join(dir, ggml)); err != nil {
		return "", "", fmt.Errorf("%w: %s without %s in %q; %s", generate.ErrUnavailable, pick, ggml, dir, installHint)
	}
	return pick, ggml, nil
}

// openLib loads the libraries in dir once per process: it installs the log
// callback, checks llama_version(), loads the ggml backend plugins from dir
// and initialises the llama backend, in that order.
func openLib(dir string, preferGPU bool, log *slog.Logger) (*lib, error) {
	logger.Store(log)
	libMu.Lock()
	defer libMu.Unlock()
	if dir == "" && libLoaded != nil {
		return libLoaded, nil // whatever directory it came from
	}
	if dir == "" {
		dir = findLibDir(preferGPU)
		if dir == "" {
			return nil, fmt.Errorf("%w: llama.cpp libraries not found (looked for %s); %s",
				generate.ErrUnavailable, npmLibPath, installHint)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: library dir %q: %w", generate.ErrUnavailable, dir, err)
	}
	if libLoaded != nil {
		if libLoaded.dir != abs {
			return nil, fmt.Errorf("%w: llama.cpp already loaded from %q; cannot switch to %q in one process",
				generate.ErrUnavailable, libLoaded.dir, abs)
		}
		return libLoaded, nil
	}
	llamaName, ggmlName, err := libNames(abs, preferGPU)
	if err != nil {
		return nil, err
	}
	// libggml first so that libllama resolves against it; RUNPATH $ORIGIN
	// finds libggml-base next to them.
	ggmlH, err := purego.Dlopen(filepath.Join(abs, ggmlName), purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w: load %s: %w; %s", generate.ErrUnavailable, ggmlName, err, installHint)
	}
	llamaH, err := purego.Dlopen(filepath.Join(abs, llamaName), purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w: load %s: %w; %s", generate.ErrUnavailable, llamaName, err, installHint)
	}
	l := &lib{dir: abs}
	if err := l.bind(llamaH, ggmlH); err != nil {
		return nil, err
	}
	l.version = l.llamaVersion()
	if err := checkVersion(l.version); err != nil {
		return nil, fmt.Errorf("%s: %w", llamaName, err)
	}
	logCallbackOnce.Do(func() {
		logCallbackPtr = purego.NewCallback(logCallback)
		abortCallbackPtr = purego.NewCallback(abortCallback)
	})
	l.abortCallbackPtr = abortCallbackPtr
	l.logSet(logCallbackPtr, 0)
	l.backendLoadAllFrom(abs)
	l.backendInit()
	libLoaded = l
	log.Debug("llama.cpp loaded", "dir", abs, "lib", llamaName, "version", l.version,
		"gpu_offload", l.supportsGPUOffload())
	return l, nil
}

// bind resolves every function ragd calls, turning a missing symbol into
// an error instead of a panic.
func (l *lib) bind(llamaH, ggmlH uintptr) (err error) {
	reg := func(fptr any, h uintptr, name string) {
		if err != nil {
			return
		}
		sym, e := purego.Dlsym(h, name)
		if e != nil {
			err = fmt.Errorf("%w: symbol %s: %w", generate.ErrUnavailable, name, e)
			return
		}
		purego.RegisterFunc(fptr, sym)
	}
	reg(&l.llamaVersion, llamaH, "llama_version")
	reg(&l.logSet, llamaH, "llama_log_set")
	reg(&l.backendLoadAllFrom, ggmlH, "ggml_backend_load_all_from_path")
	reg(&l.backendInit, llamaH, "llama_backend_init")
	reg(&l.supportsGPUOffload, llamaH, "llama_supports_gpu_offload")
	reg(&l.modelDefaultParams, llamaH, "llama_model_default_params")
	reg(&l.ctxDefaultParams, llamaH, "llama_context_default_params")
	reg(&l.modelLoadFromFile, llamaH, "llama_model_load_from_file")
	reg(&l.modelFree, llamaH, "llama_model_free")
	reg(&l.modelGetVocab, llamaH, "llama_model_get_vocab")
	reg(&l.modelNCtxTrain, llamaH, "llama_model_n_ctx_train")
	reg(&l.vocabNTokens, llamaH, "llama_vocab_n_tokens")
	reg(&l.vocabIsEOG, llamaH, "llama_vocab_is_eog")
	reg(&l.vocabBOS, llamaH, "llama_vocab_bos")
	reg(&l.tokenize, llamaH, "llama_tokenize")
	reg(&l.tokenToPiece, llamaH, "llama_token_to_piece")
	reg(&l.detokenize, llamaH, "llama_detokenize")
	reg(&l.initFromModel, llamaH, "llama_init_from_model")
	reg(&l.free, llamaH, "llama_free")
	reg(&l.nCtx, llamaH, "llama_n_ctx")
	reg(&l.decode, llamaH, "llama_decode")
	reg(&l.getMemory, llamaH, "llama_get_memory")
	reg(&l.memoryClear, llamaH, "llama_memory_clear")
	reg(&l.chatApplyTemplate, llamaH, "llama_chat_apply_template")
	reg(&l.samplerChainInit, llamaH, "llama_sampler_chain_init")
	reg(&l.samplerChainAdd, llamaH, "llama_sampler_chain_add")
	reg(&l.samplerInitGreedy, llamaH, "llama_sampler_init_greedy")
	reg(&l.samplerInitTopK, llamaH, "llama_sampler_init_top_k")
	reg(&l.samplerInitTopP, llamaH, "llama_sampler_init_top_p")
	reg(&l.samplerInitTemp, llamaH, "llama_sampler_init_temp")
	reg(&l.samplerInitDist, llamaH, "llama_sampler_init_dist")
	reg(&l.samplerSample, llamaH, "llama_sampler_sample")
	reg(&l.samplerInitBias, llamaH, "llama_sampler_init_logit_bias")
	reg(&l.samplerFree, llamaH, "llama_sampler_free")
	reg(&l.samplerInitGrammar, llamaH, "llama_sampler_init_grammar")
	reg(&l.samplerApply, llamaH, "llama_sampler_apply")
	reg(&l.samplerAccept, llamaH, "llama_sampler_accept")
	return err
}

// logCallback forwards llama.cpp and ggml log text to the injected logger
// at debug level (ggml_log_callback).
func logCallback(level int32, text *byte, _ uintptr) {
	log := logger.Load()
	if log == nil || text == nil {
		return
	}
	msg := strings.TrimRight(goString(text), "\n")
	if msg == "" {
		return
	}
	log.Debug(msg, "source", "llama.cpp", "level", int(level))
}

// abortFlags are polled by llama.cpp during llama_decode through
// abortCallback; the callback's user data is an index into this table.
var (
	abortMu    sync.Mutex
	abortFlags []*atomic.Bool
)

func newAbortFlag() (uintptr, *atomic.Bool) {
	abortMu.Lock()
	defer abortMu.Unlock()
	f := new(atomic.Bool)
	for i, old := range abortFlags {
		if old == nil {
			abortFlags[i] = f
			return uintptr(i), f
		}
	}
	abortFlags = append(abortFlags, f)
	return uintptr(len(abortFlags) - 1), f
}

// releaseAbortFlag frees an entry once its context is freed.
func releaseAbortFlag(i uintptr) {
	abortMu.Lock()
	defer abortMu.Unlock()
	if i < uintptr(len(abortFlags)) {
		abortFlags[i] = nil
	}
}

// abortCallback is a ggml_abort_callback: non-zero aborts the computation.
func abortCallback(data uintptr) uintptr {
	abortMu.Lock()
	var f *atomic.Bool
	if data < uintptr(len(abortFlags)) {
		f = abortFlags[data]
	}
	abortMu.Unlock()
	if f != nil && f.Load() {
		return 1
	}
	return 0
}

var abortCallbackPtr uintptr

// goString copies a NUL-terminated C string.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// checkVersion accepts the llama_version() family whose struct layouts
// abi.go mirrors ("0.5.0", "0.5.0-dev", ...) and refuses anything else,
// since a by-value struct of another layout would corrupt memory.
func checkVersion(v string) error {
	if v == headerVersion || strings.HasPrefix(v, headerVersion+"-") || strings.HasPrefix(v, headerVersion+"+") {
		return nil
	}
	return fmt.Errorf("%w: llama_version %q is not the %s family this build of ragd was written for (npm @node-llama-cpp/linux-x64@3.22.1)",
		generate.ErrUnavailable, v, headerVersion)
}
