package generate

import (
	"errors"
	"strings"
	"testing"
)

// wordCounter counts whitespace-separated words: a deterministic stand-in
// for a tokenizer.
type wordCounter struct{ calls int }

func (w *wordCounter) CountTokens(s string) (int, error) {
	w.calls++
	return len(strings.Fields(s)), nil
}

type failingCounter struct{}

func (failingCounter) CountTokens(string) (int, error) { return 0, errors.New("tokenizer broke") }

func words(n int, word string) string {
	return strings.TrimSpace(strings.Repeat(word+" ", n))
}

func TestPackKeepsWholePassagesInRankOrder(t *testing.T) {
	ps := []Passage{
		{Rank: 0, DocID: "a", ChunkID: "a#0", Source: "a.md", Text: words(20, "alpha")},
		{Rank: 1, DocID: "b", ChunkID: "b#0", Source: "b.md", Text: words(60, "beta")},
		{Rank: 2, DocID: "c", ChunkID: "c#0", Source: "c.md", Text: words(10, "gamma")},
		{Rank: 3, DocID: "d", ChunkID: "d#0", Source: "d.md", Text: words(30, "delta")},
	}
	wc := &wordCounter{}
	base := PackOptions{SystemPrompt: "Answer from passages.", Question: "What is alpha?", MaxTokens: 50, Counter: wc}
	empty := base
	empty.Budget = 1 << 20
	res0, err := Pack(nil, empty)
	if err != nil {
		t.Fatal(err)
	}
	fixed := res0.PromptTokens
	cost := func(n int, p Passage) int { c, _ := wc.CountTokens(FormatPassage(n, p)); return c }
	// Room for passages a and c (numbered 1 and 2) but not b or d.
	opts := base
	opts.Budget = fixed + base.MaxTokens + cost(1, ps[0]) + cost(2, ps[2]) + 5
	res, err := Pack(ps, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Passages) != 2 || res.Passages[0].DocID != "a" || res.Passages[1].DocID != "c" {
		t.Fatalf("kept %+v, want a and c", res.Passages)
	}
	for i, p := range res.Passages {
		if p.N != i+1 {
			t.Errorf("passage %s numbered %d, want %d", p.DocID, p.N, i+1)
		}
		if p.Text != ps[p.Rank].Text {
			t.Errorf("passage %s was cut", p.DocID)
		}
	}
	if len(res.Dropped) != 2 || res.Dropped[0].DocID != "b" || res.Dropped[0].Rank != 1 || res.Dropped[1].DocID != "d" {
		t.Fatalf("dropped %+v, want b and d", res.Dropped)
	}
	if res.Dropped[0].Tokens != cost(2, ps[1]) || res.Dropped[0].Reason == "" {
		t.Errorf("dropped b reports %d tokens (want %d) reason %q", res.Dropped[0].Tokens, cost(2, ps[1]), res.Dropped[0].Reason)
	}
	if res.PromptTokens+opts.MaxTokens > opts.Budget {
		t.Errorf("prompt %d + answer %d exceeds budget %d", res.PromptTokens, opts.MaxTokens, opts.Budget)
	}
	user := res.Messages[len(res.Messages)-1].Content
	if !strings.Contains(user, "[1] (a.md) alpha") || !strings.Contains(user, "[2] (c.md) gamma") || strings.Contains(user, "beta") {
		t.Errorf("user prompt does not hold exactly the kept passages:\n%s", user)
	}
	if res.Messages[0].Role != "system" || !strings.HasSuffix(user, "Question: What is alpha?") {
		t.Errorf("messages = %+v", res.Messages)
	}
}

func TestPackBudgetErrors(t *testing.T) {
	ps := []Passage{{Text: "some text"}}
	if _, err := Pack(ps, PackOptions{Question: "q", Budget: 20, MaxTokens: 30}); !errors.Is(err, ErrContextFull) {
		t.Errorf("tiny budget: err = %v, want ErrContextFull", err)
	}
	if _, err := Pack(ps, PackOptions{Question: "q", Budget: 0}); err == nil {
		t.Error("zero budget accepted")
	}
	if _, err := Pack(ps, PackOptions{Question: "q", Budget: 100, MaxTokens: -1}); err == nil {
		t.Error("negative max tokens accepted")
	}
	if _, err := Pack(ps, PackOptions{Question: "q", Budget: 100, Counter: failingCounter{}}); err == nil || !strings.Contains(err.Error(), "tokenizer broke") {
		t.Errorf("counter failure: err = %v", err)
	}
}

func TestPackWithTemplateCountsRenderedPrompt(t *testing.T) {
	tmpl, _ := LookupTemplate("llama3")
	var ps []Passage
	for i := range 12 {
		ps = append(ps, Passage{Rank: i, DocID: string(rune('a' + i)), Text: words(15+i, "word")})
	}
	for _, budget := range []int{230, 300, 600} {
		res, err := Pack(ps, PackOptions{SystemPrompt: DefaultSystemPrompt, Question: "why?", Budget: budget, MaxTokens: 40, Template: tmpl})
		if err != nil {
			t.Fatal(err)
		}
		whole := EstimateTokens(tmpl.Render(res.Messages, true))
		if whole != res.PromptTokens || whole+40 > budget {
			t.Errorf("budget %d: rendered prompt %d tokens (reported %d) + 40 exceeds it", budget, whole, res.PromptTokens)
		}
		if budget == 230 && len(res.Dropped) == 0 || budget == 600 && len(res.Passages) == 0 {
			t.Errorf("budget %d: kept %d, dropped %d: the budgets no longer exercise packing", budget, len(res.Passages), len(res.Dropped))
		}
		if len(res.Passages)+len(res.Dropped) != len(ps) {
			t.Errorf("budget %d: %d kept + %d dropped != %d", budget, len(res.Passages), len(res.Dropped), len(ps))
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"a", 2},             // 1 word → ceil(4/3)
		{"one two three", 4}, // 13 chars → 4; 3 words → 4
		{"supercalifragilisticexpialidocious", 10}, // 34 chars
	}
	for _, tt := range tests {
		if got := EstimateTokens(tt.text); got != tt.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}
