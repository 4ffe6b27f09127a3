package llama

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
	"github.com/ragd/ragd/openaiwire"
)

// Finish reasons reported in the done event.
const (
	FinishStop      = "stop"
	FinishLength    = "length"
	FinishCancelled = "cancelled"
)

// Generate streams a completion of req through emit: token events, then
// one done event with usage and the finish reason ("stop" for an
// end-of-generation token or a stop sequence, "length" for MaxTokens or a
// full context, "cancelled" when ctx ends, in which case Generate returns
// ctx.Err() after the done event). It waits for a free slot while the
// queue has room and fails with generate.ErrOverloaded otherwise. A prompt
// that leaves no room in the context fails with generate.ErrContextFull
// before any event. An error from emit stops generation and is returned.
func (m *Model) Generate(ctx context.Context, req generate.Request, emit func(generate.Event) error) error {
	if emit == nil {
		return fmt.Errorf("llama generate: %w: nil emit callback", data.ErrInvalid)
	}
	if err := validate(req); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.usable(); err != nil {
		return err
	}
	if m.pool == nil {
		return fmt.Errorf("llama generate: %w: model loaded vocabulary-only", generate.ErrUnavailable)
	}
	var gbnf string
	var err error
	var tc *toolCollector
	if req.ToolsActive() {
		if gbnf, err = toolGrammar(req); err != nil {
			return err
		}
		tc = &toolCollector{emit: emit, forced: req.ToolChoice != nil && req.ToolChoice.Mode != openaiwire.ToolChoiceAuto}
		emit = tc.event
	} else if gbnf, err = grammarFor(req.ResponseFormat); err != nil {
		return err
	}
	prompt := req.Prompt
	if len(req.Messages) > 0 {
		if prompt, err = m.renderMessages(toolMessages(req)); err != nil {
			return fmt.Errorf("llama generate: %w", err)
		}
	}
	tokens, err := m.promptTokens(prompt)
	if err != nil {
		return err
	}
	maxTokens := req.MaxTokens
	if maxTokens == 0 {
		maxTokens = m.cfg.MaxTokens
		if req.ResponseFormat.Structured() || (tc != nil && tc.forced) {
			// A JSON document cut short is an error, so structured
			// output without max_tokens may use the whole context.
			maxTokens = m.nCtx
		}
	}
	s, err := m.pool.get(ctx)
	if err != nil {
		return fmt.Errorf("llama generate: %w", err)
	}
	defer m.pool.put(s)
	err = m.run(ctx, s, tokens, req, gbnf, maxTokens, emit)
	if tc != nil && tc.decided && !tc.call && errors.Is(err, generate.ErrIncomplete) {
		err = nil // a text answer (tool_choice auto) may end at max_tokens
	}
	return err
}

func validate(req generate.Request) error {
	switch {
	case req.Prompt == "" && len(req.Messages) == 0:
		return fmt.Errorf("llama generate: %w: empty prompt and no messages", data.ErrInvalid)
	case req.MaxTokens < 0:
		return fmt.Errorf("llama generate: %w: max_tokens %d", data.ErrInvalid, req.MaxTokens)
	case math.IsNaN(req.Temperature) || req.Temperature < 0:
		return fmt.Errorf("llama generate: %w: temperature %v", data.ErrInvalid, req.Temperature)
	case math.IsNaN(req.TopP) || req.TopP < 0 || req.TopP > 1:
		return fmt.Errorf("llama generate: %w: top_p %v outside [0, 1]", data.ErrInvalid, req.TopP)
	case req.TopK < 0:
		return fmt.Errorf("llama generate: %w: top_k %d", data.ErrInvalid, req.TopK)
	}
	return nil
}

// promptTokens tokenizes a prompt with BOS, keeping one BOS when the
// prompt text (typically a rendered chat template) already starts with it,
// and checks that at least one token of completion fits the context.
func (m *Model) promptTokens(prompt string) ([]int32, error) {
	tokens, err := m.tokenizeLocked(prompt, true, true)
	if err != nil {
		return nil, fmt.Errorf("llama generate: %w", err)
	}
	if len(tokens) >= 2 && tokens[0] == m.bos && tokens[1] == m.bos {
		tokens = tokens[1:]
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("llama generate: %w: prompt has no tokens", data.ErrInvalid)
	}
	if len(tokens) >= m.nCtx {
		return nil, fmt.Errorf("llama generate: %w: %d prompt tokens, context holds %d",
			generate.ErrContextFull, len(tokens), m.nCtx)
	}
	return tokens, nil
}

// newSampler builds the sampler chain of a request: the grammar sampler
// when gbnf is set (first, so that every later sampler sees only tokens
// the grammar allows), then greedy at temperature 0, else top-k (default
// 40), top-p when set, temperature and a seeded distribution sampler
// (random seed when req.Seed is nil).
func (m *Model) newSampler(req generate.Request, gbnf string) (uintptr, error) {
	l := m.lib
	chain := l.samplerChainInit(true)
	if m.biasHook != nil {
		m.biasHook(chain)
	}
	if gbnf != "" {
		g, err := m.initGrammar(gbnf)
		if err != nil {
			l.samplerFree(chain)
			return 0, err
		}
		l.samplerChainAdd(chain, g)
	}
	if req.Temperature == 0 {
		l.samplerChainAdd(chain, l.samplerInitGreedy())
		return chain, nil
	}
	k := req.TopK
	if k == 0 {
		k = 40
	}
	l.samplerChainAdd(chain, l.samplerInitTopK(int32(k)))
	if req.TopP > 0 && req.TopP < 1 {
		l.samplerChainAdd(chain, l.samplerInitTopP(float32(req.TopP), 1))
	}
	l.samplerChainAdd(chain, l.samplerInitTemp(float32(req.Temperature)))
	seed := uint32(defaultSeed)
	if req.Seed != nil {
		seed = *req.Seed
	}
	l.samplerChainAdd(chain, l.samplerInitDist(seed))
	return chain, nil
}

// errAborted reports a llama_decode stopped by the abort callback.
var errAborted = errors.New("llama: decode aborted")

// decode runs tokens through the slot's context in batches of nBatch.
func (m *Model) decode(s *slot, tokens []int32) error {
	for i := 0; i < len(tokens); i += s.nBatch {
		chunk := tokens[i:min(i+s.nBatch, len(tokens))]
		rc := m.lib.decode(s.ctx, batch{nTokens: int32(len(chunk)), token: uintptr(unsafe.Pointer(&chunk[0]))})
		runtime.KeepAlive(chunk)
		switch {
		case rc == 2 || s.abort.Load():
			return errAborted
		case rc == 1:
			return fmt.Errorf("llama decode: %w: no room in the KV cache", generate.ErrContextFull)
		case rc != 0:
			return fmt.Errorf("llama decode: failed with code %d", rc)
		}
	}
	return nil
}

// run generates on slot s, constrained by the grammar gbnf when set. With
// a grammar, stop sequences are not applied (they would cut the document)
// and a completion ended by maxTokens or the context fails with
// generate.ErrIncomplete after the done event.
func (m *Model) run(ctx context.Context, s *slot, tokens []int32, req generate.Request, gbnf string, maxTokens int,
	emit func(generate.Event) error) error {
	l := m.lib
	l.memoryClear(s.mem, true)
	s.abort.Store(false)
	fired := make(chan struct{})
	stopAbort := context.AfterFunc(ctx, func() { s.abort.Store(true); close(fired) })
	defer func() {
		// The slot goes back to the pool after this: make sure a late
		// cancellation cannot abort the next request's decode.
		if !stopAbort() {
			<-fired
		}
	}()
	sampler, err := m.newSampler(req, gbnf)
	if err != nil {
		return err
	}
	defer l.samplerFree(sampler)

	usage := &generate.Usage{PromptTokens: len(tokens)}
	finish := ""
	err = m.decode(s, tokens)
	if s.tokens == nil {
		s.tokens = make([]int32, 1)
	}
	stops := req.Stop
	if gbnf != "" {
		stops = nil
	}
	out := newStopFilter(stops)
	buf := make([]byte, 256)
	pos := len(tokens)
	for err == nil && finish == "" {
		if ctx.Err() != nil {
			err = errAborted
			break
		}
		tok := l.samplerSample(sampler, s.ctx, -1)
		if l.vocabIsEOG(m.vocab, tok) {
			finish = FinishStop
			break
		}
		usage.CompletionTokens++
		delta, hit := out.push(m.piece(tok, buf))
		if delta != "" {
			if e := emit(generate.Event{Type: generate.EventToken, Delta: delta}); e != nil {
				return e
			}
		}
		switch {
		case hit:
			finish = FinishStop
		case usage.CompletionTokens >= maxTokens || pos+1 >= m.nCtx:
			finish = FinishLength
		default:
			s.tokens[0] = tok
			err = m.decode(s, s.tokens)
			pos++
		}
	}
	if errors.Is(err, errAborted) {
		if e := emit(generate.Event{Type: generate.EventDone, Usage: usage, FinishReason: FinishCancelled}); e != nil {
			return e
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("llama generate: %w", err)
	}
	if errors.Is(err, generate.ErrContextFull) && usage.CompletionTokens > 0 {
		finish, err = FinishLength, nil
	}
	if err != nil {
		return fmt.Errorf("llama generate: %w", err)
	}
	if rest := out.flush(); rest != "" {
		if e := emit(generate.Event{Type: generate.EventToken, Delta: rest}); e != nil {
			return e
		}
	}
	if e := emit(generate.Event{Type: generate.EventDone, Usage: usage, FinishReason: finish}); e != nil {
		return e
	}
	if gbnf != "" && finish == FinishLength {
		return fmt.Errorf("llama generate: %w (%d tokens)", generate.ErrIncomplete, usage.CompletionTokens)
	}
	return nil
}
