package generate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// messageOverhead is the token allowance per chat message (role header and
// end-of-turn markers) when no Template is given to count them exactly.
const messageOverhead = 8

// EstimateTokens approximates the token count of text for a typical
// subword vocabulary when no tokenizer is at hand: the larger of 4 tokens
// per 3 words and 1 token per 3.5 characters, rounded up. It errs high so
// that packed prompts fit.
func EstimateTokens(text string) int {
	if text == "" {
		return 0
	}
	words := len(strings.Fields(text))
	byWords := (words*4 + 2) / 3
	byChars := (utf8.RuneCountInString(text)*2 + 6) / 7
	return max(byWords, byChars, 1)
}

// PackOptions configures Pack.
type PackOptions struct {
	// SystemPrompt is the system message ("" = none).
	SystemPrompt string
	// Question is the user's question.
	Question string
	// Budget is the context size in tokens that the whole prompt plus the
	// answer must fit in. Required.
	Budget int
	// MaxTokens is the room reserved for the answer.
	MaxTokens int
	// Counter counts tokens; nil means EstimateTokens.
	Counter TokenCounter
	// Template, when set, renders the final prompt so that its exact token
	// count is checked; otherwise messageOverhead tokens per message are
	// allowed for chat markup.
	Template Template
}

// DroppedPassage reports a retrieved passage that was left out of the prompt.
type DroppedPassage struct {
	Rank    int    `json:"rank"`
	DocID   string `json:"doc_id,omitempty"`
	ChunkID string `json:"chunk_id,omitempty"`
	// Tokens is what the passage would have cost.
	Tokens int    `json:"tokens"`
	Reason string `json:"reason"`
}

// PackResult is the outcome of Pack.
type PackResult struct {
	// Passages are the kept passages in rank order, numbered 1..len.
	Passages []Passage
	// Dropped are the passages left out, in rank order.
	Dropped []DroppedPassage
	// Messages is the packed chat: an optional system message and the user
	// message built by UserPrompt.
	Messages []Message
	// PromptTokens is the counted (or estimated) size of Messages.
	PromptTokens int
}

// Pack fits passages (best first) into the token budget. It reserves room
// for the system prompt, the question, chat markup and MaxTokens of answer,
// then keeps passages whole in rank order, skipping any that does not fit
// in what is left (a later, shorter one may still fit) and never cutting
// one. The kept passages are renumbered 1..k. It fails with ErrContextFull
// when even the prompt without passages does not fit.
func Pack(passages []Passage, opts PackOptions) (PackResult, error) {
	if opts.Budget <= 0 {
		return PackResult{}, fmt.Errorf("generate: pack: budget must be positive, got %d", opts.Budget)
	}
	if opts.MaxTokens < 0 {
		return PackResult{}, fmt.Errorf("generate: pack: max tokens must not be negative, got %d", opts.MaxTokens)
	}
	count := func(s string) (int, error) {
		if opts.Counter == nil {
			return EstimateTokens(s), nil
		}
		n, err := opts.Counter.CountTokens(s)
		if err != nil {
			return 0, fmt.Errorf("generate: count tokens: %w", err)
		}
		return n, nil
	}
	measure := func(kept []Passage) ([]Message, int, error) {
		msgs := buildMessages(opts.SystemPrompt, opts.Question, kept)
		if !opts.Template.IsZero() {
			n, err := count(opts.Template.Render(msgs, true))
			return msgs, n, err
		}
		n := messageOverhead * (len(msgs) + 1)
		for _, m := range msgs {
			c, err := count(m.Content)
			if err != nil {
				return nil, 0, err
			}
			n += c
		}
		return msgs, n, nil
	}

	_, fixed, err := measure(nil)
	if err != nil {
		return PackResult{}, err
	}
	if fixed+opts.MaxTokens > opts.Budget {
		return PackResult{}, fmt.Errorf("%w: question and system prompt need %d tokens plus %d for the answer, budget is %d",
			ErrContextFull, fixed, opts.MaxTokens, opts.Budget)
	}
	left := opts.Budget - opts.MaxTokens - fixed
	var res PackResult
	var costs []int
	for _, p := range passages {
		p.N = len(res.Passages) + 1
		c, err := count(FormatPassage(p.N, p) + "\n\n")
		if err != nil {
			return PackResult{}, err
		}
		if c > left {
			res.Dropped = append(res.Dropped, dropped(p, c))
			continue
		}
		left -= c
		res.Passages = append(res.Passages, p)
		costs = append(costs, c)
	}
	// Per-piece counts can differ from the count of the whole (tokens merge
	// across boundaries): check the whole and drop from the end until it fits.
	for {
		msgs, total, err := measure(res.Passages)
		if err != nil {
			return PackResult{}, err
		}
		if total+opts.MaxTokens <= opts.Budget || len(res.Passages) == 0 {
			res.Messages, res.PromptTokens = msgs, total
			break
		}
		last := len(res.Passages) - 1
		res.Dropped = append(res.Dropped, dropped(res.Passages[last], costs[last]))
		res.Passages, costs = res.Passages[:last], costs[:last]
	}
	sortDropped(res.Dropped)
	return res, nil
}

func dropped(p Passage, tokens int) DroppedPassage {
	return DroppedPassage{Rank: p.Rank, DocID: p.DocID, ChunkID: p.ChunkID, Tokens: tokens, Reason: "context budget"}
}

func sortDropped(ds []DroppedPassage) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].Rank < ds[j-1].Rank; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// buildMessages makes the chat for a RAG request.
func buildMessages(system, question string, passages []Passage) []Message {
	var msgs []Message
	if strings.TrimSpace(system) != "" {
		msgs = append(msgs, Message{Role: "system", Content: system})
	}
	return append(msgs, Message{Role: "user", Content: UserPrompt(question, passages)})
}
