package llama

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// TestAbortCallbackStopsDecode checks the wiring of llama.cpp's abort
// callback: with the slot's flag raised, llama_decode itself returns 2.
func TestAbortCallbackStopsDecode(t *testing.T) {
	m := oneSlot(t, 0)
	s, err := m.pool.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer m.pool.put(s)
	toks := []int32{1, 9038, 2501, 263, 931}
	m.lib.memoryClear(s.mem, true)
	s.abort.Store(true)
	rc := m.lib.decode(s.ctx, batch{nTokens: int32(len(toks)), token: uintptr(unsafe.Pointer(&toks[0]))})
	if rc != 2 {
		t.Errorf("llama_decode with abort raised = %d, want 2 (aborted)", rc)
	}
	s.abort.Store(false)
	m.lib.memoryClear(s.mem, true)
	rc = m.lib.decode(s.ctx, batch{nTokens: int32(len(toks)), token: uintptr(unsafe.Pointer(&toks[0]))})
	if rc != 0 {
		t.Errorf("llama_decode after lowering abort = %d, want 0", rc)
	}
}

type captureHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *captureHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *captureHandler) WithGroup(string) slog.Handler            { return h }
func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	fromLlama := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "source" && a.Value.String() == "llama.cpp" {
			fromLlama = true
		}
		return true
	})
	if fromLlama && r.Level == slog.LevelDebug {
		h.mu.Lock()
		h.msgs = append(h.msgs, r.Message)
		h.mu.Unlock()
	}
	return nil
}

// TestLogCallback checks that llama.cpp's log output reaches the injected
// logger at debug level (instead of stderr).
func TestLogCallback(t *testing.T) {
	h := &captureHandler{}
	m, err := Load(context.Background(), sharedPath(t, "fixtures/tokenizers/ggml-vocab-llama-spm.gguf"),
		Config{LibDir: testLibDir(t), VocabOnly: true}, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.msgs) < 5 {
		t.Fatalf("only %d llama.cpp log lines reached the logger", len(h.msgs))
	}
	found := false
	for _, msg := range h.msgs {
		if len(msg) > 0 && msg[len(msg)-1] == '\n' {
			t.Errorf("trailing newline kept: %q", msg)
		}
		if strings.Contains(msg, "llama_model_loader") {
			found = true
		}
	}
	if !found {
		t.Errorf("no llama_model_loader line among %d: %q", len(h.msgs), h.msgs[:5])
	}
}

func TestAbortFlagsReused(t *testing.T) {
	i, f := newAbortFlag()
	f.Store(true)
	if abortCallback(i) != 1 {
		t.Error("raised flag not reported")
	}
	releaseAbortFlag(i)
	if abortCallback(i) != 0 {
		t.Error("released flag still reported")
	}
	j, g := newAbortFlag()
	defer releaseAbortFlag(j)
	if j != i || g.Load() {
		t.Errorf("slot %d not reused (got %d) or new flag raised", i, j)
	}
	if abortCallback(1<<40) != 0 {
		t.Error("out-of-range data aborted")
	}
}
