package extractive

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/generate"
)

// Prefix starts every extractive answer.
const Prefix = "Extractive answer (no language model configured): "

// Config configures a Generator. Zero values take the documented defaults.
type Config struct {
	// MaxSentences is the most sentences an answer quotes (default 4).
	MaxSentences int
	// MinRelativeScore drops sentences scoring below this fraction of the
	// best sentence's score (default 0.2).
	MinRelativeScore float64
	// ContextSize is the budget reported in Info, in estimated tokens
	// (default 8192).
	ContextSize int
	// WordDelay paces streaming, one word per delay (default 0: no pause).
	WordDelay time.Duration
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
}

// Generator answers by quoting the most relevant retrieved sentences. It is
// safe for concurrent use.
type Generator struct {
	cfg Config
	log *slog.Logger
}

// New returns a Generator with cfg's defaults filled in.
func New(cfg Config) *Generator {
	if cfg.MaxSentences <= 0 {
		cfg.MaxSentences = 4
	}
	if cfg.MinRelativeScore <= 0 || cfg.MinRelativeScore > 1 {
		cfg.MinRelativeScore = 0.2
	}
	if cfg.ContextSize <= 0 {
		cfg.ContextSize = 8192
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Generator{cfg: cfg, log: log}
}

// Info describes the generator.
func (g *Generator) Info() generate.Info {
	return generate.Info{ID: "extractive", Backend: "extractive", ContextSize: g.cfg.ContextSize}
}

// Generate answers a request that carries a RAG prompt: the passages and the
// question are parsed from the last user message (or from Prompt) with
// generate.ParsePassages. Text without numbered passages is treated as a
// question with nothing to answer from.
func (g *Generator) Generate(ctx context.Context, req generate.Request, emit func(generate.Event) error) error {
	src := req.Prompt
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			src = req.Messages[i].Content
			break
		}
	}
	question, passages := generate.ParsePassages(src)
	return g.AnswerPassages(ctx, question, passages, req, emit)
}

// AnswerPassages implements generate.PassageAnswerer: it streams the
// extractive answer word by word, honouring ctx, req.MaxTokens (counted in
// words; finish reason "length") and req.Stop (the answer ends before the
// first stop text; finish reason "stop").
func (g *Generator) AnswerPassages(ctx context.Context, question string, passages []generate.Passage, req generate.Request, emit func(generate.Event) error) error {
	if req.MaxTokens < 0 {
		return fmt.Errorf("extractive: %w: max tokens %d", data.ErrInvalid, req.MaxTokens)
	}
	if req.ToolsActive() {
		return fmt.Errorf("extractive: %w (this server's generator is extractive)", generate.ErrNoTools)
	}
	if req.ResponseFormat.Structured() {
		return fmt.Errorf("extractive: %w (this server's generator is extractive: it quotes passages and cannot write JSON)", generate.ErrNoStructuredOutput)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	text := g.Compose(question, passages)
	finish := "stop"
	for _, s := range req.Stop {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 {
			text = text[:i]
		}
	}
	ws := strings.Fields(text)
	if req.MaxTokens > 0 && len(ws) > req.MaxTokens {
		ws, finish = ws[:req.MaxTokens], "length"
	}
	var timer *time.Timer
	if g.cfg.WordDelay > 0 {
		timer = time.NewTimer(g.cfg.WordDelay)
		defer timer.Stop()
	}
	for i, w := range ws {
		if err := ctx.Err(); err != nil {
			return err
		}
		if timer != nil && i > 0 {
			timer.Reset(g.cfg.WordDelay)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		}
		if i > 0 {
			w = " " + w
		}
		if err := emit(generate.Event{Type: generate.EventToken, Delta: w}); err != nil {
			return err
		}
	}
	prompt := generate.EstimateTokens(question)
	for _, p := range passages {
		prompt += generate.EstimateTokens(p.Text)
	}
	g.log.Debug("extractive answer", "passages", len(passages), "words", len(ws), "finish", finish)
	return emit(generate.Event{
		Type: generate.EventDone, FinishReason: finish,
		Usage: &generate.Usage{PromptTokens: prompt, CompletionTokens: len(ws)},
	})
}

// sentence is one candidate sentence.
type sentence struct {
	text    string
	n       int // passage number for the [n] marker
	passage int // position of the passage in the input (rank order)
	pos     int // index of the sentence within its passage
	terms   map[string]bool
	words   int
	score   float64
}

// Compose builds the whole answer text for question from passages (given
// best first). Passages without a number (N = 0) are cited by their
// 1-based position.
func (g *Generator) Compose(question string, passages []generate.Passage) string {
	if len(passages) == 0 {
		return Prefix + "no passages were retrieved, so there is nothing to answer from."
	}
	cands := candidates(passages)
	q := uniqueTerms(question)
	score(cands, q)
	picked := g.pick(cands)
	if len(picked) == 0 {
		lead := firstSentence(cands)
		if lead == nil {
			return Prefix + "the retrieved passages contain no text to answer from."
		}
		return Prefix + "the retrieved passages do not appear to answer this question. The closest passage says: " + cite(lead.text, lead.n)
	}
	parts := make([]string, len(picked))
	for i, s := range picked {
		parts[i] = cite(s.text, s.n)
	}
	return Prefix + strings.Join(parts, " ")
}

func candidates(passages []generate.Passage) []*sentence {
	var out []*sentence
	for pi, p := range passages {
		n := p.N
		if n <= 0 {
			n = pi + 1
		}
		for si, s := range splitSentences(p.Text) {
			s = strings.Join(strings.Fields(s), " ")
			ws := words(s)
			if len(ws) == 0 {
				continue
			}
			ts := map[string]bool{}
			for _, t := range terms(s) {
				ts[t] = true
			}
			out = append(out, &sentence{text: s, n: n, passage: pi, pos: si, terms: ts, words: len(ws)})
		}
	}
	return out
}

func uniqueTerms(text string) []string {
	seen := map[string]bool{}
	var out []string
	ts := terms(text)
	if len(ts) == 0 { // a question of stop words only: use its words
		for _, w := range words(text) {
			ts = append(ts, stem(w))
		}
	}
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// minWords is the shortest sentence worth quoting ("Ovens vary." is not).
const minWords = 3

// score sets each sentence's score: the idf-weighted share of the question's
// terms it contains, damped for very long or very short sentences, for late
// positions in the passage and for lower-ranked passages.
func score(cands []*sentence, q []string) {
	if len(q) == 0 || len(cands) == 0 {
		return
	}
	idf := make(map[string]float64, len(q))
	var total float64
	for _, t := range q {
		df := 0
		for _, s := range cands {
			if s.terms[t] {
				df++
			}
		}
		idf[t] = math.Log(1 + float64(len(cands))/float64(df+1))
		total += idf[t]
	}
	for _, s := range cands {
		var overlap float64
		for _, t := range q {
			if s.terms[t] {
				overlap += idf[t]
			}
		}
		if overlap == 0 || total == 0 || s.words < minWords {
			continue
		}
		lengthPrior := 1.0
		if s.words > 40 {
			lengthPrior = 1 / (1 + float64(s.words-40)/40)
		} else if s.words < 5 {
			lengthPrior = 0.6
		}
		rankPrior := 1 / (1 + 0.15*float64(s.passage))
		posPrior := 1 / (1 + 0.05*float64(s.pos))
		s.score = overlap / total * lengthPrior * rankPrior * posPrior
	}
}

// pick chooses up to MaxSentences scoring sentences, skipping
// near-duplicates, and returns them in reading order.
func (g *Generator) pick(cands []*sentence) []*sentence {
	ranked := make([]*sentence, 0, len(cands))
	for _, s := range cands {
		if s.score > 0 {
			ranked = append(ranked, s)
		}
	}
	if len(ranked) == 0 {
		return nil
	}
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].score > ranked[j].score })
	floor := ranked[0].score * g.cfg.MinRelativeScore
	var picked []*sentence
	for _, s := range ranked {
		if len(picked) == g.cfg.MaxSentences || s.score < floor {
			break
		}
		dup := false
		for _, p := range picked {
			if similar(s, p) {
				dup = true
				break
			}
		}
		if !dup {
			picked = append(picked, s)
		}
	}
	sort.SliceStable(picked, func(i, j int) bool {
		if picked[i].passage != picked[j].passage {
			return picked[i].passage < picked[j].passage
		}
		return picked[i].pos < picked[j].pos
	})
	return picked
}

// similar reports near-duplicate sentences: equal text ignoring case and
// spacing, or term sets with Jaccard similarity of 0.6 or more.
func similar(a, b *sentence) bool {
	if strings.EqualFold(a.text, b.text) {
		return true
	}
	if len(a.terms) == 0 || len(b.terms) == 0 {
		return false
	}
	inter := 0
	for t := range a.terms {
		if b.terms[t] {
			inter++
		}
	}
	union := len(a.terms) + len(b.terms) - inter
	return float64(inter)/float64(union) >= 0.6
}

func firstSentence(cands []*sentence) *sentence {
	for _, s := range cands {
		if s.passage == cands[0].passage {
			return s
		}
	}
	return nil
}

// cite puts " [n]" before a sentence's closing punctuation, adding a full
// stop when it has none.
func cite(s string, n int) string {
	marker := " [" + strconv.Itoa(n) + "]"
	end := len(s)
	for end > 0 && strings.ContainsRune(`"')`, rune(s[end-1])) {
		end--
	}
	if end > 0 && strings.ContainsRune(".!?", rune(s[end-1])) {
		return strings.TrimRight(s[:end-1], " ") + marker + s[end-1:]
	}
	return strings.TrimRight(s, " ") + marker + "."
}
