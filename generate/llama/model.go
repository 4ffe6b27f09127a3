package llama

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/generate/gguf"
)

// Model is a GGUF model loaded in process by llama.cpp. The weights are
// shared by all requests; each of Config.Slots slots owns a llama.cpp
// context. A Model is safe for concurrent use.
type Model struct {
	lib    *lib
	log    *slog.Logger
	cfg    Config
	path   string
	model  uintptr
	vocab  uintptr
	nVocab int32
	bos    int32
	nCtx   int
	tmpl   string
	info   generate.Info
	pool   *pool
	// biasHook, when set (by tests), adds samplers at the head of every
	// sampler chain.
	biasHook func(chain uintptr)

	// mu is held shared by every call into llama.cpp and exclusively by
	// Close, so the model is never freed under a running call.
	mu     sync.RWMutex
	closed atomic.Bool
}

var (
	_ generate.Generator    = (*Model)(nil)
	_ generate.TokenCounter = (*Model)(nil)
)

// Load validates the GGUF file at modelPath with package gguf, loads the
// llama.cpp libraries (once per process) and then the model, and creates
// cfg.Slots contexts. A missing or malformed model fails with an error
// wrapping generate.ErrBadModel; missing or incompatible libraries with one
// wrapping generate.ErrUnavailable. ctx is checked before each expensive
// step (llama.cpp's loading itself cannot be interrupted).
func Load(ctx context.Context, modelPath string, cfg Config, log *slog.Logger) (*Model, error) {
	log = discard(log)
	cfg = cfg.withDefaults()
	meta, err := gguf.Open(modelPath)
	if err != nil {
		return nil, fmt.Errorf("llama load %q: %w: %w", modelPath, generate.ErrBadModel, err)
	}
	if meta.Architecture() == "" {
		return nil, fmt.Errorf("llama load %q: %w: no general.architecture", modelPath, generate.ErrBadModel)
	}
	if toks, ok := meta.Tokens(); !ok || len(toks) == 0 {
		return nil, fmt.Errorf("llama load %q: %w: no tokenizer.ggml.tokens", modelPath, generate.ErrBadModel)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l, err := openLib(cfg.LibDir, cfg.GPULayers != 0, log)
	if err != nil {
		return nil, fmt.Errorf("llama load: %w", err)
	}
	if cfg.GPULayers != 0 && !l.supportsGPUOffload() {
		return nil, fmt.Errorf("llama load: %w: GPULayers=%d but the libraries in %q cannot offload to a GPU (install npm @node-llama-cpp/linux-x64-cuda and a CUDA 13 runtime, or set GPULayers to 0)",
			generate.ErrUnavailable, cfg.GPULayers, l.dir)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mp := l.modelDefaultParams()
	mp.nGPULayers = int32(cfg.GPULayers)
	mp.vocabOnly = cfg.VocabOnly
	handle := l.modelLoadFromFile(modelPath, mp)
	if handle == 0 {
		return nil, fmt.Errorf("llama load %q: %w: llama.cpp could not load it (see debug log)", modelPath, generate.ErrBadModel)
	}
	m := &Model{lib: l, log: log, cfg: cfg, path: modelPath, model: handle, tmpl: meta.ChatTemplate()}
	m.vocab = l.modelGetVocab(handle)
	m.nVocab = l.vocabNTokens(m.vocab)
	m.bos = l.vocabBOS(m.vocab)
	train := int(l.modelNCtxTrain(handle))
	m.nCtx = cfg.ContextSize
	if m.nCtx <= 0 {
		m.nCtx = 2048
		if train > 0 && train < m.nCtx {
			m.nCtx = train
		}
	} else if train > 0 && m.nCtx > train {
		log.Warn("context size exceeds the model's trained context", "context_size", m.nCtx, "trained", train)
	}
	id := cfg.ID
	if id == "" {
		id = meta.Name()
	}
	if id == "" {
		id = strings.TrimSuffix(filepath.Base(modelPath), filepath.Ext(modelPath))
	}
	m.info = generate.Info{ID: id, Backend: "llama.cpp", ContextSize: m.nCtx}
	if !cfg.VocabOnly {
		if m.pool, err = m.newPool(); err != nil {
			l.modelFree(handle)
			return nil, err
		}
	}
	log.Info("llama model loaded", "path", modelPath, "arch", meta.Architecture(), "id", id,
		"context", m.nCtx, "slots", cfg.Slots, "threads", cfg.Threads, "vocab", m.nVocab)
	return m, nil
}

// newPool creates one context per slot.
func (m *Model) newPool() (*pool, error) {
	p := newPool(m.cfg.Slots, m.cfg.QueueSize)
	for i := 0; i < m.cfg.Slots; i++ {
		s, err := m.newSlot()
		if err != nil {
			p.drain(m.lib)
			return nil, err
		}
		p.put(s)
	}
	return p, nil
}

func (m *Model) newSlot() (*slot, error) {
	cp := m.lib.ctxDefaultParams()
	cp.nCtx = uint32(m.nCtx)
	cp.nBatch = uint32(min(m.cfg.BatchSize, m.nCtx))
	cp.nUbatch = cp.nBatch
	cp.nSeqMax = 1
	cp.nThreads = int32(m.cfg.Threads)
	cp.nThreadsBatch = int32(m.cfg.Threads)
	cp.noPerf = true
	idx, flag := newAbortFlag()
	cp.abortCallback = m.lib.abortCallbackPtr
	cp.abortCallbackData = idx
	c := m.lib.initFromModel(m.model, cp)
	if c == 0 {
		releaseAbortFlag(idx)
		return nil, fmt.Errorf("llama: %w: could not create a context of %d tokens (see debug log)", generate.ErrUnavailable, m.nCtx)
	}
	return &slot{ctx: c, mem: m.lib.getMemory(c), abort: flag, abortID: idx, nBatch: int(cp.nBatch)}, nil
}

// Info describes the model.
func (m *Model) Info() generate.Info { return m.info }

// ChatTemplate returns the GGUF tokenizer.chat_template (usually Jinja),
// or "" when the model has none.
func (m *Model) ChatTemplate() string { return m.tmpl }

// Tokenize turns text into token ids with the model's vocabulary.
// addSpecial adds BOS/EOS as the model is configured to. Text that looks
// like a special token (such as "<s>") is tokenized as plain text;
// Generate, by contrast, parses special tokens in the rendered prompt, as
// chat templates need.
func (m *Model) Tokenize(text string, addSpecial bool) ([]int32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.usable(); err != nil {
		return nil, err
	}
	return m.tokenizeLocked(text, addSpecial, false)
}

func (m *Model) tokenizeLocked(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	if len(text) > math.MaxInt32-16 {
		return nil, fmt.Errorf("llama tokenize: text of %d bytes is too long", len(text))
	}
	// Most text runs 3-5 bytes per token; llama_tokenize reports the
	// exact count when the guess is short, and the call is repeated.
	buf := make([]int32, len(text)/2+16)
	var tp *byte
	if len(text) > 0 {
		tp = unsafeStringData(text)
	}
	n := m.lib.tokenize(m.vocab, tp, int32(len(text)), &buf[0], int32(len(buf)), addSpecial, parseSpecial)
	if n < 0 {
		buf = make([]int32, -n)
		n = m.lib.tokenize(m.vocab, tp, int32(len(text)), &buf[0], int32(len(buf)), addSpecial, parseSpecial)
	}
	runtime.KeepAlive(text)
	if n < 0 {
		return nil, fmt.Errorf("llama tokenize: failed (%d)", n)
	}
	return buf[:n], nil
}

// Detokenize turns token ids back into text, dropping BOS/EOS and
// rendering no other special tokens. As in llama.cpp, a leading BOS is
// dropped but the SentencePiece space prefix after it is kept.
func (m *Model) Detokenize(tokens []int32) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.usable(); err != nil {
		return "", err
	}
	for _, t := range tokens {
		if t < 0 || t >= m.nVocab {
			return "", fmt.Errorf("llama detokenize: token %d outside the vocabulary of %d", t, m.nVocab)
		}
	}
	if len(tokens) == 0 {
		return "", nil
	}
	buf := make([]byte, 8*len(tokens)+16)
	n := m.lib.detokenize(m.vocab, &tokens[0], int32(len(tokens)), &buf[0], int32(len(buf)), true, false)
	if n < 0 {
		buf = make([]byte, -n)
		n = m.lib.detokenize(m.vocab, &tokens[0], int32(len(tokens)), &buf[0], int32(len(buf)), true, false)
	}
	if n < 0 {
		return "", fmt.Errorf("llama detokenize: failed (%d)", n)
	}
	return string(buf[:n]), nil
}

// CountTokens counts the tokens of text without BOS/EOS
// (generate.TokenCounter).
func (m *Model) CountTokens(text string) (int, error) {
	toks, err := m.Tokenize(text, false)
	return len(toks), err
}

// piece renders one generated token as bytes (special tokens as "").
func (m *Model) piece(tok int32, buf []byte) []byte {
	n := m.lib.tokenToPiece(m.vocab, tok, &buf[0], int32(len(buf)), 0, false)
	if n < 0 {
		big := make([]byte, -n)
		n = m.lib.tokenToPiece(m.vocab, tok, &big[0], int32(len(big)), 0, false)
		if n < 0 {
			return nil
		}
		return big[:n]
	}
	return buf[:n]
}

// renderMessages turns chat messages into a prompt: with Config.Render
// when set, else llama.cpp's built-in template that matches the model's
// chat template, else ChatML.
func (m *Model) renderMessages(msgs []generate.Message) (string, error) {
	if m.cfg.Render != nil {
		return m.cfg.Render(msgs)
	}
	if m.tmpl != "" {
		if s, err := m.applyTemplate(m.tmpl, msgs); err == nil {
			return s, nil
		}
		m.log.Debug("chat template not known to llama.cpp; using chatml", "model", m.info.ID)
	}
	return m.applyTemplate("chatml", msgs)
}

func (m *Model) applyTemplate(tmpl string, msgs []generate.Message) (string, error) {
	cstr := func(s string) *byte {
		b := make([]byte, len(s)+1)
		copy(b, s)
		return &b[0]
	}
	if len(msgs) == 0 {
		return "", errors.New("llama chat template: no messages")
	}
	chat := make([]chatMessage, len(msgs))
	total := len(tmpl)
	for i, msg := range msgs {
		if strings.IndexByte(msg.Role, 0) >= 0 || strings.IndexByte(msg.Content, 0) >= 0 {
			return "", fmt.Errorf("llama chat template: message %d contains a NUL byte", i)
		}
		chat[i] = chatMessage{role: cstr(msg.Role), content: cstr(msg.Content)}
		total += len(msg.Role) + len(msg.Content)
	}
	t := cstr(tmpl)
	buf := make([]byte, 2*total+256)
	n := m.lib.chatApplyTemplate(t, &chat[0], uintptr(len(chat)), true, &buf[0], int32(len(buf)))
	if n > int32(len(buf)) {
		buf = make([]byte, n)
		n = m.lib.chatApplyTemplate(t, &chat[0], uintptr(len(chat)), true, &buf[0], int32(len(buf)))
	}
	runtime.KeepAlive(chat)
	if n < 0 || n > int32(len(buf)) {
		return "", errors.New("llama chat template: not supported by llama.cpp")
	}
	if !utf8.Valid(buf[:n]) {
		return "", errors.New("llama chat template: produced invalid UTF-8")
	}
	return string(buf[:n]), nil
}

func (m *Model) usable() error {
	if m.closed.Load() {
		return fmt.Errorf("llama %s: %w: model closed", m.info.ID, generate.ErrUnavailable)
	}
	return nil
}

// Close fails queued requests, waits for running ones to finish and frees
// the contexts and the model. It is safe to call more than once.
func (m *Model) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	if m.pool != nil {
		m.pool.close()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pool != nil {
		m.pool.drain(m.lib)
	}
	m.lib.modelFree(m.model)
	m.model = 0
	return nil
}
