package llama

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
)

// FirstTokenTimes compares the time to the first token of a greedy
// completion through Model.Generate with a bare sequence of llama.cpp
// calls on the same prompt and model (tokenize, clear the KV cache, decode
// the prompt, sample one token, render it). The difference is what ragd
// adds: validation, slot queueing, the sampler chain, stop filtering and
// the event callback.
type FirstTokenTimes struct {
	Runs         int
	PromptTokens int
	Generate     time.Duration // median through Model.Generate
	Bare         time.Duration // median through bare llama.cpp calls
	// Overhead is the median of the per-run differences Generate - Bare
	// (runs alternate between the two).
	Overhead time.Duration
	// GenerateMin and BareMin are the fastest runs: on a machine shared
	// with other work they are the least noisy estimate, and their
	// difference is ragd's added time.
	GenerateMin, BareMin time.Duration
}

func (f FirstTokenTimes) String() string {
	return fmt.Sprintf("first token over %d runs, %d prompt tokens: median Generate %v, bare llama.cpp %v, paired overhead %v; fastest Generate %v, bare %v, overhead %v",
		f.Runs, f.PromptTokens, f.Generate, f.Bare, f.Overhead, f.GenerateMin, f.BareMin, f.GenerateMin-f.BareMin)
}

var errFirstToken = errors.New("llama bench: first token")

// BenchFirstToken measures FirstTokenTimes over runs pairs of runs, one
// of each path, in alternating order. It is meant for `ragd bench
// generate`. On a loaded machine use many runs: the medians are robust,
// single runs are not.
func (m *Model) BenchFirstToken(ctx context.Context, prompt string, runs int) (FirstTokenTimes, error) {
	if runs <= 0 || prompt == "" {
		return FirstTokenTimes{}, fmt.Errorf("llama bench: %w: need a prompt and runs > 0", data.ErrInvalid)
	}
	res := FirstTokenTimes{Runs: runs}
	var gen, bare, diff []time.Duration
	for i := 0; i < runs; i++ {
		// Alternate which path goes first so that neither always runs
		// on caches warmed by the other.
		var (
			g, b time.Duration
			n    int
			err  error
		)
		if i%2 == 0 {
			if g, err = m.firstTokenGenerate(ctx, prompt); err == nil {
				b, n, err = m.firstTokenBare(ctx, prompt)
			}
		} else {
			if b, n, err = m.firstTokenBare(ctx, prompt); err == nil {
				g, err = m.firstTokenGenerate(ctx, prompt)
			}
		}
		if err != nil {
			return res, err
		}
		res.PromptTokens = n
		gen, bare, diff = append(gen, g), append(bare, b), append(diff, g-b)
	}
	res.Generate, res.Bare, res.Overhead = median(gen), median(bare), median(diff)
	res.GenerateMin, res.BareMin = gen[0], bare[0] // median sorted them
	return res, nil
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// firstTokenGenerate times Generate from the call to its first token event.
func (m *Model) firstTokenGenerate(ctx context.Context, prompt string) (time.Duration, error) {
	var took time.Duration
	start := time.Now()
	err := m.Generate(ctx, generate.Request{Prompt: prompt, MaxTokens: 16}, func(e generate.Event) error {
		if e.Type == generate.EventToken {
			took = time.Since(start)
			return errFirstToken
		}
		return nil
	})
	if !errors.Is(err, errFirstToken) {
		return 0, fmt.Errorf("llama bench: no first token: %v", err) //nolint:errorlint // cause kept as text: a cancelled run must not read as context.Canceled to callers
	}
	return took, nil
}

// firstTokenBare times the plain llama.cpp call sequence on a slot taken
// from the pool before the clock starts.
func (m *Model) firstTokenBare(ctx context.Context, prompt string) (time.Duration, int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.usable(); err != nil {
		return 0, 0, err
	}
	if m.pool == nil {
		return 0, 0, fmt.Errorf("llama bench: %w: model loaded vocabulary-only", generate.ErrUnavailable)
	}
	s, err := m.pool.get(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer m.pool.put(s)
	l := m.lib
	buf := make([]int32, len(prompt)+8)
	piece := make([]byte, 256)
	start := time.Now()
	n := l.tokenize(m.vocab, unsafe.StringData(prompt), int32(len(prompt)), &buf[0], int32(len(buf)), true, true)
	if n <= 0 || int(n) > s.nBatch || int(n) >= m.nCtx {
		return 0, 0, fmt.Errorf("llama bench: prompt of %d tokens must fit one batch of %d", n, s.nBatch)
	}
	l.memoryClear(s.mem, true)
	rc := l.decode(s.ctx, batch{nTokens: n, token: uintptr(unsafe.Pointer(&buf[0]))})
	runtime.KeepAlive(buf)
	if rc != 0 {
		return 0, 0, fmt.Errorf("llama bench: decode failed (%d)", rc)
	}
	smpl := l.samplerChainInit(true)
	l.samplerChainAdd(smpl, l.samplerInitGreedy())
	tok := l.samplerSample(smpl, s.ctx, -1)
	l.tokenToPiece(m.vocab, tok, &piece[0], int32(len(piece)), 0, false)
	took := time.Since(start)
	l.samplerFree(smpl)
	return took, int(n), nil
}
